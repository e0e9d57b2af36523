/**
 * Fire times of a cron schedule in an IANA time zone.
 *
 * Design note: why this is not croner. `npm:croner@11` was tried first and disagrees with
 * standard cron in ways no option fixes: it refuses `5/15` (robfig and Vixie: from 5 every 15),
 * refuses steps larger than the range (`*\/100`), and on a spring-forward day it skips
 * `15,45 2 * * *` entirely while shifting `30 2 * * *` to 03:00. So the computation is written
 * here, on `Temporal` (built into Deno 2.9), which gives exact gap and overlap handling.
 *
 * Semantics (checked against robfig/cron v3.0.1 in tests/cron/golden/cases.json):
 * - Fields, names, steps and the day-of-month/day-of-week rule are robfig's: when both day
 *   fields are restricted a day matches if either matches (see `CronSchedule.dayRule`).
 * - Daylight saving time follows Vixie cron, not robfig (which skips a time that falls in a
 *   spring-forward gap and runs a time in a repeated autumn hour twice):
 *   - fixed-time jobs (minute and hour fields not starting with `*`): a time inside a gap runs
 *     once, at the first instant after the gap (02:30 New York on the spring-forward day runs at
 *     03:00 EDT); a time in a repeated hour runs once, at its first occurrence;
 *   - wildcard jobs (`*\/15 * * * *`, `30 * * * *`): they follow real time, so a wall time inside
 *     a gap does not exist and is skipped, and a repeated hour runs at both occurrences (an
 *     hourly job still runs every hour).
 *
 * @module
 */

import { CronError } from "./errors.ts";
import { type CronSchedule, parseCron } from "./parse.ts";
import { normalizeTimezone } from "./timezone.ts";

/** Options of {@linkcode nextRuns}. */
export interface NextRunsOptions {
  /** Fire times are strictly after this instant. */
  from: Date;
  /**
   * IANA zone the expression is read in (a `CRON_TZ=` prefix in the expression wins).
   *
   * @default {"UTC"}
   */
  timezone?: string;
  /**
   * How many fire times to return.
   *
   * @default {1}
   */
  count?: number;
}

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;
/** Give up after this many days without a fire time (any valid schedule fires within 8 years). */
const SEARCH_DAYS = 366 * 10;

/**
 * The next `count` fire times of `expr` strictly after `from`, earliest first.
 *
 * @throws {CronError} when the expression does not parse or the zone is unknown
 */
export function nextRuns(expr: string | CronSchedule, options: NextRunsOptions): Date[] {
  const schedule = typeof expr === "string" ? parseCron(expr) : expr;
  const { from, count = 1 } = options;
  const requested = schedule.timezone ?? options.timezone ?? "UTC";
  const zone = normalizeTimezone(requested);
  if (zone === undefined) {
    throw new CronError(
      `Cannot compute fire times of "${schedule.expression}": unknown time zone "${requested}"`,
      { expression: schedule.expression, hint: "Use an IANA name such as Europe/Berlin or UTC" },
    );
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`Cannot compute fire times as 'count' must be a whole number: ${count}`);
  }
  let last = from.getTime();
  if (Number.isNaN(last)) {
    throw new RangeError("Cannot compute fire times as 'from' is an invalid date");
  }

  const months = new Set(schedule.months);
  const runs: Date[] = [];
  const fromDay = Temporal.Instant.fromEpochMilliseconds(last).toZonedDateTimeISO(zone)
    .toPlainDate();
  // Start a day early: a time in the previous day's gap may fire at its end.
  let day = Date.UTC(fromDay.year, fromDay.month - 1, fromDay.day) / MS_PER_DAY - 1;
  let giveUpAfter = day + SEARCH_DAYS;
  while (runs.length < count && day <= giveUpAfter) {
    const date = new Date(day * MS_PER_DAY);
    const year = date.getUTCFullYear();
    const month = date.getUTCMonth() + 1;
    if (!months.has(month)) {
      day = Date.UTC(year, month, 1) / MS_PER_DAY;
      continue;
    }
    if (dayMatches(schedule, date.getUTCDate(), date.getUTCDay())) {
      for (const run of runsOnDay(schedule, zone, date)) {
        if (run <= last) continue;
        runs.push(new Date(run));
        last = run;
        giveUpAfter = day + SEARCH_DAYS;
        if (runs.length === count) break;
      }
    }
    day++;
  }
  return runs;
}

/** robfig's `dayMatches`: both fields must match if one is starred, else either. */
function dayMatches(schedule: CronSchedule, dayOfMonth: number, dayOfWeek: number): boolean {
  const domMatch = schedule.daysOfMonth.includes(dayOfMonth);
  const dowMatch = schedule.daysOfWeek.includes(dayOfWeek);
  return schedule.dayRule === "both" ? domMatch && dowMatch : domMatch || dowMatch;
}

/** Epoch milliseconds of the schedule's fire times on one local date, ascending and distinct. */
function runsOnDay(schedule: CronSchedule, zone: string, date: Date): number[] {
  const plain = new Temporal.PlainDate(
    date.getUTCFullYear(),
    date.getUTCMonth() + 1,
    date.getUTCDate(),
  );
  const start = plain.toZonedDateTime(zone);
  const end = plain.add({ days: 1 }).toZonedDateTime(zone);
  const transition = start.getTimeZoneTransition("next");
  const steady = start.hour === 0 && start.minute === 0 &&
    (transition === null || Temporal.ZonedDateTime.compare(transition, end) >= 0);
  if (!steady) return runsAcrossTransition(schedule, zone, plain);

  // No offset change touches this date: every wall time exists exactly once.
  const base = date.getTime() - start.offsetNanoseconds / 1e6;
  const runs: number[] = [];
  for (const hour of schedule.hours) {
    for (const minute of schedule.minutes) {
      runs.push(base + hour * MS_PER_HOUR + minute * MS_PER_MINUTE);
    }
  }
  return runs;
}

/** The slow path for a date with an offset change: resolve each wall time on its own. */
function runsAcrossTransition(
  schedule: CronSchedule,
  zone: string,
  date: Temporal.PlainDate,
): number[] {
  const runs = new Set<number>();
  for (const hour of schedule.hours) {
    for (const minute of schedule.minutes) {
      const wall = date.toPlainDateTime({ hour, minute });
      const earlier = wall.toZonedDateTime(zone, { disambiguation: "earlier" });
      if (!earlier.toPlainDateTime().equals(wall)) {
        // In a gap: "earlier" is the wall time read with the new offset, just before the change.
        const gapEnd = earlier.getTimeZoneTransition("next");
        if (!schedule.wildcardTime && gapEnd !== null) runs.add(gapEnd.epochMilliseconds);
        continue;
      }
      runs.add(earlier.epochMilliseconds);
      if (schedule.wildcardTime) {
        runs.add(wall.toZonedDateTime(zone, { disambiguation: "later" }).epochMilliseconds);
      }
    }
  }
  return [...runs].sort((a, b) => a - b);
}
