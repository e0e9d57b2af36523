/**
 * Parsing of one cron field (`1-10/2,MON`) into the values it allows, with robfig/cron v3's
 * rules: names are 3-letter and case-insensitive, `N/step` runs from N to the end of the range,
 * and a field whose item is `*` or `?` without a step above 1 carries the "star" flag that
 * decides between the AND and OR rules for days.
 *
 * @module
 */

import type { CronField } from "./errors.ts";

/** Bounds and spelling rules of one field. */
export interface FieldSpec {
  readonly name: CronField;
  readonly min: number;
  /** Largest value that may be written (7 for day-of-week, an alias of Sunday). */
  readonly max: number;
  /** Where `*` and `N/step` end (6 for day-of-week, as in robfig). */
  readonly openMax: number;
  /** Lower-case 3-letter names and their values. */
  readonly names?: ReadonlyMap<string, number>;
  /** How the names are described in messages, e.g. `a month name (JAN-DEC)`. */
  readonly namesLabel?: string;
  /** Whether `?` may stand for `*`. */
  readonly allowQuestion: boolean;
}

/** A parsed field. */
export interface ParsedField {
  /** Sorted, distinct values (day-of-week 7 folded into 0). */
  readonly values: number[];
  /** robfig's star bit: an item was `*` or `?` with no step above 1. */
  readonly star: boolean;
  /** The field rewritten for the description library (`*` for starred fields, etc.). */
  readonly text: string;
}

/** What is wrong with a field: `subject` is the offending piece of it. */
export interface FieldProblem {
  readonly subject: string;
  readonly problem: string;
}

const MONTH_NAMES = "jan feb mar apr may jun jul aug sep oct nov dec".split(" ");
const DAY_NAMES = "sun mon tue wed thu fri sat".split(" ");
const NUMBER_REGEXP = /^\d+$/;

/** The five fields, in the order they are written. */
export const FIELD_SPECS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59, openMax: 59, allowQuestion: false },
  { name: "hour", min: 0, max: 23, openMax: 23, allowQuestion: false },
  { name: "day-of-month", min: 1, max: 31, openMax: 31, allowQuestion: true },
  {
    name: "month",
    min: 1,
    max: 12,
    openMax: 12,
    names: new Map(MONTH_NAMES.map((name, i) => [name, i + 1])),
    namesLabel: "a month name (JAN-DEC)",
    allowQuestion: false,
  },
  {
    name: "day-of-week",
    min: 0,
    max: 7,
    openMax: 6,
    names: new Map(DAY_NAMES.map((name, i) => [name, i])),
    namesLabel: "a day name (SUN-SAT)",
    allowQuestion: true,
  },
];

/** Parses one field; returns the problem instead of throwing so the caller can word the error. */
export function parseField(text: string, spec: FieldSpec): ParsedField | FieldProblem {
  const values = new Set<number>();
  const texts = new Set<string>();
  let star = false;
  for (const item of text.split(",")) {
    if (item === "") return { subject: text, problem: "has an empty list item" };
    const parsed = parseItem(item, spec);
    if ("problem" in parsed) return parsed;
    const folded = parsed.values.map((value) =>
      spec.name === "day-of-week" && value === 7 ? 0 : value
    );
    for (const value of folded) values.add(value);
    star ||= parsed.star;
    texts.add(folded.length === 1 ? String(folded[0]) : item);
  }
  return {
    values: [...values].sort((a, b) => a - b),
    star,
    text: star ? "*" : [...texts].join(","),
  };
}

/** Parses `*`, `?`, `N`, `N-M`, each optionally followed by `/step`. */
function parseItem(
  item: string,
  spec: FieldSpec,
): { values: number[]; star: boolean } | FieldProblem {
  const [base = "", stepText, ...extraSlashes] = item.split("/");
  if (extraSlashes.length > 0) return { subject: item, problem: 'has more than one "/"' };
  let step = 1;
  if (stepText !== undefined) {
    step = NUMBER_REGEXP.test(stepText) ? Number(stepText) : 0;
    if (step < 1) return { subject: item, problem: "has a step that is not a positive number" };
  }
  if (base === "*" || (base === "?" && stepText === undefined)) {
    if (base === "?" && !spec.allowQuestion) {
      return {
        subject: item,
        problem: 'is only allowed in the day-of-month and day-of-week fields (use "*")',
      };
    }
    return { values: stepped(spec.min, spec.openMax, step), star: step === 1 };
  }
  const bounds = base.split("-");
  if (bounds.length > 2) return { subject: item, problem: 'has more than one "-"' };
  if (bounds[0] === "*") {
    return { subject: item, problem: 'is not a valid range ("*" cannot start one)' };
  }
  if (bounds.includes("")) return { subject: item, problem: notANumber(spec) };
  const start = parseValue(bounds[0] ?? "", spec);
  if (typeof start !== "number") return start;
  let end = start;
  if (bounds[1] !== undefined) {
    const parsedEnd = parseValue(bounds[1], spec);
    if (typeof parsedEnd !== "number") return parsedEnd;
    end = parsedEnd;
    if (end < start) return { subject: item, problem: "is a range that ends before it starts" };
  } else if (stepText !== undefined) {
    end = Math.max(spec.openMax, start);
  }
  return { values: stepped(start, end, step), star: false };
}

/** Parses a number or a name and checks it against the field's bounds. */
function parseValue(text: string, spec: FieldSpec): number | FieldProblem {
  const named = spec.names?.get(text.toLowerCase());
  if (named !== undefined) return named;
  if (!NUMBER_REGEXP.test(text)) return { subject: text, problem: notANumber(spec) };
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    return { subject: text, problem: `is out of range (${spec.min}-${spec.max})` };
  }
  return value;
}

/** The problem of a value that is neither a number nor a name. */
function notANumber(spec: FieldSpec): string {
  const expected = `a number (${spec.min}-${spec.max})`;
  return spec.namesLabel === undefined
    ? `is not ${expected}`
    : `is not ${expected} or ${spec.namesLabel}`;
}

/** The values from `start` to `end` (inclusive), every `step`. */
function stepped(start: number, end: number, step: number): number[] {
  const values: number[] = [];
  for (let value = start; value <= end; value += step) values.push(value);
  return values;
}
