/**
 * The tokens of Go template source (`text/template/parse/lex.go`'s `item`) and the character
 * classes the lexer uses.
 *
 * @module
 */

/** Kinds of lexed items, in Go's order (keywords come after `KEYWORD`). */
export const ITEM = {
  ERROR: 0,
  BOOL: 1,
  CHAR: 2,
  CHAR_CONSTANT: 3,
  COMMENT: 4,
  COMPLEX: 5,
  ASSIGN: 6,
  DECLARE: 7,
  EOF: 8,
  FIELD: 9,
  IDENTIFIER: 10,
  LEFT_DELIM: 11,
  LEFT_PAREN: 12,
  NUMBER: 13,
  PIPE: 14,
  RAW_STRING: 15,
  RIGHT_DELIM: 16,
  RIGHT_PAREN: 17,
  SPACE: 18,
  STRING: 19,
  TEXT: 20,
  VARIABLE: 21,
  KEYWORD: 22,
  BLOCK: 23,
  BREAK: 24,
  CONTINUE: 25,
  DOT: 26,
  DEFINE: 27,
  ELSE: 28,
  END: 29,
  IF: 30,
  NIL: 31,
  RANGE: 32,
  TEMPLATE: 33,
  WITH: 34,
} as const;

/** One of the {@linkcode ITEM} values. */
export type ItemType = typeof ITEM[keyof typeof ITEM];

/** A token or text run returned by the lexer. */
export interface Item {
  typ: ItemType;
  /** UTF-16 offset of the item in the template text. */
  pos: number;
  val: string;
}

/** Keywords and `.`, mapped to their item types. */
export const KEYWORDS: ReadonlyMap<string, ItemType> = new Map<string, ItemType>([
  [".", ITEM.DOT],
  ["block", ITEM.BLOCK],
  ["break", ITEM.BREAK],
  ["continue", ITEM.CONTINUE],
  ["define", ITEM.DEFINE],
  ["else", ITEM.ELSE],
  ["end", ITEM.END],
  ["if", ITEM.IF],
  ["range", ITEM.RANGE],
  ["nil", ITEM.NIL],
  ["template", ITEM.TEMPLATE],
  ["with", ITEM.WITH],
]);

const LETTER_REGEXP = /\p{L}/u;
const DIGIT_REGEXP = /\p{Nd}/u;

/** Go's `isSpace`: the four ASCII spaces. */
export function isSpace(r: number): boolean {
  return r === 0x20 || r === 0x09 || r === 0x0d || r === 0x0a;
}

/** Go's `unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'`. */
export function isAlphaNumeric(r: number): boolean {
  if (r < 0) return false;
  if (r < 0x80) {
    return r === 0x5f || (r >= 0x30 && r <= 0x39) || (r >= 0x41 && r <= 0x5a) ||
      (r >= 0x61 && r <= 0x7a);
  }
  const s = String.fromCodePoint(r);
  return LETTER_REGEXP.test(s) || DIGIT_REGEXP.test(s);
}
