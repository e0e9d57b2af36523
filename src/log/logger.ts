/**
 * Structured logging: one line per event on stderr, in logfmt (default) or JSON, readable by
 * journald. Events are dotted and lowercase (`webhook.rejected`); ids are fields.
 *
 * Never pass secrets, tokens, env values or whole payloads as fields.
 *
 * @module
 */

/** Field values a log line can carry. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** The logging interface every module takes. */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  with(fields: LogFields): Logger;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Where finished lines go (without newline); default: stderr. */
  write?: (line: string) => void;
  format?: "logfmt" | "json";
  level?: LogLevel;
  clock?: { now(): Date };
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

/** Creates a logger writing to stderr (or `options.write`). */
export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const write = options.write ?? writeStderr;
  const min = LEVELS[options.level ?? "info"];
  const clock = options.clock ?? { now: () => new Date() };
  const emit = (level: LogLevel, event: string, fields: LogFields = {}) => {
    if (LEVELS[level] < min) return;
    const all: LogFields = { time: clock.now().toISOString(), level, event, ...base, ...fields };
    write(options.format === "json" ? JSON.stringify(all) : logfmt(all));
  };
  return {
    debug: (e, f) => emit("debug", e, f),
    info: (e, f) => emit("info", e, f),
    warn: (e, f) => emit("warn", e, f),
    error: (e, f) => emit("error", e, f),
    with: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** Formats fields as `key=value key="quoted value"`; undefined values are skipped. */
export function logfmt(fields: LogFields): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = value === null ? "" : String(value);
    parts.push(/^[^\s"=\\]+$/.test(text) ? `${key}=${text}` : `${key}=${JSON.stringify(text)}`);
  }
  return parts.join(" ");
}
