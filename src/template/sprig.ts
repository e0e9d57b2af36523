/**
 * The handful of Sprig helpers people know from Helm, with Sprig's argument order (the value
 * last, so they read well in pipelines: `{{ .body.comment.body | lower | contains "@pylon" }}`).
 *
 * @module
 */

import { RE2JS } from "re2js";
import type { GoValue } from "./value.ts";
import type { TemplateFunc } from "./funcs.ts";

/** Sprig's `toString` for the values templates see. */
function str(v: GoValue): string {
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x));
}

/** Sprig's notion of empty (for `default`). */
function empty(v: GoValue): boolean {
  if (v === null || v === false || v === "" || v === 0 || v === 0n) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v).length === 0;
  return false;
}

/** The Sprig helpers, by name. */
export const SPRIG_FUNCS: Record<string, TemplateFunc> = {
  contains: (substr, s) => str(s).includes(str(substr)),
  hasPrefix: (prefix, s) => str(s).startsWith(str(prefix)),
  hasSuffix: (suffix, s) => str(s).endsWith(str(suffix)),
  lower: (s) => str(s).toLowerCase(),
  upper: (s) => str(s).toUpperCase(),
  trim: (s) => str(s).trim(),
  default: (fallback, ...given) => (given.length === 0 || empty(given[0]!) ? fallback : given[0]),
  join: (sep, list) => (Array.isArray(list) ? list.map(str).join(str(sep)) : str(list)),
  // Sprig's split returns a map {_0: …, _1: …}; splitList returns a list.
  split: (sep, s) => Object.fromEntries(str(s).split(str(sep)).map((p, i) => [`_${i}`, p])),
  splitList: (sep, s) => str(s).split(str(sep)),
  toJson: (v) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x)),
  regexMatch: (regex, s) => compileRegex(str(regex)).test(str(s)),
};

/** Longest pattern compiled: a pattern can come from a payload, and compiling is not free. */
export const MAX_REGEX_LENGTH = 16 * 1024;
/** Compiled patterns kept, most recently used last. */
const REGEX_CACHE_SIZE = 64;
const regexCache = new Map<string, RE2JS>();

/**
 * Compiles `pattern` with RE2 semantics, as Sprig's (Go's) regex helpers do: matching takes
 * time linear in the input whatever the pattern, where a JavaScript `RegExp` backtracks
 * (`^(a+)+$` against 28 a's and a `!` took 17 s) and no timer can interrupt it. Go's syntax
 * too: `(?i)` works, lookarounds and backreferences are errors.
 *
 * @throws {Error} when the pattern is invalid or too long
 */
function compileRegex(pattern: string): RE2JS {
  const cached = regexCache.get(pattern);
  if (cached) {
    regexCache.delete(pattern);
    regexCache.set(pattern, cached);
    return cached;
  }
  if (pattern.length > MAX_REGEX_LENGTH) {
    throw new Error(`regular expression is longer than ${MAX_REGEX_LENGTH} characters`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw new Error(
      `invalid regular expression ${JSON.stringify(pattern.slice(0, 200))}: ${
        (e as Error).message
      }`,
    );
  }
  regexCache.set(pattern, re);
  if (regexCache.size > REGEX_CACHE_SIZE) regexCache.delete(regexCache.keys().next().value!);
  return re;
}
