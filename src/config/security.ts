/**
 * The security fields of `pylon.yaml` and the rule that an invalid edit touching one fails
 * closed (ARCHITECTURE.md §3.5). An invalid edit normally leaves the last good config serving;
 * for these fields that would be a hole: a `secret` added before its variable exists would keep
 * an unsigned webhook open, a user removed from `allowed_users` would keep their access.
 *
 * Pure: the caller reads the files.
 *
 * @module
 */

import type { ConfigError } from "../errors.ts";
import { expandReferences } from "./env.ts";
import { closest } from "./issues.ts";
import { type RawPylon, rawValueAt } from "./raw.ts";
import { PYLON_KEY_HOMES, PYLON_TOP_KEYS } from "./schema.ts";

/**
 * Dotted paths of the security fields: the webhook's secret, signature settings and `when`
 * filter, and `allowed_users` and `allowed_repos` wherever the schema has them (each chat
 * channel, GitHub, the workspace). Derived from the schema so a new `signature_*`,
 * `allowed_users` or `allowed_repos` is covered by itself.
 */
export const SECURITY_FIELDS: readonly string[] = [
  "trigger.secret",
  ...Object.keys(PYLON_KEY_HOMES).filter((k) => k.startsWith("signature_")).map((k) =>
    `trigger.${k}`
  ),
  "trigger.when",
  ...(PYLON_KEY_HOMES.allowed_users ?? []).map((home) => `${home}.allowed_users`),
  ...(PYLON_KEY_HOMES.allowed_repos ?? []).map((home) => `${home}.allowed_repos`),
  // What the agent may do: a broken edit must not fall back to fewer restrictions.
  "agent.allowed_tools",
  "agent.disallowed_tools",
];

const SECURITY_LEAVES = [...new Set(SECURITY_FIELDS.map((f) => f.slice(f.lastIndexOf(".") + 1)))];
const SECTIONS = new Set(["", ...Object.values(PYLON_KEY_HOMES).flat()]);
const SECURITY_WORD_REGEXP = /secret|signature|allowed/i;

/** What a config says in its security fields, to tell whether an edit changed them. */
export interface SecurityFingerprint {
  /** Each field's raw value as written (JSON), `${VAR}` references unexpanded. */
  raw: Record<string, string>;
  /** Each field's value with references expanded; `undefined` when that cannot be known. */
  resolved: Record<string, string | undefined>;
}

/** Why a failed edit must fail closed. */
export interface SecurityTouch {
  /** The security field, e.g. `trigger.secret`. */
  field: string;
  line: number | undefined;
  /** One sentence for the log. */
  reason: string;
}

/**
 * The security fields of a raw file. `lookup` resolves `${VAR}`; without one (the `.env` does
 * not parse), a field that holds a reference has no known value.
 */
export function securityFingerprint(
  raw: RawPylon,
  lookup: ((name: string) => string | undefined) | undefined,
): SecurityFingerprint {
  const fp: SecurityFingerprint = { raw: {}, resolved: {} };
  for (const field of SECURITY_FIELDS) {
    const value = rawValueAt(raw.tree, field);
    fp.raw[field] = JSON.stringify(value) ?? "undefined";
    fp.resolved[field] = resolve(value, lookup);
  }
  return fp;
}

/**
 * Whether a failed load of a pylon that has a last good config touches a security field:
 * an issue at or under one (or at an unknown key that looks like one: `secrett`, or `secret`
 * written outside `trigger`), or a field whose value, written or resolved, differs from the
 * last good config's.
 *
 * @param error why the edit does not load
 * @param next the edited file read leniently; `undefined` when it does not parse
 * @param lookup resolves `${VAR}` as the edit would; `undefined` when the `.env` does not parse
 * @param last the fingerprint of the last good config
 * @returns why it must fail closed, or `undefined` when the last good config may keep serving
 */
export function securityTouch(
  error: ConfigError,
  next: RawPylon | undefined,
  lookup: ((name: string) => string | undefined) | undefined,
  last: SecurityFingerprint,
): SecurityTouch | undefined {
  if (!next) {
    // The file does not parse, so nothing in it can be compared with the last good config:
    // fail closed rather than guess that its security fields are unchanged.
    const issue = error.issues[0];
    return {
      field: "(the whole file)",
      line: issue?.line,
      reason: "the file does not parse, so its security fields cannot be checked",
    };
  }
  for (const issue of error.issues) {
    const field = securityFieldOf(issue.keyPath);
    if (field) {
      return { field, line: issue.line, reason: `${issue.keyPath}: ${issue.message}` };
    }
  }
  const now = securityFingerprint(next, lookup);
  for (const field of SECURITY_FIELDS) {
    const written = now.raw[field] !== last.raw[field];
    if (!written && now.resolved[field] === last.resolved[field]) continue;
    return {
      field,
      line: next.finder.valueAt(field.split("."))?.line,
      reason: written
        ? `${field} was edited, but the file does not load`
        : `the value of ${field} cannot be resolved as before (check the pylon's .env)`,
    };
  }
  return undefined;
}

/** The security field a reported key path is at or under, or looks like. */
export function securityFieldOf(keyPath: string): string | undefined {
  for (const field of SECURITY_FIELDS) {
    if (keyPath === field || keyPath.startsWith(`${field}.`) || keyPath.startsWith(`${field}[`)) {
      return field;
    }
  }
  // A key the schema does not know where it stands, spelled like a security field: the user
  // meant one, and the last good config may lack it.
  const dot = keyPath.lastIndexOf(".");
  const parent = dot < 0 ? "" : keyPath.slice(0, dot);
  const leaf = keyPath.slice(dot + 1);
  if (!SECTIONS.has(parent) || leaf === "" || /[[\]]/.test(leaf)) return undefined;
  const known = parent === ""
    ? PYLON_TOP_KEYS.includes(leaf)
    : (PYLON_KEY_HOMES[leaf] ?? []).includes(parent);
  if (known) return undefined;
  const like = closest(leaf, SECURITY_LEAVES);
  if (!like) return SECURITY_WORD_REGEXP.test(leaf) ? keyPath : undefined;
  return SECURITY_FIELDS.find((f) => f === `${parent}.${like}`) ??
    SECURITY_FIELDS.find((f) => f.endsWith(`.${like}`)) ?? keyPath;
}

/** `value` with every `${VAR}` expanded; `undefined` when a reference cannot be resolved. */
function resolve(
  value: unknown,
  lookup: ((name: string) => string | undefined) | undefined,
): string | undefined {
  let unknown = false;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      if (!v.includes("${")) return v;
      if (!lookup) {
        unknown = true;
        return v;
      }
      const missing: string[] = [];
      const out = expandReferences(v, lookup, missing);
      if (missing.length > 0) unknown = true;
      return out;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object" && !(v instanceof Date)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  const out = walk(value);
  return unknown ? undefined : JSON.stringify(out) ?? "undefined";
}
