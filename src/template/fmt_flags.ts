/**
 * Go's `fmt/format.go` (Go 1.24) as pure functions: given the flags, width and precision of a
 * verb, each returns the padded text for one integer, float, rune or string.
 *
 * Deliberate deviation (ARCHITECTURE.md §3.1): a shortest `%v` float64 is spelled the way JSON
 * spells it (`1000000`, `0.00001`) where Go would write `1e+06` and `1e-05`.
 *
 * @module
 */

import { canBackquote, goQuote, isPrintRune, runeCount, utf8Bytes } from "./escape.ts";
import { formatFloat } from "./float.ts";
import { jsonNumber } from "./value.ts";

/** Go's `fmtFlags` plus width and precision. */
export interface FmtFlags {
  widPresent: boolean;
  precPresent: boolean;
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  prec: number;
}

/** Flags with nothing set. */
export function newFlags(): FmtFlags {
  return {
    widPresent: false,
    precPresent: false,
    minus: false,
    plus: false,
    sharp: false,
    space: false,
    zero: false,
    plusV: false,
    sharpV: false,
    wid: 0,
    prec: 0,
  };
}

/** Lower-case digits; index 16 is the `x` of a `0x` prefix. */
export const LDIGITS = "0123456789abcdefx";
/** Upper-case digits; index 16 is the `X` of a `0X` prefix. */
export const UDIGITS = "0123456789ABCDEFX";
const MAX_RUNE = 0x10ffff;

function padding(f: FmtFlags, n: number, zero = f.zero): string {
  return n > 0 ? (zero && !f.minus ? "0" : " ").repeat(n) : "";
}

/** Go's `pad`: `s` padded to the width (in runes), on the left unless `-`. */
export function pad(f: FmtFlags, s: string, zero = f.zero): string {
  if (!f.widPresent || f.wid === 0) return s;
  const fill = padding(f, f.wid - runeCount(s), zero);
  return f.minus ? s + fill : fill + s;
}

/** Go's `fmtInteger`. */
export function fmtInteger(f: FmtFlags, v: bigint, base: number, verb: string, digits: string) {
  const negative = v < 0n;
  const u = negative ? -v : v;
  let prec = 0;
  if (f.precPresent) {
    prec = f.prec;
    if (prec === 0 && u === 0n) return padding(f, f.wid, false);
  } else if (f.zero && !f.minus && f.widPresent) {
    prec = f.wid;
    if (negative || f.plus || f.space) prec--;
  }
  let s = u.toString(base);
  if (digits === UDIGITS) s = s.toUpperCase();
  if (s.length < prec) s = "0".repeat(prec - s.length) + s;
  if (f.sharp) {
    if (base === 2) s = "0b" + s;
    else if (base === 8 && s[0] !== "0") s = "0" + s;
    else if (base === 16) s = "0" + digits[16] + s;
  }
  if (verb === "O") s = "0o" + s;
  if (negative) s = "-" + s;
  else if (f.plus) s = "+" + s;
  else if (f.space) s = " " + s;
  return pad(f, s, false);
}

/** Go's `fmtUnicode` (`%U`, `%#U`). */
export function fmtUnicode(f: FmtFlags, v: bigint): string {
  const u = BigInt.asUintN(64, v);
  const prec = f.precPresent && f.prec > 4 ? f.prec : 4;
  let s = "U+" + u.toString(16).toUpperCase().padStart(prec, "0");
  if (f.sharp && u <= BigInt(MAX_RUNE) && isPrintRune(Number(u))) {
    s += ` '${String.fromCodePoint(Number(u))}'`;
  }
  return pad(f, s, false);
}

/** The rune an integer stands for with `%c`/`%q`: invalid ones become U+FFFD. */
export function toRune(v: bigint): number {
  const u = BigInt.asUintN(64, v);
  if (u > BigInt(MAX_RUNE)) return 0xfffd;
  const r = Number(u);
  return r >= 0xd800 && r <= 0xdfff ? 0xfffd : r;
}

