/**
 * Parsing of a cron expression into a {@linkcode CronSchedule}.
 *
 * The syntax is robfig/cron v3's standard parser (the Go reference) with these deliberate
 * differences, each checked against robfig in tests/cron/golden:
 * - day-of-week 7 is Sunday, as in Vixie cron (robfig rejects it);
 * - `@every <duration>` is refused: it counts from whenever the daemon started, so restarts shift
 *   it and there are no stable "next fire times"; a step (`*\/15 * * * *`) says the same on the clock;
 * - six fields (seconds) are refused: pylon's contract is five fields and the scheduler ticks per minute;
 * - `?` is accepted only in the day fields, empty list items (`1,,2`), signs (`+5`) and `*-5` are
 *   refused (robfig silently accepts them), and so is an expression that can never fire (`0 0 30 2 *`);
 * - descriptors are matched case-insensitively.
 *
 * @module
 */

import { CronError } from "./errors.ts";
import { FIELD_SPECS, type FieldSpec, type ParsedField, parseField } from "./_field.ts";
import { normalizeTimezone } from "./timezone.ts";

/** A parsed cron expression. */
export interface CronSchedule {
  /** The expression as written, trimmed. */
  readonly expression: string;
  /** Zone of a `CRON_TZ=`/`TZ=` prefix; when set it wins over the zone a caller passes. */
  readonly timezone: string | undefined;
  /** Sorted minutes (0-59). */
  readonly minutes: readonly number[];
  /** Sorted hours (0-23). */
  readonly hours: readonly number[];
  /** Sorted days of the month (1-31). */
  readonly daysOfMonth: readonly number[];
  /** Sorted months (1-12). */
  readonly months: readonly number[];
  /** Sorted days of the week, 0 (Sunday) to 6; a written 7 is stored as 0. */
  readonly daysOfWeek: readonly number[];
  /**
   * `either` when both day fields are restricted (a day matches if either matches, as in every
   * cron), `both` when one of them starts with `*` or `?` (robfig's star bit; `*\/2` is restricted).
   */
  readonly dayRule: "both" | "either";
  /**
   * Whether the minute or hour field starts with `*` (Vixie cron's "wildcard job"). Wildcard jobs
   * follow real time across DST changes; the others are fixed-time jobs (see `next.ts`).
   */
  readonly wildcardTime: boolean;
  /** The five fields, normalised for the description library. */
  readonly fields: readonly string[];
}

/** What each descriptor stands for. */
const DESCRIPTORS: ReadonlyMap<string, string> = new Map([
  ["@yearly", "0 0 1 1 *"],
  ["@annually", "0 0 1 1 *"],
  ["@monthly", "0 0 1 * *"],
  ["@weekly", "0 0 * * 0"],
  ["@daily", "0 0 * * *"],
  ["@midnight", "0 0 * * *"],
  ["@hourly", "0 * * * *"],
]);
const TZ_PREFIX_REGEXP = /^(CRON_TZ|TZ)=(\S*)\s*/;
const FIELD_LIST = "minute hour day-of-month month day-of-week";
/** The most days each month can have (February counts leap years). */
const MONTH_LENGTHS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses a 5-field cron expression or a descriptor (`@daily`), with an optional `CRON_TZ=` prefix.
 *
 * @throws {CronError} naming the field at fault and why
 */
export function parseCron(expression: string): CronSchedule {
  const expr = expression.trim();
  const fail = (reason: string, field?: FieldSpec, hint?: string): never => {
    throw new CronError(`Cannot parse cron expression "${expr}": ${reason}`, {
      expression: expr,
      field: field?.name,
      hint,
    });
  };
  if (expr === "") fail("it is empty", undefined, 'Write five fields, e.g. "0 9 * * 1"');

  let body = expr;
  let timezone: string | undefined;
  const prefix = TZ_PREFIX_REGEXP.exec(expr);
  if (prefix !== null) {
    const [whole, key = "", zone = ""] = prefix;
    timezone = normalizeTimezone(zone);
    if (timezone === undefined) fail(`unknown time zone "${zone}" in its ${key}= prefix`);
    body = expr.slice(whole.length);
    if (body === "") fail(`nothing follows its ${key}= prefix`);
  }

  if (body.startsWith("@")) body = expandDescriptor(body, fail);
  const texts = body.split(/\s+/);
  if (texts.length !== FIELD_SPECS.length) {
    const found = `expected 5 fields (${FIELD_LIST}), found ${texts.length}`;
    if (texts.length === 6) {
      fail(
        `${found}; a seconds field is not supported`,
        undefined,
        "Drop the first (seconds) field",
      );
    }
    fail(found);
  }

  const fields = FIELD_SPECS.map((spec, i) => {
    const text = texts[i] ?? "";
    const parsed = parseField(text, spec);
    if ("problem" in parsed) {
      const subject = parsed.subject === text ? "" : `: "${parsed.subject}"`;
      return fail(`${spec.name} field "${text}"${subject} ${parsed.problem}`, spec);
    }
    return parsed;
  });
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [
    ParsedField,
    ParsedField,
    ParsedField,
    ParsedField,
    ParsedField,
  ];
  const schedule: CronSchedule = {
    expression: expr,
    timezone,
    minutes: minute.values,
    hours: hour.values,
    daysOfMonth: dayOfMonth.values,
    months: month.values,
    daysOfWeek: dayOfWeek.values,
    dayRule: dayOfMonth.star || dayOfWeek.star ? "both" : "either",
    wildcardTime: (texts[0] ?? "").startsWith("*") || (texts[1] ?? "").startsWith("*"),
    fields: fields.map((field) => field.text),
  };
  if (!canFire(schedule)) {
    fail(
      `it never fires: no month in month field "${texts[3]}" has a day in day-of-month field "${
        texts[2]
      }"`,
      FIELD_SPECS[2],
    );
  }
  return schedule;
}

/** Replaces a descriptor by its five fields. */
function expandDescriptor(
  descriptor: string,
  fail: (reason: string, field?: FieldSpec, hint?: string) => never,
): string {
  const lower = descriptor.toLowerCase();
  const fields = DESCRIPTORS.get(lower);
  if (fields !== undefined) return fields;
  if (lower.startsWith("@every")) {
    return fail(
      '"@every" is not supported, as it counts from when the daemon started',
      undefined,
      'Use a step on the clock instead, e.g. "*/15 * * * *" or "0 */2 * * *"',
    );
  }
  return fail(
    `unknown descriptor "${descriptor}" (supported: ${[...DESCRIPTORS.keys()].join(", ")})`,
  );
}

/** False when days must match both fields and no chosen month has a chosen day. */
function canFire(schedule: CronSchedule): boolean {
  if (schedule.dayRule === "either") return true;
  const shortest = Math.min(...schedule.daysOfMonth);
  return schedule.months.some((month) => (MONTH_LENGTHS[month - 1] ?? 0) >= shortest);
}
