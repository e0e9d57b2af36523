/**
 * The message template builder (`a` on a pylon, as in the reference): the newest job's payload
 * as groups of fields with sample values; the user checks fields, and the builder writes
 * `channel.message` as labelled template lines (`Title: {{ .body.issue.title }}`).
 *
 * Pure: the payload comes in as JSON, the template goes out as text; the controller reads the
 * job and writes the file.
 *
 * Design notes: the payload is a stranger's, so keys and samples are shown on one line with
 * control characters dropped, and a key that is not a plain identifier (`user-name`, `0`, `"}}`)
 * is reached with `index` and a quoted string (`{{ index .body "user-name" }}`), which is
 * always a valid template; the generated text is parsed before it is offered. Objects nest up to
 * {@linkcode MAX_DEPTH} levels and a list contributes its first item, so a huge payload gives a
 * bounded list ({@linkcode MAX_FIELDS}).
 *
 * @module
 */

import { stripAnsi } from "../log/mod.ts";
import { parseTemplate, renderTemplate } from "../template/mod.ts";

/** One field a template can use. */
export interface BuilderField {
  /** Its path from the payload's root (`["issue", "title"]`, `["items", 0, "id"]`). */
  path: (string | number)[];
  /** The template expression (`.body.issue.title`). */
  expr: string;
  /** The label of its template line (`Title`). */
  label: string;
  /** A one-line sample of its value. */
  sample: string;
}

/** Fields under one top-level key (or `body` for the top-level values themselves). */
export interface BuilderGroup {
  name: string;
  fields: BuilderField[];
}

/** The builder's state in the dashboard. */
export interface Builder {
  pylon: string;
  /** The job whose payload is shown (null while it loads). */
  job: string | null;
  groups: BuilderGroup[];
  /** Names of the expanded groups. */
  open: string[];
  /** Expressions of the checked fields, in the order they were checked. */
  checked: string[];
  /** The cursor's row (see {@linkcode builderRows}). */
  index: number;
  /** Why there is nothing to show (no payload, not JSON…). */
  note: string | null;
  /** The payload, for the preview. */
  payload: unknown;
}

/** One row of the builder's list. */
export type BuilderRow =
  | { kind: "group"; group: BuilderGroup; open: boolean }
  | { kind: "field"; field: BuilderField; checked: boolean };

/** Deepest nesting followed into objects and lists. */
export const MAX_DEPTH = 4;
/** Most fields listed. */
export const MAX_FIELDS = 300;
/** Longest sample shown (characters). */
const SAMPLE_CHARS = 60;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The template expression for a path under `.body`. */
export function expressionOf(path: readonly (string | number)[]): string {
  if (path.every((p) => typeof p === "string" && IDENT.test(p))) return `.body.${path.join(".")}`;
  const args = path.map((p) => typeof p === "number" ? String(p) : JSON.stringify(p));
  return `index .body ${args.join(" ")}`;
}

/** `issue_title` → `Issue title`; a number or odd key keeps its text. */
export function labelOf(path: readonly (string | number)[]): string {
  const last = [...path].reverse().find((p) => typeof p === "string") ?? "Item";
  const words = clean(String(last)).replace(/[_\-.]+/g, " ").trim() || "Field";
  return words[0]!.toUpperCase() + words.slice(1);
}

/** Escape sequences, control characters and line breaks out: a stranger's text on one line. */
function clean(text: string): string {
  // deno-lint-ignore no-control-regex
  return stripAnsi(text).replace(/[\x00-\x1f\x7f-\x9f]+/g, " ");
}

