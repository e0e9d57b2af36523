/**
 * The error raised for a cron expression or time zone pylon cannot use.
 *
 * @module
 */

import { PylonError, type PylonErrorOptions } from "../errors.ts";

/** One of the five fields of a cron expression, as named in messages. */
export type CronField = "minute" | "hour" | "day-of-month" | "month" | "day-of-week";

/** Options of a {@linkcode CronError}. */
export interface CronErrorOptions extends PylonErrorOptions {
  /** The expression as the user wrote it. */
  expression: string;
  /** The field at fault, when one is. */
  field?: CronField | undefined;
}

/** A cron expression that does not parse or never fires; config loading turns it into a `ConfigError`. */
export class CronError extends PylonError {
  /** The expression as the user wrote it. */
  readonly expression: string;
  /** The field at fault, when one is. */
  readonly field: CronField | undefined;

  constructor(message: string, options: CronErrorOptions) {
    super(message, options);
    this.name = "CronError";
    this.expression = options.expression;
    this.field = options.field;
  }
}
