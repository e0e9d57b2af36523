/**
 * The shape every CLI command has, and the context it runs in.
 *
 * Commands never touch `Deno.args`, `Deno.exit` or the console directly: they get their
 * arguments already parsed and write through `ctx.io`, so tests call `command.run()` with a
 * recording io and a temp `PYLON_HOME`.
 *
 * @module
 */

import type { PylonPaths } from "../config/paths.ts";

/** Where a command writes and reads; the real one wraps the process streams. */
export interface CliIo {
  /** Writes text to standard output, as is (add the newline yourself). */
  out(text: string): void;
  /** Writes text to standard error, as is. */
  err(text: string): void;
  /** Reads one line from standard input (without the newline); `null` at end of input. */
  readLine(): Promise<string | null>;
  /**
   * Writes `prompt`, then reads one line like `readLine` without echoing it on a terminal
   * (tokens, keys). The prompt appears only once echo is off, so nothing typed as soon as it
   * shows is echoed. Absent where input is not a terminal; callers then use `readLine`.
   */
  readSecret?(prompt: string): Promise<string | null>;
  /** Whether standard input and output are an interactive terminal. */
  readonly isTty: boolean;
}

/** Wall clock, injected so tests can pin "now". */
export interface Clock {
  now(): Date;
}

/** Everything a command may use from the outside world. */
export interface CommandContext {
  paths: PylonPaths;
  /** The process environment (a snapshot; commands do not mutate the real one). */
  env: Record<string, string>;
  io: CliIo;
  clock: Clock;
  /**
   * The folder the user ran `pylon` from, which relative paths in arguments are resolved from
   * (`deno task` runs elsewhere; see `caller.ts`). Absent: the process's working directory.
   */
  cwd?: string;
  /** Runs a program attached to the terminal (the editor); returns its exit code. */
  spawnInteractive(cmd: string, args: string[]): Promise<number>;
}

/** One option of a command, in the form `node:util` `parseArgs` accepts, plus help text. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Shown in `--help`. */
  description: string;
  /** Placeholder shown in help for string options, e.g. `ZONE`. */
  valueName?: string;
}

/** Parsed command line handed to {@linkcode Command.run}. */
export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
}

/** What kind of value a positional argument takes, for shell completion. */
export type CompletionKind = "pylon" | "job" | "none";

/** A CLI verb such as `list` or `cron`. */
export interface Command {
  name: string;
  /** One line, shown in `pylon --help`. */
  summary: string;
  /** Usage line after `pylon `, e.g. `cron <expression> [--tz ZONE]`. */
  usage: string;
  /** Longer help text shown by `pylon <name> --help` (may be empty). */
  description: string;
  options: Record<string, OptionSpec>;
  /** Minimum and maximum number of positional arguments. */
  positionals: { min: number; max: number; completion?: CompletionKind };
  /** Hidden from the command list (still runs). */
  hidden?: boolean;
  /** Runs the command; returns the process exit code (0 ok, 1 failed). Throws `UsageError` for 2. */
  run(args: ParsedArgs, ctx: CommandContext): Promise<number>;
}