function sampleOf(value: unknown): string {
  // A string loses its escape sequences (a stranger's colour codes or titles are noise here).
  const text = typeof value === "string"
    ? JSON.stringify(stripAnsi(value))
    : JSON.stringify(value) ?? "null";
  const one = clean(text);
  return one.length > SAMPLE_CHARS ? one.slice(0, SAMPLE_CHARS - 1) + "…" : one;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Whether `expr` parses as a template action (a key pylon's parser would refuse is left out). */
function parses(expr: string): boolean {
  try {
    parseTemplate("channel.message", `{{ ${expr} }}`);
    return true;
  } catch {
    return false;
  }
}

/** The leaf fields under `value` at `path`, depth-first, at most `room`. */
function leaves(value: unknown, path: (string | number)[], room: number): BuilderField[] {
  const out: BuilderField[] = [];
  const visit = (v: unknown, p: (string | number)[]) => {
    if (out.length >= room) return;
    const nested = isPlainObject(v) ? Object.entries(v) : Array.isArray(v) && v.length > 0 &&
        (isPlainObject(v[0]) || Array.isArray(v[0]))
      ? [[0, v[0]] as const]
      : null;
    if (nested && p.length < MAX_DEPTH) {
      for (const [k, child] of nested) visit(child, [...p, k]);
      return;
    }
    const expr = expressionOf(p);
    if (!parses(expr)) return;
    out.push({ path: p, expr, label: labelOf(p), sample: sampleOf(v) });
  };
  visit(value, path);
  return out;
}

/**
 * The payload's fields, grouped by top-level key: an object or list key is a group of its
 * leaves; the plain top-level values share the group `body`.
 */
export function payloadGroups(payload: unknown): BuilderGroup[] {
  if (!isPlainObject(payload)) {
    return payload === undefined || payload === null ? [] : [{
      name: "body",
      fields: [{ path: [], expr: ".body", label: "Body", sample: sampleOf(payload) }],
    }];
  }
  const top: BuilderField[] = [];
  const groups: BuilderGroup[] = [];
  let count = 0;
  for (const [key, value] of Object.entries(payload)) {
    if (count >= MAX_FIELDS) break;
    const fields = leaves(value, [key], MAX_FIELDS - count);
    count += fields.length;
    if (isPlainObject(value) || Array.isArray(value) && fields.some((f) => f.path.length > 1)) {
      if (fields.length > 0) groups.push({ name: clean(key), fields });
    } else {
      top.push(...fields);
    }
  }
  return top.length > 0 ? [{ name: "body", fields: top }, ...groups] : groups;
}

/** A builder for `pylon` with the payload of `job` (groups closed, except a lone one). */
export function newBuilder(pylon: string, job: string | null, payload: unknown): Builder {
  const groups = payloadGroups(payload);
  const note = job === null
    ? "loading the newest job's payload…"
    : groups.length === 0
    ? "this job's payload has no fields to use"
    : null;
  return {
    pylon,
    job,
    groups,
    open: groups.length === 1 ? [groups[0]!.name] : [],
    checked: [],
    index: 0,
    note,
    payload,
  };
}

/** The rows the list shows: each group, and its fields when it is open. */
export function builderRows(b: Builder): BuilderRow[] {
  const rows: BuilderRow[] = [];
  for (const group of b.groups) {
    const open = b.open.includes(group.name);
    rows.push({ kind: "group", group, open });
    if (!open) continue;
    for (const field of group.fields) {
      rows.push({ kind: "field", field, checked: b.checked.includes(field.expr) });
    }
  }
  return rows;
}

/** Space on the cursor's row: opens/closes a group, checks/unchecks a field. */
export function toggleRow(b: Builder): Builder {
  const row = builderRows(b)[b.index];
  if (!row) return b;
  if (row.kind === "group") {
    const name = row.group.name;
    return { ...b, open: row.open ? b.open.filter((n) => n !== name) : [...b.open, name] };
  }
  const expr = row.field.expr;
  return {
    ...b,
    checked: row.checked ? b.checked.filter((e) => e !== expr) : [...b.checked, expr],
  };
}

/** Moves the cursor by `delta` rows, within the list. */
export function moveRow(b: Builder, delta: number): Builder {
  const last = builderRows(b).length - 1;
  return { ...b, index: Math.max(0, Math.min(last, b.index + delta)) };
}

/** The template the checked fields make: one `Label: {{ expr }}` line each, in check order. */
export function builderTemplate(b: Builder): string {
  const byExpr = new Map(b.groups.flatMap((g) => g.fields).map((f) => [f.expr, f]));
  return b.checked
    .map((e) => byExpr.get(e))
    .filter((f) => f !== undefined)
    .map((f) => `${f.label}: {{ ${f.expr} }}`)
    .join("\n");
}

/**
 * What the template says for the builder's payload (as a channel would show it), or why it
 * cannot be rendered; one entry per line (the layout drops escape sequences, as everywhere).
 */
export function builderPreview(b: Builder): string[] {
  const template = builderTemplate(b);
  if (!template) return [];
  try {
    return renderTemplate("channel.message", template, { body: b.payload, headers: {} })
      .split("\n");
  } catch (e) {
    return [`cannot render: ${e instanceof Error ? e.message : String(e)}`];
  }
}
