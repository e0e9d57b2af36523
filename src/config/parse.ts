/**
 * Parses one YAML config file against a zod schema, expanding `${VAR}` references first, and
 * reports every problem at once with its line and column.
 *
 * Pure: the caller reads the file and supplies the variable lookup, so this is tested without a
 * file system.
 *
 * @module
 */

import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import type { ConfigIssue } from "../errors.ts";
import { expandReferences } from "./env.ts";
import { indentationIssues } from "./indent.ts";
import { closest, keyPathString, PositionFinder, showValue } from "./issues.ts";

/** What {@linkcode parseConfigText} needs besides the text. */
export interface ParseOptions<S extends z.ZodType> {
  schema: S;
  /** Looks a variable up for `${NAME}`; `undefined` when unset. */
  lookup(name: string): string | undefined;
  /** Where to tell the user to put a missing variable, e.g. `~/.pylon/.env`. */
  envFileHint: string;
  /** Where each key belongs, for "belongs under" hints. */
  keyHomes: Record<string, string[]>;
}

/** A successfully parsed file, or every problem in it. */
export type ParseResult<T> =
  | { ok: true; value: T; finder: PositionFinder; secretPaths: Set<string> }
  | { ok: false; issues: ConfigIssue[] };

/** Parses and validates the text of a config file. Never throws for bad input. */
export function parseConfigText<S extends z.ZodType>(
  text: string,
  options: ParseOptions<S>,
): ParseResult<z.output<S>> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // One syntax slip often yields several errors at the same spot; the first says it best.
    const seen = new Set<string>();
    const errors = doc.errors.filter((e) => {
      const key = `${e.linePos?.[0]?.line}:${e.linePos?.[0]?.col}`;
      return !seen.has(key) && seen.add(key);
    });
    // A line indented unlike its neighbours is named by its own line, in words; the parser's
    // errors at that line or the one above it say the same less clearly.
    // Only where the parser failed: a plain value may go on over more-indented lines.
    const failed = new Set(errors.map((e) => e.linePos?.[0]?.line));
    const indents = indentationIssues(text).filter((i) =>
      i.line !== undefined && (failed.has(i.line) || failed.has(i.line - 1))
    );
    const near = (line: number | undefined) =>
      line !== undefined && indents.some((i) => i.line === line || i.line === line + 1);
    return {
      ok: false,
      issues: [
        ...indents,
        ...errors.filter((e) => !near(e.linePos?.[0]?.line)).map((e) => {
          const pos = e.linePos?.[0];
          return {
            keyPath: "",
            message: `YAML syntax error: ${firstLine(e.message)}`,
            line: pos?.line,
            column: pos?.col,
            hint: "check indentation and quoting around this line",
          };
        }),
      ].sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
    };
  }
  const finder = new PositionFinder(doc, lines);
  const raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    return {
      ok: false,
      issues: [{
        keyPath: "",
        message: "the file must be a YAML mapping of keys to values",
        line: 1,
      }],
    };
  }

  const issues: ConfigIssue[] = [];
  const secretPaths = new Set<string>();
  const expanded = expandTree(
    raw,
    [],
    (path, missing) => {
      const pos = finder.valueAt(path);
      for (const name of missing) {
        issues.push({
          keyPath: keyPathString(path),
          message:
            `references \${${name}} but it is not set; add ${name}=<value> to ${options.envFileHint}`,
          line: pos?.line,
          column: pos?.column,
        });
      }
    },
    options.lookup,
    secretPaths,
  );

  const result = options.schema.safeParse(expanded);
  if (!result.success) {
    for (const zi of result.error.issues) {
      issues.push(...describeZodIssue(zi, raw, finder, secretPaths, options.keyHomes));
    }
  }
  if (issues.length > 0 || !result.success) {
    return { ok: false, issues: sortIssues(issues) };
  }
  return { ok: true, value: result.data, finder, secretPaths };
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

function expandTree(
  value: unknown,
  path: PropertyKey[],
  onMissing: (path: PropertyKey[], missing: string[]) => void,
  lookup: (name: string) => string | undefined,
  secretPaths: Set<string>,
): unknown {
  if (typeof value === "string") {
    if (!value.includes("${")) return value;
    const missing: string[] = [];
    const out = expandReferences(value, lookup, missing);
    if (out !== value) secretPaths.add(keyPathString(path));
    if (missing.length > 0) onMissing(path, missing);
    return out;
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => expandTree(v, [...path, i], onMissing, lookup, secretPaths));
  }
  if (value && typeof value === "object" && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map((
        [k, v],
      ) => [k, expandTree(v, [...path, k], onMissing, lookup, secretPaths)]),
    );
  }
  return value;
}

