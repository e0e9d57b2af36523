/**
 * The value model of the template engine: what Go's `json.Unmarshal` into `any` produces, plus
 * the few Go types templates can create themselves.
 *
 * - `number` is a Go `float64` (every JSON number, and float literals such as `1.5`),
 * - `bigint` is a Go `int` (integer literals, character literals, `len`, range indexes),
 * - `GoComplex` is a Go `complex128` (imaginary literals such as `2i`),
 * - `null` is a nil interface, arrays are `[]interface {}`, plain objects are
 *   `map[string]interface {}`.
 *
 * Inside the executor `undefined` is Go's invalid `reflect.Value` (a missing map key).
 *
 * @module
 */

import { compareStrings } from "./escape.ts";

/** A Go `complex128`. */
export class GoComplex {
  constructor(readonly re: number, readonly im: number) {}
}

/** A JSON object seen as a Go `map[string]interface {}`. */
export interface GoMap {
  [key: string]: GoValue;
}

/** Any value a template can see or produce. */
export type GoValue = null | boolean | number | bigint | string | GoComplex | GoValue[] | GoMap;

/** A value during execution; `undefined` is Go's invalid (missing) value. */
export type Value = GoValue | undefined;

/** Reports whether `v` is a map (a plain JSON object). */
export function isMap(v: unknown): v is GoMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof GoComplex);
}

/** Go's `reflect.Type.String()` of a value's dynamic type. */
export function typeName(v: Value): string {
  switch (typeof v) {
    case "string":
      return "string";
    case "number":
      return "float64";
    case "bigint":
      return "int";
    case "boolean":
      return "bool";
  }
  if (v === null || v === undefined) return "interface {}";
  if (v instanceof GoComplex) return "complex128";
  return Array.isArray(v) ? "[]interface {}" : "map[string]interface {}";
}

/** Go's `isTrue`: false for zero numbers, empty strings, arrays and maps, false and nil. */
export function isTrue(v: Value): boolean {
  switch (typeof v) {
    case "string":
      return v.length > 0;
    case "number":
      return v !== 0;
    case "bigint":
      return v !== 0n;
    case "boolean":
      return v;
  }
  if (v === null || v === undefined) return false;
  if (v instanceof GoComplex) return v.re !== 0 || v.im !== 0;
  if (Array.isArray(v)) return v.length > 0;
  for (const key in v) if (Object.hasOwn(v, key)) return true;
  return false;
}

/** The keys of a map in Go's order (byte-wise). */
export function sortedKeys(m: GoMap): string[] {
  return Object.keys(m).sort(compareStrings);
}

/** A float64 the way JSON prints it (pylon deviation from Go's `%v`, which prints `1e+06`). */
export function jsonNumber(n: number): string {
  return Object.is(n, -0) ? "-0" : String(n);
}

/** Compact JSON with keys in Go's order: how pylon prints maps and arrays (a deviation). */
export function toJson(v: Value): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return Number.isFinite(v) ? jsonNumber(v) : "null";
    case "bigint":
      return String(v);
    case "boolean":
      return String(v);
  }
  if (v === null || v === undefined) return "null";
  if (v instanceof GoComplex) return JSON.stringify(`(${v.re}+${v.im}i)`);
  if (Array.isArray(v)) return `[${v.map(toJson).join(",")}]`;
  const parts: string[] = [];
  for (const key of sortedKeys(v)) parts.push(`${JSON.stringify(key)}:${toJson(v[key])}`);
  return `{${parts.join(",")}}`;
}
