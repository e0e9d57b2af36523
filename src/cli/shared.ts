/**
 * Small helpers shared by several commands: loading a pylon by name with the right errors,
 * prompts, and table output.
 *
 * @module
 */

import {
  assertPylonName,
  type LoadedGlobal,
  type LoadedPylon,
  loadGlobalConfig,
  loadPylon,
} from "../config/mod.ts";
import { PylonError } from "../errors.ts";
import type { CliIo, CommandContext } from "./command.ts";

/** Loads config.yaml and the named pylon. @throws {ConfigError} @throws {UsageError} */
export async function loadNamedPylon(
  ctx: CommandContext,
  name: string,
): Promise<{ global: LoadedGlobal; pylon: LoadedPylon }> {
  assertPylonName(name);
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  return { global, pylon: await loadPylon(ctx.paths, name, global) };
}

/** Throws the standard "not found" error unless the pylon's file exists. */
export async function assertPylonExists(ctx: CommandContext, name: string): Promise<string> {
  assertPylonName(name);
  const path = ctx.paths.pylonConfig(name);
  try {
    await Deno.stat(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new PylonError(`Pylon "${name}" does not exist`, {
      hint: `run \`pylon list\` to see your pylons, or \`pylon construct ${name}\` to create it`,
    });
  }
  return path;
}

/** Asks a question on the terminal; an empty answer takes the default. */
export async function ask(io: CliIo, question: string, fallback = ""): Promise<string> {
  io.out(fallback ? `${question} [${fallback}]: ` : `${question}: `);
  const line = await io.readLine();
  if (line === null) throw new PylonError("Input ended before the question was answered");
  return line.trim() === "" ? fallback : line.trim();
}

/** Asks until the answer passes `problem` (which says what is wrong, or undefined). */
export async function askValid(
  io: CliIo,
  question: string,
  fallback: string,
  problem: (v: string) => string | undefined,
): Promise<string> {
  for (;;) {
    const answer = await ask(io, question, fallback);
    const p = problem(answer);
    if (!p) return answer;
    io.out(`  ${p}\n`);
  }
}

/** Asks until the answer is one of `choices`. */
export async function choose<T extends string>(
  io: CliIo,
  question: string,
  choices: readonly T[],
  fallback: T,
): Promise<T> {
  for (;;) {
    const answer = await ask(io, `${question} (${choices.join(", ")})`, fallback);
    if ((choices as readonly string[]).includes(answer)) return answer as T;
    io.out(`  Please answer one of: ${choices.join(", ")}\n`);
  }
}

/** Formats rows as left-aligned columns; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) =>
    r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join("")
      .trimEnd()
  ).join("\n") + "\n";
}
