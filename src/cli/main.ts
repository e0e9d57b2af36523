/**
 * The `pylon` command line: parses arguments, dispatches to a command, and turns errors into
 * messages and exit codes (0 ok, 1 failed, 2 usage). The only place besides `log/` that writes
 * to the console.
 *
 * Arguments are parsed with `node:util` `parseArgs` (built into Deno, no dependency): each
 * command declares its options once and the same declaration drives parsing, `--help` and
 * shell completion. A CLI framework would add a dependency for what is ~150 lines here.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { PylonError, UsageError } from "../errors.ts";
import { closest } from "../config/issues.ts";
import type { Command, CommandContext, ParsedArgs } from "./command.ts";
import { COMMANDS } from "./registry.ts";
import { commandHelp, mainHelp } from "./help.ts";

/** Finds a command by name (hidden ones included). */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Parses `argv` for `command`. @throws {UsageError} */
export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = { type: spec.type };
    if (spec.short) options[name].short = spec.short;
    if (spec.multiple) options[name].multiple = spec.multiple;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new UsageError(
      `Cannot parse arguments of \`pylon ${command.name}\`: ${cleanArgError(message)}`,
      {
        hint: `run \`pylon ${command.name} --help\``,
      },
    );
  }
  const { min, max } = command.positionals;
  const n = parsed.positionals.length;
  if (n < min || n > max) {
    const expected = min === max
      ? `${min}`
      : max === Infinity
      ? `at least ${min}`
      : `${min} to ${max}`;
    throw new UsageError(
      `Wrong number of arguments for \`pylon ${command.name}\`: expected ${expected}, got ${n}`,
      { hint: `usage: pylon ${command.usage}` },
    );
  }
  return { positionals: parsed.positionals, values: parsed.values as ParsedArgs["values"] };
}

function cleanArgError(message: string): string {
  return message.replace(/\. To specify a positional argument.*$/s, "").replace(/\.$/, "");
}

/** Runs the CLI with `argv` (without the program name); returns the exit code. */
export async function runCli(argv: string[], ctx: CommandContext): Promise<number> {
  const debug = argv.includes("--debug");
  const args = argv.filter((a) => a !== "--debug");
  try {
    return await dispatch(args, ctx);
  } catch (e) {
    return reportError(e, ctx, debug);
  }
}

async function dispatch(args: string[], ctx: CommandContext): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === "--help" || first === "-h") {
    ctx.io.out(mainHelp(COMMANDS));
    return 0;
  }
  if (first === "--version" || first === "-v") return await run("version", [], ctx);
  if (first === "help") {
    if (rest[0] === undefined) {
      ctx.io.out(mainHelp(COMMANDS));
      return 0;
    }
    const target = findCommand(rest[0]) ?? unknownCommand(rest[0]);
    ctx.io.out(commandHelp(target));
    return 0;
  }
  if (first.startsWith("-")) {
    throw new UsageError(`Unknown option "${first}"`, { hint: "run `pylon --help`" });
  }
  return await run(first, rest, ctx);
}

async function run(name: string, argv: string[], ctx: CommandContext): Promise<number> {
  const command = findCommand(name) ?? unknownCommand(name);
  if (argv.includes("--help") || argv.includes("-h")) {
    ctx.io.out(commandHelp(command));
    return 0;
  }
  return await command.run(parseCommandArgs(command, argv), ctx);
}

function unknownCommand(name: string): never {
  const visible = COMMANDS.filter((c) => !c.hidden).map((c) => c.name);
  const guess = closest(name, visible);
  throw new UsageError(`Unknown command "${name}"`, {
    hint: guess
      ? `did you mean \`pylon ${guess}\`? (run \`pylon --help\` for all commands)`
      : "run `pylon --help` for all commands",
  });
}

/** The exit code of a program whose reader went away (`| head`): 128 + SIGPIPE, as a shell's. */
const BROKEN_PIPE_EXIT = 141;

function reportError(e: unknown, ctx: CommandContext, debug: boolean): number {
  // The reader of our output left (`pylon jobs | head`): nothing to tell, nowhere to tell it.
  if (e instanceof Deno.errors.BrokenPipe) return BROKEN_PIPE_EXIT;
  if (e instanceof PylonError) {
    ctx.io.err(`Error: ${e.message}\n`);
    if (e.hint) ctx.io.err(`  ${e.hint}\n`);
    if (debug) printCauses(e, ctx);
    return e instanceof UsageError ? 2 : 1;
  }
  const message = e instanceof Error ? e.message : String(e);
  ctx.io.err(`Error: ${message}\n`);
  if (debug && e instanceof Error && e.stack) ctx.io.err(`${e.stack}\n`);
  else ctx.io.err("  run again with --debug for details\n");
  return 1;
}

function printCauses(e: Error, ctx: CommandContext): void {
  let cause: unknown = e.cause;
  while (cause !== undefined) {
    ctx.io.err(`  caused by: ${cause instanceof Error ? cause.message : String(cause)}\n`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  if (e.stack) ctx.io.err(`${e.stack}\n`);
}
