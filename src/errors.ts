/**
 * Error types shared by every area of pylon.
 *
 * `PylonError` carries an optional `hint` (the fix a user can apply). Subclasses exist only for
 * conditions callers branch on. `cli/main.ts` is the single place that prints them.
 *
 * @module
 */

/** Options accepted by every pylon error. */
export interface PylonErrorOptions {
  /** What the user can do about it, printed on its own line after the message. */
  hint?: string | undefined;
  /** The underlying error, shown with `--debug`. */
  cause?: unknown;
}

/** Base class of every error pylon raises on purpose. */
export class PylonError extends Error {
  /** The fix a user can apply, if any. */
  readonly hint: string | undefined;

  constructor(message: string, options: PylonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PylonError";
    this.hint = options.hint;
  }
}

/** A position inside a config file. */
export interface ConfigIssue {
  /** Dotted field path, e.g. `trigger.type`; empty for whole-file problems. */
  keyPath: string;
  /** What is wrong, without the location. */
  message: string;
  /** 1-based line, when known. */
  line?: number | undefined;
  /** 1-based column, when known. */
  column?: number | undefined;
  /** How to fix it. */
  hint?: string | undefined;
}

/** Options of a {@linkcode ConfigError}. */
export interface ConfigErrorOptions extends PylonErrorOptions {
  /** The file the problem is in (shown to the user as written, `~` for the home folder). */
  file: string;
  /** Every problem found in the file; the message summarises them. */
  issues?: ConfigIssue[];
}

/** A config file that cannot be used, with every problem found in it. */
export class ConfigError extends PylonError {
  readonly file: string;
  readonly issues: ConfigIssue[];

  constructor(message: string, options: ConfigErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
    this.file = options.file;
    this.issues = options.issues ?? [];
  }
}

/** The command line was wrong; the CLI exits with code 2. */
export class UsageError extends PylonError {
  constructor(message: string, options: PylonErrorOptions = {}) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** A template failed to parse or execute, with the position inside it. */
export class TemplateError extends PylonError {
  /** Name of the template, normally the config field (`agent.prompt`). */
  readonly templateName: string;
  /** 1-based line inside the template text. */
  readonly line: number;
  /** 1-based column inside the template text. */
  readonly column: number;

  constructor(
    message: string,
    options: PylonErrorOptions & { templateName: string; line: number; column: number },
  ) {
    super(message, options);
    this.name = "TemplateError";
    this.templateName = options.templateName;
    this.line = options.line;
    this.column = options.column;
  }
}

/** The first 8 characters of a job id, as shown to users. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}
