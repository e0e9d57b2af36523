/**
 * Go's `fmt.Sprint`, `fmt.Sprintln` and `fmt.Sprintf` for template values. This file parses
 * format strings (flags, `*` widths, `[n]` argument indexes and the `%!(EXTRA …)`,
 * `%!v(MISSING)`, `%!(NOVERB)`, `%!(BADWIDTH)` markers); `printer.ts` formats the operands.
 *
 * @module
 */

import type { FmtFlags } from "./fmt_flags.ts";
import { Printer } from "./printer.ts";
import { type GoValue, typeName } from "./value.ts";

/** Go's `fmt.Sprint`: spaces between operands when neither is a string. */
export function sprint(args: readonly GoValue[]): string {
  const p = new Printer();
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === "string";
    if (i > 0 && !isString && !prevString) p.write(" ");
    p.printArg(arg, "v");
    prevString = isString;
  });
  return p.text;
}

/** Go's `fmt.Sprintln`: spaces between all operands and a final newline. */
export function sprintln(args: readonly GoValue[]): string {
  const p = new Printer();
  args.forEach((arg, i) => {
    if (i > 0) p.write(" ");
    p.printArg(arg, "v");
  });
  p.write("\n");
  return p.text;
}

/** Go's `fmt.Sprintf`. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  const p = new Printer();
  doPrintf(p, format, args);
  return p.text;
}

interface ArgState {
  reordered: boolean;
  goodArgNum: boolean;
}

function doPrintf(p: Printer, format: string, a: readonly GoValue[]): void {
  const f = p.f;
  const st = { reordered: false, goodArgNum: true };
  const end = format.length;
  let argNum = 0;
  let afterIndex = false;
  st.reordered = false;
  let i = 0;
  formatLoop: while (i < end) {
    st.goodArgNum = true;
    const lasti = i;
    while (i < end && format[i] !== "%") i++;
    if (i > lasti) p.text += format.slice(lasti, i);
    if (i >= end) break;
    i++;
    p.clearFlags();
    simpleFormat: for (; i < end; i++) {
      const c = format[i]!;
      switch (c) {
        case "#":
          f.sharp = true;
          break;
        case "0":
          f.zero = true;
          break;
        case "+":
          f.plus = true;
          break;
        case "-":
          f.minus = true;
          break;
        case " ":
          f.space = true;
          break;
        default:
          if (c >= "a" && c <= "z" && argNum < a.length) {
            if (c === "v") moveSharpPlusToV(f);
            p.printArg(a[argNum]!, c);
            argNum++;
            i++;
            continue formatLoop;
          }
          break simpleFormat;
      }
    }
    [argNum, i, afterIndex] = argNumber(st, argNum, format, i, a.length);
    if (i < end && format[i] === "*") {
      i++;
      [f.wid, f.widPresent, argNum] = intFromArg(a, argNum);
      if (!f.widPresent) p.text += "%!(BADWIDTH)";
      if (f.wid < 0) {
        f.wid = -f.wid;
        f.minus = true;
        f.zero = false;
      }
      afterIndex = false;
    } else {
      [f.wid, f.widPresent, i] = parseNum(format, i, end);
      if (afterIndex && f.widPresent) st.goodArgNum = false;
    }
    if (i + 1 < end && format[i] === ".") {
      i++;
      if (afterIndex) st.goodArgNum = false;
      [argNum, i, afterIndex] = argNumber(st, argNum, format, i, a.length);
      if (i < end && format[i] === "*") {
        i++;
        [f.prec, f.precPresent, argNum] = intFromArg(a, argNum);
        if (f.prec < 0) {
          f.prec = 0;
          f.precPresent = false;
        }
        if (!f.precPresent) p.text += "%!(BADPREC)";
        afterIndex = false;
      } else {
        [f.prec, f.precPresent, i] = parseNum(format, i, end);
        if (!f.precPresent) {
          f.prec = 0;
          f.precPresent = true;
        }
      }
    }
    if (!afterIndex) [argNum, i, afterIndex] = argNumber(st, argNum, format, i, a.length);
    if (i >= end) {
      p.text += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === "%") p.text += "%";
    else if (!st.goodArgNum) p.text += `%!${verb}(BADINDEX)`;
    else if (argNum >= a.length) p.text += `%!${verb}(MISSING)`;
    else {
      if (verb === "v") moveSharpPlusToV(f);
      p.printArg(a[argNum]!, verb);
      argNum++;
    }
  }
  if (!st.reordered && argNum < a.length) {
    p.clearFlags();
    p.text += "%!(EXTRA ";
    a.slice(argNum).forEach((arg, n) => {
      if (n > 0) p.text += ", ";
      if (arg === null) p.text += "<nil>";
      else {
        p.text += typeName(arg) + "=";
        p.printArg(arg, "v");
      }
    });
    p.text += ")";
  }
}

/** `%v` keeps `#` and `+` as its own `sharpV`/`plusV` flags. */
function moveSharpPlusToV(f: FmtFlags): void {
  f.sharpV = f.sharp;
  f.sharp = false;
  f.plusV = f.plus;
  f.plus = false;
}

/** Go's `argNumber`: an explicit `[n]` argument index, if present at `i`. */
function argNumber(
  st: ArgState,
  argNum: number,
  format: string,
  i: number,
  numArgs: number,
): [number, number, boolean] {
  if (format.length <= i || format[i] !== "[") return [argNum, i, false];
  st.reordered = true;
  const [index, wid, ok] = parseArgNumber(format.slice(i));
  if (ok && index >= 0 && index < numArgs) return [index, i + wid, true];
  st.goodArgNum = false;
  return [argNum, i + wid, ok];
}

function tooLarge(x: number): boolean {
  return x > 1e6 || x < -1e6;
}

function parseNum(s: string, start: number, end: number): [number, boolean, number] {
  if (start >= end) return [0, false, end];
  let num = 0;
  let isNum = false;
  let i = start;
  for (; i < end && s[i]! >= "0" && s[i]! <= "9"; i++) {
    if (tooLarge(num)) return [0, false, end];
    num = num * 10 + (s.charCodeAt(i) - 48);
    isNum = true;
  }
  return [num, isNum, i];
}

function parseArgNumber(format: string): [number, number, boolean] {
  if (format.length < 3) return [0, 1, false];
  for (let i = 1; i < format.length; i++) {
    if (format[i] === "]") {
      const [width, ok, newi] = parseNum(format, 1, i);
      if (!ok || newi !== i) return [0, i + 1, false];
      return [width - 1, i + 1, true];
    }
  }
  return [0, 1, false];
}

function intFromArg(a: readonly GoValue[], argNum: number): [number, boolean, number] {
  if (argNum >= a.length) return [0, false, argNum];
  const arg = a[argNum];
  let num = 0;
  let isInt = false;
  if (typeof arg === "bigint" && arg >= -(2n ** 63n) && arg < 2n ** 63n) {
    num = Number(arg);
    isInt = true;
  }
  if (tooLarge(num)) return [0, false, argNum + 1];
  return [num, isInt, argNum + 1];
}
