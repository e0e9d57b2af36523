/**
 * Literal parsing with Go's rules: `strconv.Unquote`, `strconv.UnquoteChar`,
 * `strconv.ParseUint`/`ParseInt` with base 0, `strconv.ParseFloat`, and the template parser's
 * `newNumber`, which records every type a numeric literal fits.
 *
 * @module
 */

import { goQuote, utf8Bytes, utf8Decode } from "./escape.ts";
import { ITEM, type ItemType } from "./lex.ts";
import type { NumberNode } from "./nodes.ts";

const SYNTAX = "invalid syntax";
const MAX_UINT64 = (1n << 64n) - 1n;
const MIN_INT64 = -(1n << 63n);
const DECIMAL_FLOAT_REGEXP = /^[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?$/;
const HEX_FLOAT_REGEXP = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9_]+)$/;

/** Go's `underscoreOK`: underscores only between digits or after a base prefix. */
function underscoreOK(s: string): boolean {
  let saw = "^";
  let i = 0;
  if (s.length >= 1 && (s[0] === "-" || s[0] === "+")) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && "bBoOxX".includes(s[1]!)) {
    i = 2;
    saw = "0";
    hex = s[1] === "x" || s[1] === "X";
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= "0" && c <= "9") || (hex && /[a-fA-F]/.test(c))) {
      saw = "0";
      continue;
    }
    if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}

/** Go's `strconv.ParseUint(s, 0, 64)`; null when it fails. */
export function parseUint(s0: string): bigint | null {
  if (s0 === "") return null;
  let s = s0;
  let base = 10n;
  if (s[0] === "0") {
    const p = s.length >= 3 ? s[1]!.toLowerCase() : "";
    if (p === "b") base = 2n;
    else if (p === "o") base = 8n;
    else if (p === "x") base = 16n;
    s = base === 10n ? s.slice(1) : s.slice(2);
    if (base === 10n) base = 8n;
  }
  let n = 0n;
  let underscores = false;
  for (const c of s) {
    if (c === "_") {
      underscores = true;
      continue;
    }
    const d = parseInt(c, 36);
    if (Number.isNaN(d) || BigInt(d) >= base) return null;
    n = n * base + BigInt(d);
    if (n > MAX_UINT64) return null;
  }
  if (underscores && !underscoreOK(s0)) return null;
  return n;
}

/** Go's `strconv.ParseInt(s, 0, 64)`; null when it fails. */
export function parseInt64(s: string): bigint | null {
  if (s === "") return null;
  const neg = s[0] === "-";
  const un = parseUint(s[0] === "+" || s[0] === "-" ? s.slice(1) : s);
  if (un === null) return null;
  const n = neg ? -un : un;
  return n < MIN_INT64 || n > -MIN_INT64 - 1n ? null : n;
}

/** Go's `strconv.ParseFloat(s, 64)` for the syntax the lexer produces; null on error. */
export function parseFloat64(s: string): number | null {
  let v: number;
  const hex = HEX_FLOAT_REGEXP.exec(s);
  if (hex) {
    const [, sign, int = "", frac = "", exp = ""] = hex;
    if (int.replaceAll("_", "") + frac.replaceAll("_", "") === "" || !underscoreOK(s)) return null;
    const digits = (int + frac).replaceAll("_", "");
    const shift = Number(exp.replaceAll("_", "")) - 4 * frac.replaceAll("_", "").length;
    v = Number(BigInt("0x" + (digits || "0"))) * 2 ** shift;
    if (sign === "-") v = -v;
  } else {
    if (!DECIMAL_FLOAT_REGEXP.test(s) || !underscoreOK(s)) return null;
    v = Number(s.replaceAll("_", ""));
  }
  return Number.isFinite(v) ? v : null;
}

/** Go's `strconv.UnquoteChar`: the value, whether it was multibyte, and the rest of `s`. */
function unquoteChar(s: string, quote: string): [number, boolean, string] {
  if (s.length === 0) throw new Error(SYNTAX);
  const c = s[0]!;
  if (c === quote && (quote === "'" || quote === '"')) throw new Error(SYNTAX);
  const cp = s.codePointAt(0)!;
  if (cp >= 0x80) {
    const width = cp > 0xffff ? 2 : 1;
    return [cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp, true, s.slice(width)];
  }
  if (c !== "\\") return [cp, false, s.slice(1)];
  if (s.length <= 1) throw new Error(SYNTAX);
  const e = s[1]!;
  const rest = s.slice(2);
  const simple = "abfnrtv".indexOf(e);
  if (simple >= 0) return [[7, 8, 12, 10, 13, 9, 11][simple]!, false, rest];
  if (e === "x" || e === "u" || e === "U") {
    const n = e === "x" ? 2 : e === "u" ? 4 : 8;
    const hex = rest.slice(0, n);
    if (hex.length < n || !/^[0-9a-fA-F]+$/.test(hex)) throw new Error(SYNTAX);
    const v = parseInt(hex, 16);
    if (e === "x") return [v, false, rest.slice(n)];
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new Error(SYNTAX);
    return [v, true, rest.slice(n)];
  }
  if (e >= "0" && e <= "7") {
    const oct = e + rest.slice(0, 2);
    if (!/^[0-7]{3}$/.test(oct)) throw new Error(SYNTAX);
    const v = parseInt(oct, 8);
    if (v > 255) throw new Error(SYNTAX);
    return [v, false, rest.slice(2)];
  }
  if (e === "\\") return [0x5c, false, rest];
  if (e === "'" || e === '"') {
    if (e !== quote) throw new Error(SYNTAX);
    return [e.charCodeAt(0), false, rest];
  }
  throw new Error(SYNTAX);
}

