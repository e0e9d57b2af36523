/**
 * Markdown helpers shared by the chat channels (Telegram, Slack): parsing into `marked` tokens,
 * flattening inline tokens to plain text, and splitting long text into chunks that each fit a
 * channel's limit.
 *
 * Each channel converts Markdown with its own renderer over {@linkcode lexMarkdown}'s tokens.
 * {@linkcode splitMarkdown} cuts the Markdown *source* (so every chunk is Markdown a renderer can
 * convert on its own, and the raw chunk is there for a plain-text fallback) and measures each
 * candidate with the caller's function, so the limit applies to the converted text. It cuts
 * between blocks when it can, then between lines, then inside a line; it never cuts a fenced code
 * block open: a block that does not fit is closed at the cut and reopened (same fence and
 * language) in the next chunk.
 *
 * @module
 */

import { Lexer, type Token, type Tokens } from "marked";

export type { Token, Tokens };

/** Options of {@linkcode splitMarkdown}. */
export interface SplitOptions {
  /** Largest measured size of one chunk. */
  maxLength: number;
  /** Size of a Markdown chunk once converted; default: its UTF-16 length. */
  measure?: (markdown: string) => number;
}

/** An open fenced code block while walking lines. */
interface Fence {
  /** Indentation and `>` quote markers before the fence. */
  prefix: string;
  /** The fence itself: three or more backticks or tildes. */
  marker: string;
  /** The info string (language), as written. */
  info: string;
}