/** Go's `fmtFloat`; verb `v` with no precision is the JSON spelling (pylon's deviation). */
export function fmtFloat(f: FmtFlags, v: number, verb: string, prec: number): string {
  if (f.precPresent) prec = f.prec;
  let num: string;
  if (verb === "v" && prec < 0) {
    num = (v < 0 || Object.is(v, -0) ? "-" : "+") + jsonNumber(Math.abs(v));
  } else {
    num = formatFloat(v, verb === "v" ? "g" : verb, prec);
    if (num[0] !== "-" && num[0] !== "+") num = "+" + num;
  }
  if (f.space && num[0] === "+" && !f.plus) num = " " + num.slice(1);
  if (num[1] === "I" || num[1] === "N") {
    if (num[1] === "N" && !f.space && !f.plus) num = num.slice(1);
    return pad(f, num, false);
  }
  if (f.sharp && verb !== "b") num = sharpFloat(num, verb, prec);
  if (f.plus || num[0] !== "+") {
    if (f.zero && !f.minus && f.widPresent && f.wid > num.length) {
      return num[0] + padding(f, f.wid - num.length) + num.slice(1);
    }
    return pad(f, num);
  }
  return pad(f, num.slice(1));
}

/** `%#g` and friends: keep the decimal point and trailing zeros. */
function sharpFloat(num: string, verb: string, prec: number): string {
  let digits = 0;
  if (verb === "v" || verb === "g" || verb === "G" || verb === "x") digits = prec === -1 ? 6 : prec;
  let tail = "";
  let hasDecimalPoint = false;
  let sawNonzeroDigit = false;
  for (let i = 1; i < num.length; i++) {
    const c = num[i]!;
    if (c === ".") {
      hasDecimalPoint = true;
    } else if (
      c === "p" || c === "P" || ((c === "e" || c === "E") && verb !== "x" && verb !== "X")
    ) {
      tail = num.slice(i);
      num = num.slice(0, i);
    } else {
      if (c !== "0") sawNonzeroDigit = true;
      if (sawNonzeroDigit) digits--;
    }
  }
  if (!hasDecimalPoint) {
    if (num.length === 2 && num[1] === "0") digits--;
    num += ".";
  }
  if (digits > 0) num += "0".repeat(digits);
  return num + tail;
}

/** Go's `truncateString`: at most `prec` runes. */
function truncate(f: FmtFlags, s: string): string {
  if (!f.precPresent) return s;
  let n = f.prec;
  let i = 0;
  for (const ch of s) {
    if (--n < 0) return s.slice(0, i);
    i += ch.length;
  }
  return s;
}

/** Go's `fmtS` (`%s`). */
export function fmtS(f: FmtFlags, s: string): string {
  return pad(f, truncate(f, s));
}

/** Go's `fmtQ` (`%q`, `%+q`, `%#q`). */
export function fmtQ(f: FmtFlags, s: string): string {
  s = truncate(f, s);
  return pad(f, f.sharp && canBackquote(s) ? "`" + s + "`" : goQuote(s, f.plus));
}

/** Go's `fmtSbx` for a string (`%x`, `% x`, `%#x` of its UTF-8 bytes). */
export function fmtSx(f: FmtFlags, s: string, digits: string): string {
  const bytes = utf8Bytes(s);
  let length = bytes.length;
  if (f.precPresent && f.prec < length) length = f.prec;
  let width = 2 * length;
  if (width === 0) return f.widPresent ? padding(f, f.wid) : "";
  if (f.space) {
    if (f.sharp) width *= 2;
    width += length - 1;
  } else if (f.sharp) {
    width += 2;
  }
  const fill = f.widPresent && f.wid > width ? padding(f, f.wid - width) : "";
  const prefix = "0" + digits[16];
  let out = f.sharp ? prefix : "";
  for (let i = 0; i < length; i++) {
    if (f.space && i > 0) out += f.sharp ? " " + prefix : " ";
    const c = bytes[i]!;
    out += digits[c >> 4]! + digits[c & 0xf]!;
  }
  return f.minus ? out + fill : fill + out;
}
