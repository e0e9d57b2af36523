/**
 * Lexer of Go `text/template` source, a port of `text/template/parse/lex.go` (Go 1.24): the
 * parser pulls one item at a time and the state machine runs until it has produced one.
 *
 * Positions are UTF-16 offsets into the template text (see `location.ts` for what errors show).
 *
 * @module
 */

import { formatRune, goQuote } from "./escape.ts";
import { isAlphaNumeric, isSpace, ITEM, type Item, type ItemType, KEYWORDS } from "./item.ts";
import { EOF, RIGHT_DELIM, Scanner } from "./scanner.ts";

export { ITEM };
export type { Item, ItemType };

const LEFT_DELIM = "{{";
const LEFT_COMMENT = "/*";
const RIGHT_COMMENT = "*/";
const TRIM_MARKER_LEN = 2;

/** `{{- ` trims the text before; the marker needs an ASCII space so `{{-3}}` stays a number. */
function hasLeftTrimMarker(s: string, at: number): boolean {
  return s.length - at >= 2 && s[at] === "-" && isSpace(s.charCodeAt(at + 1));
}

/** ` -}}` trims the text after. */
function hasRightTrimMarker(s: string, at: number): boolean {
  return s.length - at >= 2 && isSpace(s.charCodeAt(at)) && s[at + 1] === "-";
}

function spaceRunBefore(s: string, from: number, to: number): number {
  let i = to;
  while (i > from && isSpace(s.charCodeAt(i - 1))) i--;
  return to - i;
}

function spaceRunAfter(s: string, from: number): number {
  let i = from;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i - from;
}

enum State {
  Done,
  Text,
  LeftDelim,
  Comment,
  RightDelim,
  InsideAction,
}

/** Break and continue are plain identifiers when a function has that name, as in Go. */
export interface LexOptions {
  breakOK: boolean;
  continueOK: boolean;
}

/** Pull lexer: each `nextItem()` call runs the state machine until one item is produced. */
export class Lexer {
  readonly input: string;
  #sc: Scanner;
  #options: LexOptions;
  #parenDepth = 0;
  #insideAction = false;
  #item: Item | null = null;
  #failed = false;

  constructor(input: string, options: LexOptions) {
    this.input = input;
    this.#sc = new Scanner(input);
    this.#options = options;
  }

  /** Returns the next item; after an error item every call returns EOF. */
  nextItem(): Item {
    if (this.#failed) return { typ: ITEM.EOF, pos: this.#sc.start, val: "EOF" };
    this.#item = null;
    let state = this.#insideAction ? State.InsideAction : State.Text;
    while (state !== State.Done) state = this.#step(state);
    return this.#item ?? { typ: ITEM.EOF, pos: this.#sc.pos, val: "EOF" };
  }

  #step(state: State): State {
    switch (state) {
      case State.Text:
        return this.#lexText();
      case State.LeftDelim:
        return this.#lexLeftDelim();
      case State.Comment:
        return this.#lexComment();
      case State.RightDelim:
        return this.#lexRightDelim();
      default:
        return this.#lexInsideAction();
    }
  }

  #thisItem(typ: ItemType): Item {
    const item = { typ, pos: this.#sc.start, val: this.#sc.pending() };
    this.#sc.start = this.#sc.pos;
    return item;
  }

