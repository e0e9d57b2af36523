/**
 * A rune cursor over template text with Go's `next`/`peek`/`backup`/`accept` primitives, plus
 * the token scanners that need nothing else (numbers, quoted strings, identifiers).
 *
 * @module
 */

import { isAlphaNumeric, isSpace } from "./item.ts";

/** The end-of-input rune. */
export const EOF = -1;

/** The right delimiter of actions. */
export const RIGHT_DELIM = "}}";

/** Cursor over the input: `start` is where the pending item began, `pos` where reading is. */
export class Scanner {
  readonly input: string;
  pos = 0;
  start = 0;
  #atEOF = false;

  constructor(input: string) {
    this.input = input;
  }

  /** Consumes and returns the next rune (code point), or EOF. */
  next(): number {
    if (this.pos >= this.input.length) {
      this.#atEOF = true;
      return EOF;
    }
    const r = this.input.codePointAt(this.pos)!;
    this.pos += r > 0xffff ? 2 : 1;
    return r;
  }

  /** Returns the next rune without consuming it. */
  peek(): number {
    return this.pos >= this.input.length ? EOF : this.input.codePointAt(this.pos)!;
  }

  /** Steps back one rune; like Go's, a no-op once EOF has been read. */
  backup(): void {
    if (this.#atEOF || this.pos === 0) return;
    const lo = this.input.charCodeAt(this.pos - 1);
    const hi = this.pos > 1 ? this.input.charCodeAt(this.pos - 2) : 0;
    this.pos -= lo >= 0xdc00 && lo <= 0xdfff && hi >= 0xd800 && hi <= 0xdbff ? 2 : 1;
  }

  /** Consumes the next rune if it is one of `valid`. */
  accept(valid: string): boolean {
    const r = this.next();
    if (r !== EOF && valid.includes(String.fromCodePoint(r))) return true;
    this.backup();
    return false;
  }

  /** Consumes a run of runes from `valid`. */
  acceptRun(valid: string): void {
    for (;;) {
      const r = this.next();
      if (r === EOF || !valid.includes(String.fromCodePoint(r))) break;
    }
    this.backup();
  }

  /** The text of the pending item. */
  pending(): string {
    return this.input.slice(this.start, this.pos);
  }

  /** Go's `atTerminator`: can an identifier or field end here? */
  atTerminator(): boolean {
    const r = this.peek();
    if (isSpace(r)) return true;
    switch (r) {
      case EOF:
      case 0x2e: // .
      case 0x2c: // ,
      case 0x7c: // |
      case 0x3a: // :
      case 0x29: // )
      case 0x28: // (
        return true;
    }
    return this.input.startsWith(RIGHT_DELIM, this.pos);
  }

  /** Consumes alphanumerics; returns the first rune that is not one (left unread). */
  scanAlphaNumeric(): number {
    for (;;) {
      const r = this.next();
      if (!isAlphaNumeric(r)) {
        this.backup();
        return r;
      }
    }
  }

  /** Go's `scanNumber`: false when an alphanumeric follows what looked like a number. */
  scanNumber(): boolean {
    this.accept("+-");
    let digits = "0123456789_";
    if (this.accept("0")) {
      if (this.accept("xX")) digits = "0123456789abcdefABCDEF_";
      else if (this.accept("oO")) digits = "01234567_";
      else if (this.accept("bB")) digits = "01_";
    }
    this.acceptRun(digits);
    if (this.accept(".")) this.acceptRun(digits);
    if (digits.length === 11 && this.accept("eE")) {
      this.accept("+-");
      this.acceptRun("0123456789_");
    }
    if (digits.length === 23 && this.accept("pP")) {
      this.accept("+-");
      this.acceptRun("0123456789_");
    }
    this.accept("i");
    if (isAlphaNumeric(this.peek())) {
      this.next();
      return false;
    }
    return true;
  }

  /** Scans to the closing `quote` (opening one already read); false if the line or input ends. */
  scanQuoted(quote: number): boolean {
    for (;;) {
      let r = this.next();
      if (r === 0x5c) {
        r = this.next();
        if (r !== EOF && r !== 0x0a) continue;
        return false;
      }
      if (r === EOF || r === 0x0a) return false;
      if (r === quote) return true;
    }
  }

  /** Scans to the closing backquote; false at the end of input. */
  scanRaw(): boolean {
    for (;;) {
      const r = this.next();
      if (r === EOF) return false;
      if (r === 0x60) return true;
    }
  }
}
