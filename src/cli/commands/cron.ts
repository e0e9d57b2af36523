/**
 * `pylon cron "<expr>" [--tz ZONE] [--from TIME] [--count N] [--json]`: explains a cron
 * expression and lists its next fire times, computed exactly as the daemon schedules them.
 *
 * @module
 */

import {
  CronError,
  type CronSchedule,
  describeCron,
  nextRuns,
  normalizeTimezone,
  parseCron,
  systemTimezone,
} from "../../cron/mod.ts";
import { UsageError } from "../../errors.ts";
import type { Command, CommandContext, ParsedArgs } from "../command.ts";

const DEFAULT_COUNT = 5;
const MAX_COUNT = 1000;
const COUNT_REGEXP = /^\d+$/;
const ABBREVIATION_REGEXP = /^[A-Z]{2,5}$/;
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** `pylon cron`: describes an expression and prints its next fire times. */
export const cronCommand: Command = {
  name: "cron",
  summary: "Explain a cron expression and list its next fire times",
  usage: 'cron "<expression>" [--tz ZONE] [--from TIME] [--count N] [--json]',
  description: `Reads the expression the way the daemon does: five fields (minute hour day-of-month
month day-of-week, names like MON or JAN allowed, 0 or 7 for Sunday) or one of @hourly,
@daily, @weekly, @monthly, @yearly. Quote it so the shell leaves the * alone.
When both day fields are restricted, a day matches if either one does. A fixed time that falls
in a daylight-saving gap runs once, right after the gap; one in a repeated hour runs once.
--from takes an instant (2026-03-09T09:00:00Z) or a local time in the zone (2026-03-09T09:00).`,
  options: {
    tz: {
      type: "string",
      valueName: "ZONE",
      description: "IANA time zone (default: the system's)",
    },
    from: {
      type: "string",
      valueName: "TIME",
      description: "List fire times after this (default: now)",
    },
    count: {
      type: "string",
      valueName: "N",
      description: `How many fire times (default ${DEFAULT_COUNT})`,
    },
    json: { type: "boolean", description: "Print {description, timezone, next} as JSON" },
  },
  positionals: { min: 1, max: 1 },
  run(args, ctx) {
    // The work is synchronous; errors still reach the caller as a rejected promise.
    try {
      return Promise.resolve(explainCron(args, ctx));
    } catch (e) {
      return Promise.reject(e);
    }
  },
};

/** The command proper; returns the exit code. @throws {UsageError} */
function explainCron(args: ParsedArgs, ctx: CommandContext): number {
  const tzOption = args.values.tz;
  const requestedZone = typeof tzOption === "string" ? tzOption : systemTimezone(ctx.env);
  const zone = normalizeTimezone(requestedZone);
  if (zone === undefined) {
    throw new UsageError(`Cannot list fire times: unknown time zone "${requestedZone}"`, {
      hint: "use an IANA name such as Europe/Berlin, America/New_York or UTC",
    });
  }
  const count = parseCount(args.values.count);

  let schedule: CronSchedule;
  try {
    schedule = parseCron(args.positionals[0] ?? "");
  } catch (e) {
    if (!(e instanceof CronError)) throw e;
    ctx.io.err(`Error: ${e.message}\n`);
    if (e.hint) ctx.io.err(`  ${e.hint}\n`);
    return 1;
  }
  const timezone = schedule.timezone ?? zone;
  const from = parseFrom(args.values.from, timezone) ?? ctx.clock.now();
  const description = describeCron(schedule);
  const next = nextRuns(schedule, { timezone, from, count });

  if (args.values.json) {
    const json = { description, timezone, next: next.map(utcIso) };
    ctx.io.out(`${JSON.stringify(json)}\n`);
    return 0;
  }
  const origin = schedule.timezone === undefined ? "" : " (from the expression)";
  const lines = [description, `Time zone: ${timezone}${origin}`];
  lines.push(
    next.length === 0
      ? "No fire times found."
      : next.length === 1
      ? "Next fire time:"
      : `Next ${next.length} fire times:`,
  );
  for (const run of next) lines.push(`  ${formatRun(run, timezone)}`);
  ctx.io.out(`${lines.join("\n")}\n`);
  return 0;
}

/** Reads `--count`. @throws {UsageError} */
function parseCount(value: unknown): number {
  if (value === undefined) return DEFAULT_COUNT;
  const count = typeof value === "string" && COUNT_REGEXP.test(value) ? Number(value) : 0;
  if (count < 1 || count > MAX_COUNT) {
    throw new UsageError(
      `Cannot list fire times as --count must be a whole number from 1 to ${MAX_COUNT}: current value is "${value}"`,
    );
  }
  return count;
}

/** Reads `--from`: an instant with offset, or a local date/time in `zone`. @throws {UsageError} */
function parseFrom(value: unknown, zone: string): Date | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  try {
    return new Date(Temporal.Instant.from(text).epochMilliseconds);
  } catch {
    // Not an instant: try a local time below.
  }
  try {
    const local = Temporal.PlainDateTime.from(text).toZonedDateTime(zone);
    return new Date(local.epochMilliseconds);
  } catch {
    throw new UsageError(
      `Cannot list fire times as --from is not an ISO-8601 time: current value is "${text}"`,
      {
        hint: "use e.g. 2026-03-09T09:00:00Z, 2026-03-09T09:00+01:00 or 2026-03-09T09:00 (in --tz)",
      },
    );
  }
}

/** `2026-03-09T13:00:00Z`: UTC, no milliseconds. */
function utcIso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** `Mon 2026-03-09 09:00 EDT (-04:00)  2026-03-09 13:00 UTC`. */
function formatRun(date: Date, zone: string): string {
  const local = Temporal.Instant.fromEpochMilliseconds(date.getTime()).toZonedDateTimeISO(zone);
  const day = WEEKDAYS[local.dayOfWeek - 1] ?? "";
  const abbreviation = zoneAbbreviation(date, zone);
  const wall = `${day} ${local.toPlainDate()} ${pad(local.hour)}:${pad(local.minute)}`;
  const shown = `${wall} ${abbreviation ? `${abbreviation} ` : ""}(${local.offset})`;
  if (local.offsetNanoseconds === 0 && abbreviation === "UTC") return shown;
  const utc = utcIso(date).slice(0, 16).replace("T", " ");
  return `${shown}  ${utc} UTC`;
}

/** A letters-only abbreviation such as EDT, CEST or BST, when one is in common use. */
function zoneAbbreviation(date: Date, zone: string): string | undefined {
  for (const locale of ["en-US", "en-GB"]) {
    const parts = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: "short" })
      .formatToParts(date);
    const name = parts.find((part) => part.type === "timeZoneName")?.value ?? "";
    if (ABBREVIATION_REGEXP.test(name)) return name;
  }
  return undefined;
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}
