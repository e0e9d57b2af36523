/**
 * Cron expressions: parsing with field-level errors, English descriptions, and fire times in an
 * IANA time zone with robfig/cron v3 field semantics and Vixie cron DST behaviour.
 *
 * Pure apart from {@linkcode systemTimezone}, which may read the `/etc/localtime` symlink. It
 * imports nothing of pylon's but `errors.ts`.
 *
 * @module
 */

export { CronError } from "./errors.ts";
export type { CronErrorOptions, CronField } from "./errors.ts";
export { parseCron } from "./parse.ts";
export type { CronSchedule } from "./parse.ts";
export { describeCron } from "./describe.ts";
export { nextRuns } from "./next.ts";
export type { NextRunsOptions } from "./next.ts";
export { isValidTimezone, normalizeTimezone, systemTimezone } from "./timezone.ts";
export type { SystemTimezoneOptions } from "./timezone.ts";