function valueAtPath(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

function describeZodIssue(
  zi: z.core.$ZodIssue,
  raw: unknown,
  finder: PositionFinder,
  secretPaths: Set<string>,
  keyHomes: Record<string, string[]>,
): ConfigIssue[] {
  const path = zi.path;
  const keyPath = keyPathString(path);
  if (zi.code === "unrecognized_keys") {
    return zi.keys.map((key) => {
      const pos = finder.keyAt(path, key);
      const here = keyPathString(path);
      return {
        keyPath: here === "" ? key : `${here}.${key}`,
        message: unknownKeyMessage(key, here, raw, path, keyHomes),
        line: pos?.line,
        column: pos?.column,
      };
    });
  }
  const pos = finder.valueAt(path);
  const value = valueAtPath(raw, path);
  const shown = secretPaths.has(keyPath) ? "the value from the environment" : showValue(value);
  let message: string;
  if (value === undefined && (zi.code === "invalid_type" || zi.code === "invalid_union")) {
    message = "is required";
  } else if (zi.code === "invalid_value") {
    message = notSupported(shown, value, zi.values);
  } else if (zi.code === "invalid_type") {
    message = `must be ${article(zi.expected)}, not ${describeType(value)}${
      secretPaths.has(keyPath) ? "" : ` (${shown})`
    }`;
  } else if (zi.code === "too_small" || zi.code === "too_big") {
    const bound = zi.code === "too_small" ? `at least ${zi.minimum}` : `at most ${zi.maximum}`;
    message = zi.origin === "string" || zi.origin === "array"
      ? (zi.code === "too_small" && Number(zi.minimum) === 1 ? "must not be empty" : zi.message)
      : `must be ${bound}, not ${shown}`;
  } else if (zi.code === "invalid_union") {
    const choice = unionChoice(zi, value);
    if (choice) {
      const at = [...path, ...choice.path];
      const p = finder.valueAt(at);
      return [{
        keyPath: keyPathString(at),
        message: choice.message,
        line: p?.line,
        column: p?.column,
      }];
    }
    message = `${shown} has the wrong type`;
  } else {
    message = zi.message;
  }
  return [{ keyPath, message, line: pos?.line, column: pos?.column }];
}

/** "`x` is not supported; use "y" (one of a, b, c)", with the nearest value first. */
function notSupported(shown: string, value: unknown, values: readonly unknown[]): string {
  const allowed = values.map((v) => String(v)).join(", ");
  const guess = typeof value === "string"
    ? closest(value, values.map((v) => String(v)))
    : undefined;
  return `${shown} is not supported; use ${guess ? `"${guess}" (one of ${allowed})` : allowed}`;
}

/**
 * For a union of a choice and a list of choices (`channel.type: stdot` or `[github, telgram]`):
 * the wrong value and the valid ones, instead of "has the wrong type".
 */
function unionChoice(
  zi: z.core.$ZodIssueInvalidUnion,
  value: unknown,
): { path: PropertyKey[]; message: string } | undefined {
  for (const branch of zi.errors) {
    for (const issue of branch) {
      if (issue.code !== "invalid_value") continue;
      const at = issue.path;
      if (typeof value === "string" && at.length === 0) {
        return { path: [], message: notSupported(showValue(value), value, issue.values) };
      }
      if (Array.isArray(value) && at.length === 1 && typeof at[0] === "number") {
        const item = value[at[0]];
        return { path: [at[0]], message: notSupported(showValue(item), item, issue.values) };
      }
    }
  }
  return undefined;
}

function unknownKeyMessage(
  key: string,
  here: string,
  raw: unknown,
  path: readonly PropertyKey[],
  keyHomes: Record<string, string[]>,
): string {
  const level = here === "" ? "at the top level" : `under \`${here}\``;
  const homes = (keyHomes[key] ?? []).filter((h) => h !== here);
  if (homes.length > 0) {
    const list = homes.map((h) => h === "" ? "at the top level" : `under \`${h}\``).join(" or ");
    return `\`${key}\` is not valid ${level}; it belongs ${list}`;
  }
  const siblings = valueAtPath(raw, path);
  const known = Object.entries(keyHomes).filter(([, hs]) => hs.includes(here)).map(([k]) => k);
  const guess = closest(key, known);
  if (guess && !(siblings && typeof siblings === "object" && guess in siblings)) {
    return `unknown key \`${key}\` ${level}; did you mean \`${guess}\`?`;
  }
  return `unknown key \`${key}\` ${level}; check the spelling and indentation`;
}

function article(type: string): string {
  const names: Record<string, string> = {
    int: "a whole number",
    number: "a number",
    string: "text",
    boolean: "true or false",
    array: "a list",
    object: "a mapping of keys to values",
  };
  return names[type] ?? type;
}

function describeType(value: unknown): string {
  if (value === null) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "number") return Number.isInteger(value) ? "a whole number" : "a number";
  if (typeof value === "object") return "a mapping";
  return article(typeof value);
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
