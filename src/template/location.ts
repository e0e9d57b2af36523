/**
 * Converts a UTF-16 offset in a template into the positions errors report.
 *
 * @module
 */

import { runeCount, utf8Length } from "./escape.ts";

/** Where a node or token sits in the template text. */
export interface Location {
  /** 1-based line. */
  line: number;
  /** Byte offset inside the line, as Go's `ErrorContext` prints it (0-based). */
  byteColumn: number;
  /** 1-based column in characters (code points), for editors. */
  column: number;
}

/** The location of offset `pos` in `text`. */
export function location(text: string, pos: number): Location {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < pos; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  const inLine = text.slice(lineStart, pos);
  return { line, byteColumn: utf8Length(inLine), column: runeCount(inLine) + 1 };
}
