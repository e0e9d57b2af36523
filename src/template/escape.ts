/**
 * Byte-exact ports of Go's escapers and quoters: `template.HTMLEscapeString`,
 * `template.JSEscapeString`, `url.QueryEscape`, `strconv.Quote`, `strconv.QuoteRune` and
 * `strconv.CanBackquote`, plus the UTF-8 helpers Go's byte-oriented strings need.
 *
 * @module
 */

const PRINT_REGEXP = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrintRune(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  if (r >= 0xd800 && r <= 0xdfff) return false;
  return PRINT_REGEXP.test(String.fromCodePoint(r));
}

/** Go's `%#U` of a rune: `U+0041 'A'`. */
export function formatRune(r: number): string {
  const hex = r.toString(16).toUpperCase().padStart(4, "0");
  return isPrintRune(r) ? `U+${hex} '${String.fromCodePoint(r)}'` : `U+${hex}`;
}

/** Go's `strconv.Quote` (`%q`), or `strconv.QuoteToASCII` (`%+q`). */
export function goQuote(s: string, asciiOnly = false): string {
  return `"${quoteBody(s, 0x22, asciiOnly)}"`;
}

/** Go's `strconv.QuoteRune` (`%q` of an integer), or its ASCII-only variant. */
export function goQuoteRune(r: number, asciiOnly = false): string {
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) r = 0xfffd;
  return `'${quoteBody(String.fromCodePoint(r), 0x27, asciiOnly)}'`;
}

function quoteBody(s: string, quote: number, asciiOnly: boolean): string {
  let out = "";
  for (const ch of s) {
    let r = ch.codePointAt(0)!;
    if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd;
    if (r === quote || r === 0x5c) {
      out += "\\" + ch;
    } else if (asciiOnly ? r < 0x80 && isPrintRune(r) : isPrintRune(r)) {
      out += String.fromCodePoint(r);
    } else {
      out += escapeRune(r);
    }
  }
  return out;
}

function escapeRune(r: number): string {
  switch (r) {
    case 0x07:
      return "\\a";
    case 0x08:
      return "\\b";
    case 0x0c:
      return "\\f";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
    case 0x0b:
      return "\\v";
  }
  if (r < 0x20 || r === 0x7f) return "\\x" + r.toString(16).padStart(2, "0");
  if (r < 0x10000) return "\\u" + r.toString(16).padStart(4, "0");
  return "\\U" + r.toString(16).padStart(8, "0");
}

/** Go's `strconv.CanBackquote`, deciding whether `%#q` may use a raw string. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (r === 0xfeff || (r >= 0xd800 && r <= 0xdfff)) return false;
    if ((r < 0x20 && r !== 0x09) || r === 0x60 || r === 0x7f) return false;
  }
  return true;
}

/** Go's `template.HTMLEscapeString`. */
export function htmlEscape(s: string): string {
  if (!/['"&<>\0]/.test(s)) return s;
  let out = "";
  for (const ch of s) {
    switch (ch) {
      case "\0":
        out += "\uFFFD";
        break;
      case '"':
        out += "&#34;";
        break;
      case "'":
        out += "&#39;";
        break;
      case "&":
        out += "&amp;";
        break;
      case "<":
        out += "&lt;";
        break;
      case ">":
        out += "&gt;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

/** Go's `template.JSEscapeString`. */
export function jsEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    let r = ch.codePointAt(0)!;
    switch (ch) {
      case "\\":
        out += "\\\\";
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case "<":
        out += "\\u003C";
        continue;
      case ">":
        out += "\\u003E";
        continue;
      case "&":
        out += "\\u0026";
        continue;
      case "=":
        out += "\\u003D";
        continue;
    }
    if (r < 0x20) {
      out += "\\u00" + r.toString(16).toUpperCase().padStart(2, "0");
    } else if (r < 0x80) {
      out += ch;
    } else {
      if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd;
      out += isPrintRune(r)
        ? String.fromCodePoint(r)
        : "\\u" + r.toString(16).toUpperCase().padStart(4, "0");
    }
  }
  return out;
}

/** Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, every other byte `%XX`. */
export function urlQueryEscape(s: string): string {
  let out = "";
  for (const b of utf8Bytes(s)) {
    if (
      (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) ||
      b === 0x2d || b === 0x5f || b === 0x2e || b === 0x7e
    ) {
      out += String.fromCharCode(b);
    } else if (b === 0x20) {
      out += "+";
    } else {
      out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
    }
  }
  return out;
}

/** The UTF-8 encoding of `s` (lone surrogates become U+FFFD, as in Go's JSON decoding). */
export function utf8Bytes(s: string): Uint8Array {
  return ENCODER.encode(s);
}

/** Decodes UTF-8, replacing invalid sequences by U+FFFD. */
export function utf8Decode(bytes: Uint8Array): string {
  return DECODER.decode(bytes);
}

/** Length of `s` in UTF-8 bytes, which is what Go's `len` reports for a string. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Number of runes (code points) in `s`, Go's `utf8.RuneCountInString`. */
export function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Compares strings by code point, which is Go's byte-wise order of their UTF-8 encodings. */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs === ys) return x - y;
    return xs ? 1 : -1;
  }
  return a.length - b.length;
}