/** Go's `strconv.Unquote` of a string token; throws `invalid syntax`. */
export function unquote(token: string): string {
  if (token[0] === "`") {
    if (token.length < 2 || token[token.length - 1] !== "`") throw new Error(SYNTAX);
    return token.slice(1, -1).replaceAll("\r", "");
  }
  if (token.length < 2 || token[0] !== '"' || token[token.length - 1] !== '"') {
    throw new Error(SYNTAX);
  }
  let s = token.slice(1, -1);
  if (!s.includes("\\") && !s.includes('"') && !s.includes("\n")) return s;
  const bytes: number[] = [];
  while (s.length > 0) {
    if (s[0] === "\n") throw new Error(SYNTAX);
    const [r, multibyte, tail] = unquoteChar(s, '"');
    if (r < 0x80 || !multibyte) bytes.push(r);
    else bytes.push(...utf8Bytes(String.fromCodePoint(r)));
    s = tail;
  }
  return utf8Decode(Uint8Array.from(bytes));
}

function isInt64(f: number): boolean {
  return Number.isInteger(f) && f >= -(2 ** 63) && f < 2 ** 63;
}

function isUint64(f: number): boolean {
  return Object.is(f, -0) || (Number.isInteger(f) && f >= 0 && f < 2 ** 64);
}

type NumberFields = Omit<NumberNode, "type" | "pos" | "text">;

function simplifyComplex(n: NumberFields): void {
  n.isFloat = n.im === 0;
  if (n.isFloat) {
    n.float64 = n.re;
    n.isInt = isInt64(n.re);
    if (n.isInt) n.int64 = BigInt(n.re);
    n.isUint = isUint64(n.re);
  }
}

function splitComplex(text: string): [number, number] {
  for (let i = text.length - 2; i > 0; i--) {
    const c = text[i];
    if ((c === "+" || c === "-") && !"eEpP".includes(text[i - 1]!)) {
      const re = parseFloat64(text.slice(0, i));
      const im = parseFloat64(text.slice(i, -1));
      if (re !== null && im !== null) return [re, im];
      break;
    }
  }
  throw new Error(`expected complex number: ${goQuote(text)}`);
}

/** Go's `newNumber`: every type a literal fits; throws with Go's message when it fits none. */
export function parseNumber(text: string, typ: ItemType): NumberFields {
  const n: NumberFields = {
    isInt: false,
    isUint: false,
    isFloat: false,
    isComplex: false,
    int64: 0n,
    float64: 0,
    re: 0,
    im: 0,
  };
  if (typ === ITEM.CHAR_CONSTANT) {
    const [r, , tail] = unquoteChar(text.slice(1), "'");
    if (tail !== "'") throw new Error(`malformed character constant: ${text}`);
    return { ...n, isInt: true, isUint: true, isFloat: true, int64: BigInt(r), float64: r };
  }
  if (typ === ITEM.COMPLEX) {
    [n.re, n.im] = splitComplex(text);
    n.isComplex = true;
    simplifyComplex(n);
    return n;
  }
  if (text.endsWith("i")) {
    const f = parseFloat64(text.slice(0, -1));
    if (f !== null) {
      n.isComplex = true;
      n.im = f;
      simplifyComplex(n);
      return n;
    }
  }
  const u = parseUint(text);
  if (u !== null) n.isUint = true;
  const i = parseInt64(text);
  if (i !== null) {
    n.isInt = true;
    n.int64 = i;
    if (i === 0n) n.isUint = true;
  }
  if (n.isInt) {
    n.isFloat = true;
    n.float64 = Number(n.int64);
  } else if (n.isUint) {
    n.isFloat = true;
    n.float64 = Number(u);
  } else {
    const f = parseFloat64(text);
    if (f !== null) {
      if (!/[.eEpP]/.test(text)) throw new Error(`integer overflow: ${goQuote(text)}`);
      n.isFloat = true;
      n.float64 = f;
      if (isInt64(f)) {
        n.isInt = true;
        n.int64 = BigInt(f);
      }
      if (isUint64(f)) n.isUint = true;
    }
  }
  if (!n.isInt && !n.isUint && !n.isFloat) {
    throw new Error(`illegal number syntax: ${goQuote(text)}`);
  }
  return n;
}
