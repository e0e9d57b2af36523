/**
 * A `pylon.yaml` read without its schema, for the pylons that do not load: the daemon still
 * wants to know which webhook path such a file claims (to answer 503 there instead of 404) and
 * what its security fields say (to decide whether a failed edit may keep the last good config).
 *
 * Pure: the caller reads the file.
 *
 * @module
 */

import { LineCounter, parseDocument } from "yaml";
import { PositionFinder } from "./issues.ts";
import { normalizeWebhookPath } from "./schema.ts";

/** A YAML mapping read leniently, with positions. */
export interface RawPylon {
  /** The file as plain data; no defaults, no `${VAR}` expansion, no validation. */
  tree: Record<string, unknown>;
  /** Where a key path's value is (or its nearest existing parent). */
  finder: PositionFinder;
}

/**
 * Parses `text` as YAML without checking it against the schema.
 *
 * @returns `undefined` when the text is not YAML, or not a mapping at its top level
 */
export function readRawPylon(text: string): RawPylon | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) return undefined;
  let tree: unknown;
  try {
    tree = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch {
    return undefined; // an alias bomb or a broken anchor: not readable enough to tell
  }
  if (typeof tree !== "object" || tree === null || Array.isArray(tree)) return undefined;
  return { tree: tree as Record<string, unknown>, finder: new PositionFinder(doc, lines) };
}

/** The value at a dotted key path (`trigger.path`), or `undefined`. */
export function rawValueAt(tree: unknown, keyPath: string): unknown {
  let cur = tree;
  for (const part of keyPath.split(".")) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * The webhook path a raw file claims, normalised as the daemon looks paths up (no trailing
 * slash); `undefined` unless `trigger.path` is text starting with `/`.
 */
export function rawTriggerPath(raw: RawPylon | undefined): string | undefined {
  const path = rawValueAt(raw?.tree, "trigger.path");
  if (typeof path !== "string" || !path.startsWith("/")) return undefined;
  return normalizeWebhookPath(path);
}
