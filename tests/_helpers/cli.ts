/**
 * A recording {@linkcode CommandContext} over a temp `PYLON_HOME`, for calling commands directly.
 */

import { createPylonPaths } from "../../src/config/mod.ts";
import type { CommandContext } from "../../src/cli/command.ts";
import { runCli } from "../../src/cli/main.ts";

/** A context whose output is captured and whose input is scripted. */
export interface TestContext extends CommandContext {
  stdout(): string;
  stderr(): string;
  /** Removes the temp home. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@linkcode createTestContext}. */
export interface TestContextOptions {
  input?: string[];
  isTty?: boolean;
  env?: Record<string, string>;
  now?: Date;
  editor?: (cmd: string, args: string[]) => Promise<number>;
}

/** Creates a context with a fresh temp `PYLON_HOME`. */
export async function createTestContext(options: TestContextOptions = {}): Promise<TestContext> {
  const root = await Deno.makeTempDir({ prefix: "pylon-test-" });
  let out = "";
  let err = "";
  const input = [...(options.input ?? [])];
  return {
    paths: createPylonPaths(root),
    env: { HOME: "/home/tester", PYLON_HOME: root, TZ: "UTC", ...options.env },
    io: {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      readLine: () => Promise.resolve(input.length ? input.shift()! : null),
      isTty: options.isTty ?? false,
    },
    clock: { now: () => options.now ?? new Date("2026-11-24T10:00:00Z") },
    spawnInteractive: options.editor ?? (() => Promise.resolve(0)),
    stdout: () => out,
    stderr: () => err,
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** Runs the CLI in `ctx`; returns the exit code. */
export function cli(ctx: CommandContext, ...argv: string[]): Promise<number> {
  return runCli(argv, ctx);
}

/** Writes a pylon.yaml (and optional .env) into the context's home. */
export async function writePylon(
  ctx: CommandContext,
  name: string,
  yaml: string,
  dotEnv?: string,
): Promise<void> {
  await Deno.mkdir(ctx.paths.pylonDir(name), { recursive: true });
  await Deno.writeTextFile(ctx.paths.pylonConfig(name), yaml);
  if (dotEnv !== undefined) await Deno.writeTextFile(ctx.paths.pylonEnv(name), dotEnv);
}
