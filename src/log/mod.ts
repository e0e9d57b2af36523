/**
 * Structured logging. With `cli/`, the only area that writes to the console.
 *
 * @module
 */

export { createLogger, logfmt } from "./logger.ts";
export type { LogFields, Logger, LoggerOptions, LogLevel } from "./logger.ts";