  #emit(typ: ItemType): State {
    return this.#emitItem(this.#thisItem(typ));
  }

  #emitItem(item: Item): State {
    this.#item = item;
    return State.Done;
  }

  #ignore(): void {
    this.#sc.start = this.#sc.pos;
  }

  #errorf(message: string): State {
    this.#item = { typ: ITEM.ERROR, pos: this.#sc.start, val: message };
    this.#failed = true;
    return State.Done;
  }

  #atRightDelim(): [delim: boolean, trimSpace: boolean] {
    const s = this.input;
    const p = this.#sc.pos;
    if (hasRightTrimMarker(s, p) && s.startsWith(RIGHT_DELIM, p + TRIM_MARKER_LEN)) {
      return [true, true];
    }
    return [s.startsWith(RIGHT_DELIM, p), false];
  }

  #lexText(): State {
    const sc = this.#sc;
    const x = this.input.indexOf(LEFT_DELIM, sc.pos);
    if (x < 0) {
      sc.pos = this.input.length;
      return this.#emit(sc.pos > sc.start ? ITEM.TEXT : ITEM.EOF);
    }
    if (x > sc.pos) {
      let trimLength = 0;
      if (hasLeftTrimMarker(this.input, x + LEFT_DELIM.length)) {
        trimLength = spaceRunBefore(this.input, sc.start, x);
      }
      sc.pos = x - trimLength;
      const item = this.#thisItem(ITEM.TEXT);
      sc.pos = x;
      this.#ignore();
      if (item.val.length > 0) return this.#emitItem(item);
    }
    return State.LeftDelim;
  }

  #lexLeftDelim(): State {
    const sc = this.#sc;
    sc.pos += LEFT_DELIM.length;
    const afterMarker = hasLeftTrimMarker(this.input, sc.pos) ? TRIM_MARKER_LEN : 0;
    if (this.input.startsWith(LEFT_COMMENT, sc.pos + afterMarker)) {
      sc.pos += afterMarker;
      this.#ignore();
      return State.Comment;
    }
    const item = this.#thisItem(ITEM.LEFT_DELIM);
    this.#insideAction = true;
    sc.pos += afterMarker;
    this.#ignore();
    this.#parenDepth = 0;
    return this.#emitItem(item);
  }

  #lexComment(): State {
    const sc = this.#sc;
    const x = this.input.indexOf(RIGHT_COMMENT, sc.pos + LEFT_COMMENT.length);
    if (x < 0) return this.#errorf("unclosed comment");
    sc.pos = x + RIGHT_COMMENT.length;
    const [delim, trimSpace] = this.#atRightDelim();
    if (!delim) return this.#errorf("comment ends before closing delimiter");
    sc.pos += (trimSpace ? TRIM_MARKER_LEN : 0) + RIGHT_DELIM.length;
    if (trimSpace) sc.pos += spaceRunAfter(this.input, sc.pos);
    this.#ignore();
    return State.Text;
  }

  #lexRightDelim(): State {
    const sc = this.#sc;
    const [, trimSpace] = this.#atRightDelim();
    if (trimSpace) {
      sc.pos += TRIM_MARKER_LEN;
      this.#ignore();
    }
    sc.pos += RIGHT_DELIM.length;
    const item = this.#thisItem(ITEM.RIGHT_DELIM);
    if (trimSpace) {
      sc.pos += spaceRunAfter(this.input, sc.pos);
      this.#ignore();
    }
    this.#insideAction = false;
    return this.#emitItem(item);
  }

  #lexInsideAction(): State {
    const sc = this.#sc;
    const [delim] = this.#atRightDelim();
    if (delim) {
      return this.#parenDepth === 0 ? State.RightDelim : this.#errorf("unclosed left paren");
    }
    const r = sc.next();
    if (r === EOF) return this.#errorf("unclosed action");
    if (isSpace(r)) {
      sc.backup();
      return this.#lexSpace();
    }
    switch (r) {
      case 0x3d: // =
        return this.#emit(ITEM.ASSIGN);
      case 0x3a: // :
        return sc.next() === 0x3d ? this.#emit(ITEM.DECLARE) : this.#errorf("expected :=");
      case 0x7c: // |
        return this.#emit(ITEM.PIPE);
      case 0x22: // "
        return sc.scanQuoted(r)
          ? this.#emit(ITEM.STRING)
          : this.#errorf("unterminated quoted string");
      case 0x60: // `
        return sc.scanRaw()
          ? this.#emit(ITEM.RAW_STRING)
          : this.#errorf("unterminated raw quoted string");
      case 0x24: // $
        return sc.atTerminator() ? this.#emit(ITEM.VARIABLE) : this.#lexFieldOrVariable(true);
      case 0x27: // '
        return sc.scanQuoted(r)
          ? this.#emit(ITEM.CHAR_CONSTANT)
          : this.#errorf("unterminated character constant");
      case 0x28: // (
        this.#parenDepth++;
        return this.#emit(ITEM.LEFT_PAREN);
      case 0x29: // )
        if (--this.#parenDepth < 0) return this.#errorf("unexpected right paren");
        return this.#emit(ITEM.RIGHT_PAREN);
    }
    if (r === 0x2e && sc.pos < this.input.length) {
      const c = this.input.charCodeAt(sc.pos);
      if (c < 0x30 || c > 0x39) return this.#lexFieldOrVariable(false);
    }
    if (r === 0x2e || r === 0x2b || r === 0x2d || (r >= 0x30 && r <= 0x39)) {
      sc.backup();
      return this.#lexNumber();
    }
    if (isAlphaNumeric(r)) {
      sc.backup();
      return this.#lexIdentifier();
    }
    if (r >= 0x20 && r < 0x7f) return this.#emit(ITEM.CHAR);
    return this.#errorf(`unrecognized character in action: ${formatRune(r)}`);
  }

  /** A run of spaces, minding a trim-marked `" -}}"`, which starts with a space. */
  #lexSpace(): State {
    const sc = this.#sc;
    let numSpaces = 0;
    while (isSpace(sc.peek())) {
      sc.next();
      numSpaces++;
    }
    const at = sc.pos - 1;
    if (hasRightTrimMarker(this.input, at) && this.input.startsWith(RIGHT_DELIM, at + 2)) {
      sc.backup();
      if (numSpaces === 1) return State.RightDelim;
    }
    return this.#emit(ITEM.SPACE);
  }

  #lexIdentifier(): State {
    const r = this.#sc.scanAlphaNumeric();
    const word = this.#sc.pending();
    if (!this.#sc.atTerminator()) return this.#errorf(`bad character ${formatRune(r)}`);
    const key = KEYWORDS.get(word);
    if (key !== undefined && key > ITEM.KEYWORD) {
      const asIdentifier = (key === ITEM.BREAK && !this.#options.breakOK) ||
        (key === ITEM.CONTINUE && !this.#options.continueOK);
      return this.#emit(asIdentifier ? ITEM.IDENTIFIER : key);
    }
    if (word === "true" || word === "false") return this.#emit(ITEM.BOOL);
    return this.#emit(ITEM.IDENTIFIER);
  }

  /** `.name` or `$name` (the `.` or `$` already read); a lone `.` is the dot. */
  #lexFieldOrVariable(variable: boolean): State {
    if (this.#sc.atTerminator()) return this.#emit(variable ? ITEM.VARIABLE : ITEM.DOT);
    const r = this.#sc.scanAlphaNumeric();
    if (!this.#sc.atTerminator()) return this.#errorf(`bad character ${formatRune(r)}`);
    return this.#emit(variable ? ITEM.VARIABLE : ITEM.FIELD);
  }

  #lexNumber(): State {
    const sc = this.#sc;
    const bad = () => this.#errorf(`bad number syntax: ${goQuote(sc.pending())}`);
    if (!sc.scanNumber()) return bad();
    const sign = sc.peek();
    if (sign !== 0x2b && sign !== 0x2d) return this.#emit(ITEM.NUMBER);
    if (!sc.scanNumber() || this.input[sc.pos - 1] !== "i") return bad();
    return this.#emit(ITEM.COMPLEX);
  }
}
