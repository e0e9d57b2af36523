/**
 * Structured logging. With `cli/`, the only area that writes to the console.
 *
 * @module
 */

export { createLogger, logfmt } from "./logger.ts";
export type { LogFields, Logger, LoggerOptions, LogLevel } from "./logger.ts";
export {
  createRedactor,
  MIN_SECRET_LENGTH,
  NO_REDACTION,
  redactChunks,
  REDACTED,
  redactorFor,
} from "./redact.ts";
export type { Redactor, StreamRedactor } from "./redact.ts";
export { sanitizeAnsi, stripAnsi } from "./ansi.ts";
