/**
 * Go's `printArg`/`printValue` for template values: picks the formatter for an operand's type
 * and verb (see `fmt_flags.ts`), and writes `%!verb(type=value)` when the verb does not fit.
 *
 * Deliberate deviation (ARCHITECTURE.md §3.1): `%v` of a map or array is compact JSON, where
 * Go writes `map[a:1]` and `[a b]`. Other verbs format maps and arrays element by element, as
 * Go does.
 *
 * @module
 */

import { goQuoteRune } from "./escape.ts";
import {
  type FmtFlags,
  fmtFloat,
  fmtInteger,
  fmtQ,
  fmtS,
  fmtSx,
  fmtUnicode,
  LDIGITS,
  newFlags,
  pad,
  toRune,
  UDIGITS,
} from "./fmt_flags.ts";
import { GoComplex, type GoValue, isMap, sortedKeys, toJson, typeName } from "./value.ts";

/** Formatting state: the output so far plus the flags of the verb being printed. */
export class Printer {
  /** The output so far. */
  text = "";
  /** Flags of the verb being printed; `sprintf` sets them while parsing the format. */
  readonly f: FmtFlags = newFlags();

  /** Appends literal text. */
  write(s: string): void {
    this.text += s;
  }

  /** Resets every flag, width and precision. */
  clearFlags(): void {
    Object.assign(this.f, newFlags());
  }

  /** Go's `printArg`: formats one operand with `verb` and the current flags. */
  printArg(arg: GoValue, verb: string): void {
    if (arg === null) {
      if (verb === "T" || verb === "v") this.text += pad(this.f, "<nil>");
      else this.#badVerb(verb, null);
    } else if (verb === "T") {
      this.text += fmtS(this.f, typeName(arg));
    } else if (verb === "p") {
      this.#badVerb(verb, arg); // Go prints a map's or slice's address; there is none here.
    } else {
      this.#printValue(arg, verb);
    }
  }

  #printValue(v: GoValue, verb: string): void {
    const f = this.f;
    switch (typeof v) {
      case "boolean":
        if (verb === "t" || verb === "v") this.text += pad(f, String(v));
        else this.#badVerb(verb, v);
        return;
      case "number":
        this.#printFloat(v, verb, true);
        return;
      case "bigint":
        this.#printInteger(v, verb);
        return;
      case "string":
        this.#printString(v, verb);
        return;
    }
    if (v === null) {
      this.text += "<nil>";
    } else if (v instanceof GoComplex) {
      this.#printComplex(v, verb);
    } else if (verb === "v") {
      this.text += pad(f, toJson(v));
    } else if (Array.isArray(v)) {
      this.text += "[";
      v.forEach((elem, i) => {
        if (i > 0) this.text += " ";
        this.#printValue(elem, verb);
      });
      this.text += "]";
    } else if (isMap(v)) {
      this.text += "map[";
      sortedKeys(v).forEach((key, i) => {
        if (i > 0) this.text += " ";
        this.#printValue(key, verb);
        this.text += ":";
        this.#printValue(v[key] ?? null, verb);
      });
      this.text += "]";
    }
  }

  #badVerb(verb: string, v: GoValue): void {
    this.text += "%!" + verb + "(";
    if (v === null) {
      this.text += "<nil>";
    } else {
      this.text += typeName(v) + "=";
      this.printArg(v, "v");
    }
    this.text += ")";
  }

  #printInteger(v: bigint, verb: string): void {
    const f = this.f;
    switch (verb) {
      case "v":
      case "d":
        this.text += fmtInteger(f, v, 10, verb, LDIGITS);
        return;
      case "b":
        this.text += fmtInteger(f, v, 2, verb, LDIGITS);
        return;
      case "o":
      case "O":
        this.text += fmtInteger(f, v, 8, verb, LDIGITS);
        return;
      case "x":
      case "X":
        this.text += fmtInteger(f, v, 16, verb, verb === "x" ? LDIGITS : UDIGITS);
        return;
      case "c":
        this.text += pad(f, String.fromCodePoint(toRune(v)));
        return;
      case "q":
        this.text += pad(f, goQuoteRune(toRune(v), f.plus));
        return;
      case "U":
        this.text += fmtUnicode(f, v);
        return;
    }
    this.#badVerb(verb, v);
  }

  /** `json` selects pylon's JSON spelling for `%v`; complex parts keep Go's `%g`. */
  #printFloat(v: number, verb: string, json: boolean): void {
    if (verb === "v") this.text += fmtFloat(this.f, v, json ? "v" : "g", -1);
    else if ("bgGxX".includes(verb)) this.text += fmtFloat(this.f, v, verb, -1);
    else if (verb === "f" || verb === "e" || verb === "E") {
      this.text += fmtFloat(this.f, v, verb, 6);
    } else if (verb === "F") this.text += fmtFloat(this.f, v, "f", 6);
    else this.#badVerb(verb, v);
  }

  #printComplex(v: GoComplex, verb: string): void {
    if (!"vbgGxXfFeE".includes(verb)) {
      this.#badVerb(verb, v);
      return;
    }
    const oldPlus = this.f.plus;
    this.text += "(";
    this.#printFloat(v.re, verb, false);
    this.f.plus = true;
    this.#printFloat(v.im, verb, false);
    this.text += "i)";
    this.f.plus = oldPlus;
  }

  #printString(s: string, verb: string): void {
    const f = this.f;
    switch (verb) {
      case "v":
        this.text += f.sharpV ? fmtQ(f, s) : fmtS(f, s);
        return;
      case "s":
        this.text += fmtS(f, s);
        return;
      case "x":
      case "X":
        this.text += fmtSx(f, s, verb === "x" ? LDIGITS : UDIGITS);
        return;
      case "q":
        this.text += fmtQ(f, s);
        return;
    }
    this.#badVerb(verb, s);
  }
}
