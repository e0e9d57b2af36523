/**
 * English descriptions of cron expressions, through `npm:cronstrue`.
 *
 * Times use the 12-hour clock ("At 09:00 AM, only on Monday"), the wording the Go reference
 * shows in `pylon start` and `pylon list`.
 *
 * @module
 */

import cronstrue from "cronstrue";
import { type CronSchedule, parseCron } from "./parse.ts";

/**
 * Describes a cron expression in English, e.g. "At 09:00 AM, Monday through Friday".
 *
 * @throws {CronError} when the expression does not parse
 */
export function describeCron(expr: string | CronSchedule): string {
  const schedule = typeof expr === "string" ? parseCron(expr) : expr;
  try {
    return cronstrue.toString(schedule.fields.join(" "), {
      throwExceptionOnParseError: true,
      use24HourTimeFormat: false,
      verbose: false,
    });
  } catch {
    // cronstrue rejects a few forms the parser accepts: show the expression itself.
    return schedule.expression;
  }
}