const FENCE_REGEXP = /^([ \t]*(?:>[ \t]?)*[ \t]*)(`{3,}|~{3,})(.*)$/;

/** Parses Markdown (CommonMark + GFM: tables, strikethrough, task lists, autolinks) into tokens. */
export function lexMarkdown(markdown: string): Token[] {
  return new Lexer({ gfm: true }).lex(normalizeNewlines(markdown));
}

/** The visible text of inline tokens, without any markup (for table cells, alt texts, titles). */
export function plainText(tokens: readonly Token[] | undefined): string {
  let out = "";
  for (const token of tokens ?? []) {
    if (token.type === "br") out += "\n";
    else if ("tokens" in token && Array.isArray(token.tokens) && token.tokens.length > 0) {
      out += plainText(token.tokens);
    } else if ("text" in token && typeof token.text === "string") out += token.text;
    else out += token.raw;
  }
  return out;
}

/**
 * Splits Markdown into chunks whose measured size is at most `maxLength`, never leaving a fenced
 * code block open inside a chunk. Returns no chunk for blank text.
 *
 * @throws {RangeError} when not even one character fits in `maxLength`
 */
export function splitMarkdown(markdown: string, options: SplitOptions): string[] {
  const measure = options.measure ?? ((text: string) => text.length);
  const fits = (text: string) => measure(trimChunk(text)) <= options.maxLength;
  const source = trimChunk(normalizeNewlines(markdown));
  if (source === "") return [];
  if (fits(source)) return [source];

  const chunks: string[] = [];
  let current = "";
  const flush = () => {
    const chunk = trimChunk(current);
    if (chunk !== "") chunks.push(chunk);
    current = "";
  };
  const add = (piece: string) => {
    if (fits(current + piece)) current += piece;
    else {
      flush();
      current = piece;
    }
  };
  for (const token of lexMarkdown(source)) {
    if (fits(current + token.raw)) current += token.raw;
    else if (fits(token.raw)) {
      flush(); // a block that fits a chunk of its own is not cut
      current = token.raw;
    } else {
      const [first = "", ...rest] = splitBlock(token, fits, current);
      current += first;
      for (const piece of rest) add(piece);
    }
  }
  flush();
  return chunks;
}

/**
 * Pieces of one block too large for a chunk. The first piece continues `lead` (the chunk being
 * filled; it may be empty), every other piece fits a chunk of its own.
 */
function splitBlock(token: Token, fits: (text: string) => boolean, lead: string): string[] {
  if (token.type !== "table") return splitLines(token.raw, fits, lead);
  // A table keeps its header row in every piece so each renders as a table.
  const lines = token.raw.replace(/\n+$/, "").split("\n");
  const header = lines.slice(0, 2).join("\n") + "\n";
  const pieces: string[] = [""];
  let rows = "";
  for (const line of lines.slice(2)) {
    if (fits(header + rows + line + "\n")) rows += line + "\n";
    else {
      if (rows !== "") pieces.push(header + rows + "\n");
      rows = "";
      if (fits(header + line + "\n")) rows = line + "\n";
      else pieces.push(...splitLines(line + "\n", fits, "").slice(1));
    }
  }
  if (rows !== "") pieces.push(header + rows + "\n");
  return pieces;
}

/** Splits text between lines (inside a line when one is too long), closing/reopening fences. */
function splitLines(text: string, fits: (text: string) => boolean, lead: string): string[] {
  const pieces: string[] = [];
  let body: string[] = [];
  let fence: Fence | null = null;
  /** Index in `body` of the line that opened `fence`, when it is in `body`. */
  let openedAt = -1;
  let reopen: Fence | null = null;
  const render = (lines: string[], open: Fence | null) =>
    (reopen ? opener(reopen) + "\n" : "") + lines.join("\n") +
    (open ? "\n" + open.prefix + open.marker : "") + "\n";
  const fitsHere = (lines: string[], open: Fence | null) =>
    fits((pieces.length === 0 ? lead : "") + render(lines, open));
  const push = () => {
    // A piece never ends with a fence that opens and closes at once: the next piece reopens it.
    if (fence !== null && openedAt === body.length - 1) body.pop();
    if (body.length > 0 || pieces.length === 0) {
      pieces.push(body.length > 0 ? render(body, fence) : "");
    }
    reopen = fence;
    body = [];
    openedAt = -1;
  };

  const trailing = /\n*$/.exec(text)?.[0] ?? "";
  for (const line of text.slice(0, text.length - trailing.length).split("\n")) {
    const after = fenceAfter(fence, line);
    const opens = fence === null && after !== null;
    if (fitsHere([...body, line], after)) {
      body.push(line);
      if (opens) openedAt = body.length - 1;
      fence = after;
      continue;
    }
    push();
    if (fitsHere([line], after)) {
      body.push(line);
      if (opens) openedAt = 0;
      fence = after;
      continue;
    }
    const inside = fence;
    for (const part of hardSplit(line, (p) => fitsHere([p], inside))) {
      body = [part];
      push();
    }
    fence = after;
    reopen = after;
  }
  if (body.length > 0) push();
  // Keep the blank line that separated this block from the next one.
  const last = pieces.length - 1;
  if (pieces[last]) pieces[last] = pieces[last].replace(/\n$/, "") + trailing;
  return pieces;
}

/** Cuts one line into parts that fit, preferring a cut after a space. */
function hardSplit(line: string, fits: (part: string) => boolean): string[] {
  const parts: string[] = [];
  let rest = line;
  while (rest !== "") {
    if (fits(rest)) {
      parts.push(rest);
      break;
    }
    let low = 0;
    let high = rest.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (fits(rest.slice(0, mid))) low = mid;
      else high = mid - 1;
    }
    let cut = low;
    if (cut > 0 && isLowSurrogate(rest.charCodeAt(cut))) cut--;
    if (cut === 0) throw new RangeError("Cannot split text: not even one character fits the limit");
    const space = rest.lastIndexOf(" ", cut - 1);
    if (space >= cut * 0.75) cut = space + 1;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  return parts;
}

/** The fence state after `line`: opened, closed or unchanged. */
function fenceAfter(open: Fence | null, line: string): Fence | null {
  const match = FENCE_REGEXP.exec(line);
  if (!match) return open;
  const [, prefix = "", marker = "", info = ""] = match;
  if (open === null) {
    if (marker.startsWith("`") && info.includes("`")) return null;
    return { prefix, marker, info };
  }
  const closes = marker[0] === open.marker[0] && marker.length >= open.marker.length &&
    info.trim() === "";
  return closes ? null : open;
}

function opener(fence: Fence): string {
  return fence.prefix + fence.marker + fence.info;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

/** Drops leading blank lines and trailing whitespace (keeps the indentation of the first line). */
function trimChunk(text: string): string {
  return text.replace(/^(?:[ \t]*\n)+/, "").replace(/\s+$/, "");
}
