/**
 * Turns problems found in a parsed YAML file into {@linkcode ConfigIssue}s that point at a line
 * and column, and formats them for people.
 *
 * @module
 */

import { type Document, isMap, isPair, isScalar, LineCounter, type Node } from "yaml";
import type { ConfigIssue } from "../errors.ts";

/** Finds where a key path lives in a YAML document; for a missing key, where its parent is. */
export class PositionFinder {
  readonly #doc: Document;
  readonly #lines: LineCounter;

  constructor(doc: Document, lines: LineCounter) {
    this.#doc = doc;
    this.#lines = lines;
  }

  /** Position of the value at `path` (or of the nearest existing parent). */
  valueAt(path: readonly PropertyKey[]): { line: number; column: number } | undefined {
    for (let n = path.length; n >= 0; n--) {
      const node = this.#doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
      if (node && typeof node === "object" && "range" in node && node.range) {
        return this.#pos(node.range[0]);
      }
    }
    return undefined;
  }

  /** Position of the key `key` inside the map at `parent`. */
  keyAt(parent: readonly PropertyKey[], key: string): { line: number; column: number } | undefined {
    const map = parent.length === 0
      ? this.#doc.contents
      : this.#doc.getIn(parent as unknown[], true);
    if (isMap(map)) {
      for (const pair of map.items) {
        if (
          isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key && pair.key.range
        ) {
          return this.#pos(pair.key.range[0]);
        }
      }
    }
    return this.valueAt(parent);
  }

  /** Line of the offset, 1-based. */
  lineOf(offset: number): { line: number; column: number } {
    return this.#pos(offset);
  }

  #pos(offset: number): { line: number; column: number } {
    const { line, col } = this.#lines.linePos(offset);
    return { line, column: col };
  }
}

/** Dotted form of a key path: `agent.env.FOO`, `channel.telegram.allowed_users[0]`. */
export function keyPathString(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Quotes a value for a message, shortened; never used for values that came from secrets. */
export function showValue(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? "null";
  return text.length > 60 ? text.slice(0, 57) + "…" : text;
}

/** One issue as a line: `file:line:col: field: message`. */
export function formatIssue(file: string, issue: ConfigIssue): string {
  const where = issue.line === undefined
    ? file
    : `${file}:${issue.line}${issue.column === undefined ? "" : `:${issue.column}`}`;
  const field = issue.keyPath === "" ? "" : `${issue.keyPath}: `;
  return `${where}: ${field}${issue.message}`;
}

/** The closest candidate to `word` by edit distance, if it is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  // Optimal string alignment: Levenshtein plus adjacent transpositions ("sceret" → "secret").
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2]! + 1);
      }
      row[j] = d;
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}
