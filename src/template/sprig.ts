/**
 * The handful of Sprig helpers people know from Helm, with Sprig's argument order (the value
 * last, so they read well in pipelines: `{{ .body.comment.body | lower | contains "@pylon" }}`).
 *
 * @module
 */

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
  regexMatch: (regex, s) => {
    try {
      return new RegExp(str(regex)).test(str(s));
    } catch (e) {
      throw new Error(
        `invalid regular expression ${JSON.stringify(str(regex))}: ${(e as Error).message}`,
      );
    }
  },
};
