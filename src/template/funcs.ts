/**
 * The builtin functions of Go's `text/template` (`funcs.go`), with Go's error messages.
 * `and`, `or` and `call` are handled by the executor; their entries here only declare arity.
 *
 * Deliberate deviation (ARCHITECTURE.md §3.1): comparisons accept an int against a float64
 * and compare the numbers, where Go reports "incompatible types for comparison".
 *
 * @module
 */

import { SPRIG_FUNCS } from "./sprig.ts";
import {
  htmlEscape,
  jsEscape,
  urlQueryEscape,
  utf8Bytes,
  utf8Decode,
  utf8Length,
} from "./escape.ts";
import { eq, le, lt } from "./compare.ts";
import { sprint, sprintf, sprintln } from "./format.ts";
import { type GoValue, isMap, isTrue, typeName, type Value } from "./value.ts";

/** How an argument is passed: as a `reflect.Value`, an `interface{}`, or a `string`. */
export type ParamKind = "value" | "any" | "string";

/** A callable as the executor sees it: parameter kinds, then the implementation. */
export interface FuncSpec {
  params: readonly ParamKind[];
  /** Kind of the variadic arguments, when the function is variadic. */
  variadic: ParamKind | null;
  /** True for Go's builtins, which `and`, `or` and `call` special-case. */
  builtin: boolean;
  /**
   * Receives evaluated arguments, and for each whether it was read out of a map or array (an
   * `interface {}` in Go, which `slice` refuses as an index); throws an `Error` whose message
   * follows "error calling X: ".
   */
  call(args: Value[], ifaces: readonly boolean[]): Value;
}

function builtin(
  params: readonly ParamKind[],
  variadic: ParamKind | null,
  call: (args: Value[], ifaces: readonly boolean[]) => Value,
): FuncSpec {
  return { params, variadic, builtin: true, call };
}

/** Go's `indirectInterface`: a nil interface becomes the invalid value. */
function concrete(v: Value): Value {
  return v === null ? undefined : v;
}

function anyArgs(args: Value[]): GoValue[] {
  return args.map((a) => a ?? null);
}

