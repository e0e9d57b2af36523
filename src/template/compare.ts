/**
 * Go's comparison builtins `eq`, `ne`, `lt`, `le`, `gt`, `ge` (`text/template/funcs.go`), with
 * Go 1.25's wording ("incompatible types for comparison: string and int").
 *
 * Deliberate deviation (ARCHITECTURE.md §3.1): an int and a float64 compare as numbers, where
 * Go reports "incompatible types for comparison". JSON numbers are float64 while literals such
 * as `1` are int, so Go's rule would make `eq .body.count 1` an error.
 *
 * @module
 */

import { compareStrings } from "./escape.ts";
import { sprintf } from "./format.ts";
import { GoComplex, type GoValue, typeName, type Value } from "./value.ts";

/** Go's `indirectInterface`: a nil interface becomes the invalid value. */
function concrete(v: Value): Value {
  return v === null ? undefined : v;
}

type Kind = "invalid" | "bool" | "complex" | "int" | "float" | "string";

function basicKind(v: Value): Kind {
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return "float";
    case "string":
      return "string";
  }
  return v instanceof GoComplex ? "complex" : "invalid";
}

function isNumeric(k: Kind): boolean {
  return k === "int" || k === "float";
}

/** Compares an int and/or a float64 exactly (the cross-kind case is pylon's deviation). */
function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
  const [f, i, sign] = typeof a === "number" ? [a, b as bigint, 1] : [b as number, a, -1];
  if (Number.isNaN(f)) return Number.NaN;
  if (!Number.isFinite(f)) return f > 0 ? sign : -sign;
  const fi = BigInt(Math.trunc(f));
  if (fi !== i) return fi > i ? sign : -sign;
  const frac = f - Math.trunc(f);
  return frac > 0 ? sign : frac < 0 ? -sign : 0;
}

function eqPair(a: Value, b: Value): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 !== k2) {
    if (isNumeric(k1) && isNumeric(k2)) {
      return compareNumbers(a as number | bigint, b as number | bigint) === 0;
    }
    if (a !== undefined && b !== undefined) {
      throw new Error(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
    }
    return false;
  }
  switch (k1) {
    case "complex":
      return (a as GoComplex).re === (b as GoComplex).re &&
        (a as GoComplex).im === (b as GoComplex).im;
    case "invalid":
      break;
    default:
      return a === b;
  }
  const aKind = a === undefined ? "invalid" : Array.isArray(a) ? "slice" : "map";
  const bKind = b === undefined ? "invalid" : Array.isArray(b) ? "slice" : "map";
  if (aKind !== bKind && aKind !== "invalid" && bKind !== "invalid") {
    throw new Error(sprintf("non-comparable types %s: %v, %s: %v", [
      a as GoValue,
      typeName(a),
      typeName(b),
      b as GoValue,
    ]));
  }
  if (a === undefined || b === undefined) return a === b;
  throw new Error(sprintf("non-comparable type %s: %v", [b, typeName(b)]));
}

/** Go's `eq`: whether the first argument equals any of the others. */
export function eq(args: Value[]): boolean {
  const a = concrete(args[0]);
  if (args.length < 2) throw new Error("missing argument for comparison");
  return args.slice(1).some((b) => eqPair(a, concrete(b)));
}

/** Go's `lt`. */
export function lt(args: Value[]): boolean {
  const a = concrete(args[0]);
  const b = concrete(args[1]);
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === "invalid" || k2 === "invalid") throw new Error("invalid type for comparison");
  if (k1 !== k2) {
    if (isNumeric(k1) && isNumeric(k2)) {
      return compareNumbers(a as number | bigint, b as number | bigint) < 0;
    }
    throw new Error(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
  }
  switch (k1) {
    case "bool":
    case "complex":
      throw new Error("invalid type for comparison");
    case "string":
      return compareStrings(a as string, b as string) < 0;
    default:
      return (a as number | bigint) < (b as number | bigint);
  }
}

/** Go's `le`: `lt` or `eq`. */
export function le(args: Value[]): boolean {
  return lt(args) || eq(args);
}
