/**
 * Go's `strconv.FormatFloat` for float64 (verbs e, E, f, g, G, b, x, X), computed from the exact
 * decimal expansion of the double so rounding (half to even) matches Go digit for digit.
 *
 * @module
 */

/** Decimal digits `d` (no trailing zeros) with the point at `dp`: value = 0.d × 10^dp. */
interface Digits {
  d: string;
  dp: number;
}

const VIEW = new DataView(new ArrayBuffer(8));

function decompose(v: number): { neg: boolean; mant: bigint; exp: number } {
  VIEW.setFloat64(0, v);
  const bits = VIEW.getBigUint64(0);
  const neg = bits >> 63n === 1n;
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  return { neg, mant, exp: exp - 1075 };
}

function trimZeros(d: Digits): Digits {
  let n = d.d.length;
  while (n > 0 && d.d[n - 1] === "0") n--;
  return n === 0 ? { d: "", dp: 0 } : { d: d.d.slice(0, n), dp: d.dp };
}

/** The exact decimal expansion of |v|. */
function exactDigits(v: number): Digits {
  const { mant, exp } = decompose(v);
  if (mant === 0n) return { d: "", dp: 0 };
  if (exp >= 0) {
    const s = (mant << BigInt(exp)).toString();
    return trimZeros({ d: s, dp: s.length });
  }
  const s = (mant * 5n ** BigInt(-exp)).toString();
  return trimZeros({ d: s, dp: s.length + exp });
}

/** The shortest digits that round-trip, as Go's `FormatFloat(v, fmt, -1, 64)` picks them. */
function shortestDigits(v: number): Digits {
  if (v === 0) return { d: "", dp: 0 };
  const [mant, e] = Math.abs(v).toExponential().split("e");
  const d = mant!.replace(".", "");
  return trimZeros({ d, dp: Number(e) + 1 });
}

/** Go's `decimal.Round(nd)`: round half to even at `nd` digits. */
function roundDigits(x: Digits, nd: number): Digits {
  if (nd < 0 || nd >= x.d.length) return x;
  const next = x.d.charCodeAt(nd) - 48;
  let up = next > 5 || (next === 5 && nd + 1 < x.d.length);
  if (next === 5 && nd + 1 === x.d.length) up = nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return trimZeros({ d: x.d.slice(0, nd), dp: x.dp });
  let i = nd - 1;
  while (i >= 0 && x.d[i] === "9") i--;
  if (i < 0) return { d: "1", dp: x.dp + 1 };
  return { d: x.d.slice(0, i) + String.fromCharCode(x.d.charCodeAt(i) + 1), dp: x.dp };
}

function fmtE(neg: boolean, x: Digits, prec: number, ch: string): string {
  let out = neg ? "-" : "";
  out += x.d.length > 0 ? x.d[0] : "0";
  if (prec > 0) {
    out += "." + x.d.slice(1, Math.min(x.d.length, prec + 1)).padEnd(prec, "0");
  }
  let exp = x.d.length === 0 ? 0 : x.dp - 1;
  const sign = exp < 0 ? "-" : "+";
  exp = Math.abs(exp);
  return out + ch + sign + (exp < 10 ? "0" + exp : String(exp));
}

function fmtF(neg: boolean, x: Digits, prec: number): string {
  let out = neg ? "-" : "";
  if (x.dp > 0) out += x.d.slice(0, x.dp).padEnd(x.dp, "0");
  else out += "0";
  if (prec > 0) {
    out += ".";
    for (let i = 0; i < prec; i++) {
      const j = x.dp + i;
      out += j >= 0 && j < x.d.length ? x.d[j] : "0";
    }
  }
  return out;
}

/** Go's `strconv.FormatFloat(v, fmt, prec, 64)`; `prec` -1 means shortest. */
export function formatFloat(v: number, fmt: string, prec: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  if (fmt === "b") return fmtB(v);
  if (fmt === "x" || fmt === "X") return fmtX(v, prec, fmt);
  const neg = Object.is(v, -0) || v < 0;
  const shortest = prec < 0;
  let x: Digits;
  if (shortest) {
    x = shortestDigits(v);
    if (fmt === "e" || fmt === "E") prec = Math.max(x.d.length - 1, 0);
    else if (fmt === "f") prec = Math.max(x.d.length - x.dp, 0);
    else prec = x.d.length;
  } else {
    x = exactDigits(v);
    if (fmt === "e" || fmt === "E") x = roundDigits(x, prec + 1);
    else if (fmt === "f") x = roundDigits(x, x.dp + prec);
    else {
      if (prec === 0) prec = 1;
      x = roundDigits(x, prec);
    }
  }
  if (fmt === "e" || fmt === "E") return fmtE(neg, x, prec, fmt);
  if (fmt === "f") return fmtF(neg, x, prec);
  let eprec = prec;
  if (eprec > x.d.length && x.d.length >= x.dp) eprec = x.d.length;
  if (shortest) eprec = 6;
  const exp = x.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > x.d.length) prec = x.d.length;
    return fmtE(neg, x, prec - 1, fmt === "g" ? "e" : "E");
  }
  if (prec > x.dp) prec = x.d.length;
  return fmtF(neg, x, Math.max(prec - x.dp, 0));
}

function fmtB(v: number): string {
  const { neg, mant, exp } = decompose(v);
  const e = mant === 0n && exp === -1074 ? -1074 : exp;
  return `${neg ? "-" : ""}${mant}p${e >= 0 ? "+" : ""}${e}`;
}

const MASK64 = (1n << 64n) - 1n;

function fmtX(v: number, prec: number, fmt: string): string {
  const parts = decompose(v);
  let mant = parts.mant;
  let exp = parts.exp + 52;
  if (mant === 0n) exp = 0;
  mant = (mant << 8n) & MASK64;
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant = (mant << 1n) & MASK64;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & ((1n << 60n) - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant = (mant << (60n - shift)) & MASK64;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const hex = fmt === "X" ? "0123456789ABCDEF" : "0123456789abcdef";
  let out = (parts.neg ? "-" : "") + "0" + fmt + String((mant >> 60n) & 1n);
  mant = (mant << 4n) & MASK64;
  if (prec < 0 && mant !== 0n) {
    out += ".";
    while (mant !== 0n) {
      out += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & MASK64;
    }
  } else if (prec > 0) {
    out += ".";
    for (let i = 0; i < prec; i++) {
      out += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & MASK64;
    }
  }
  out += fmt === "X" ? "P" : "p";
  out += exp < 0 ? "-" : "+";
  return out + String(Math.abs(exp)).padStart(2, "0");
}