function evalArgs(args: Value[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return sprint(args.map((a) => a ?? "<no value>"));
}

function indexArg(index: Value, cap: number, iface = false): number {
  if (index === undefined) throw new Error("cannot index slice/array with nil");
  if (iface || typeof index !== "bigint") {
    throw new Error(
      `cannot index slice/array with type ${iface ? "interface {}" : typeName(index)}`,
    );
  }
  if (index < 0n || index > BigInt(cap)) throw new Error(`index out of range: ${index}`);
  return Number(index);
}

function index(args: Value[]): Value {
  let item = concrete(args[0]);
  if (item === undefined) throw new Error("index of untyped nil");
  for (const raw of args.slice(1)) {
    const idx = concrete(raw);
    if (item === null) throw new Error("index of nil pointer");
    if (typeof item === "string") {
      const bytes = utf8Bytes(item);
      const x = indexArg(idx, bytes.length);
      if (x === bytes.length) throw new Error("reflect: string index out of range");
      item = BigInt(bytes[x]!);
    } else if (Array.isArray(item)) {
      const x = indexArg(idx, item.length);
      if (x === item.length) throw new Error("reflect: slice index out of range");
      item = item[x] ?? null;
    } else if (isMap(item)) {
      if (idx === undefined) throw new Error("value is nil; should be of type string");
      if (typeof idx !== "string") {
        throw new Error(`value has type ${typeName(idx)}; should be string`);
      }
      item = Object.hasOwn(item, idx) ? item[idx] ?? null : null;
    } else {
      throw new Error(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function slice(args: Value[], ifaces: readonly boolean[]): Value {
  const item = concrete(args[0]);
  if (item === undefined) throw new Error("slice of untyped nil");
  const indexes = args.slice(1);
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  let len: number;
  if (typeof item === "string") {
    if (indexes.length === 3) throw new Error("cannot 3-index slice a string");
    len = utf8Length(item);
  } else if (Array.isArray(item)) {
    len = item.length;
  } else {
    throw new Error(`can't slice item of type ${typeName(item)}`);
  }
  const idx = [0, len, len];
  indexes.forEach((x, i) => idx[i] = indexArg(x, len, ifaces[i + 1] === true || x === null));
  if (idx[0]! > idx[1]!) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) {
    throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  }
  if (typeof item === "string") return utf8Decode(utf8Bytes(item).subarray(idx[0], idx[1]));
  return item.slice(idx[0], idx[1]);
}

function length(args: Value[]): Value {
  const item = args[0];
  if (item === null) throw new Error("len of nil pointer");
  if (item === undefined) throw new Error("reflect: call of reflect.Value.Type on zero Value");
  if (typeof item === "string") return BigInt(utf8Length(item));
  if (Array.isArray(item)) return BigInt(item.length);
  if (isMap(item)) return BigInt(Object.keys(item).length);
  throw new Error(`len of type ${typeName(item)}`);
}

const NO_CALL = (): never => {
  throw new Error("unreachable");
};

/** Go's builtin function table. */
export const BUILTINS: ReadonlyMap<string, FuncSpec> = new Map<string, FuncSpec>([
  ["and", builtin(["value"], "value", NO_CALL)],
  ["call", builtin(["value"], "value", NO_CALL)],
  ["html", builtin([], "any", (a) => htmlEscape(evalArgs(a)))],
  ["index", builtin(["value"], "value", index)],
  ["slice", builtin(["value"], "value", slice)],
  ["js", builtin([], "any", (a) => jsEscape(evalArgs(a)))],
  ["len", builtin(["value"], null, length)],
  ["not", builtin(["value"], null, (a) => !isTrue(concrete(a[0])))],
  ["or", builtin(["value"], "value", NO_CALL)],
  ["print", builtin([], "any", (a) => sprint(anyArgs(a)))],
  ["printf", builtin(["string"], "any", (a) => sprintf(a[0] as string, anyArgs(a.slice(1))))],
  ["println", builtin([], "any", (a) => sprintln(anyArgs(a)))],
  ["urlquery", builtin([], "any", (a) => urlQueryEscape(evalArgs(a)))],
  ["eq", builtin(["value"], "value", eq)],
  ["ge", builtin(["value", "value"], null, (a) => !lt(a))],
  ["gt", builtin(["value", "value"], null, (a) => !le(a))],
  ["le", builtin(["value", "value"], null, le)],
  ["lt", builtin(["value", "value"], null, lt)],
  ["ne", builtin(["value", "value"], null, (a) => !eq(a))],
]);

/**
 * A function callable from templates. Arguments arrive evaluated, as Go would pass them to an
 * `interface{}` parameter: `string`, `number` (a JSON number or float literal, Go float64),
 * `bigint` (an integer literal, `len` or a range index, Go int), `boolean`, `null` (nil or a
 * missing value), arrays, plain objects, or a complex literal (`{ re, im }`). Throwing an `Error` stops execution
 * with `error calling NAME: MESSAGE`. Returning `undefined` returns nil.
 */
export type TemplateFunc = (...args: GoValue[]) => unknown;

const IDENTIFIER_REGEXP = /^[\p{L}_][\p{L}\p{Nd}_]*$/u;

function toGoValue(v: unknown): GoValue {
  switch (typeof v) {
    case "undefined":
      return null;
    case "string":
    case "number":
    case "bigint":
    case "boolean":
      return v;
    case "object":
      return v as GoValue;
  }
  throw new Error(`function returned an unsupported ${typeof v}`);
}

function userFunc(fn: TemplateFunc): FuncSpec {
  return {
    params: [],
    variadic: "any",
    builtin: false,
    call: (args: Value[]) => toGoValue(fn(...args.map((a) => a ?? null))),
  };
}

/** The builtins with `funcs` added (or replacing builtins of the same name, as in Go). */
export function funcTable(
  funcs: Record<string, TemplateFunc> | undefined,
): Map<string, FuncSpec> {
  const table = new Map(BUILTINS);
  for (const [name, fn] of Object.entries(SPRIG_FUNCS)) table.set(name, userFunc(fn));
  for (const [name, fn] of Object.entries(funcs ?? {})) {
    if (!IDENTIFIER_REGEXP.test(name)) {
      throw new TypeError(`Cannot add template function "${name}": not a valid identifier`);
    }
    table.set(name, userFunc(fn));
  }
  return table;
}
