/**
 * The real {@linkcode CommandContext}: process streams, environment, clock and editor.
 *
 * @module
 */

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createPylonPaths, resolvePylonHome } from "../config/mod.ts";
import { callerCwd } from "./caller.ts";
import { withoutEcho } from "./secret_input.ts";
import type { CliIo, CommandContext } from "./command.ts";

const encoder = new TextEncoder();

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

/** Reads stdin line by line, keeping what follows a line for the next call. */
function createLineReader(): () => Promise<string | null> {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let done = false;
  return async function readLine() {
    for (;;) {
      const nl = buffer.indexOf("\n");
      if (nl >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, "");
        buffer = buffer.slice(nl + 1);
        return line;
      }
      if (done) {
        if (buffer === "") return null;
        const rest = buffer;
        buffer = "";
        return rest;
      }
      const chunk = await reader.read();
      if (chunk.done) done = true;
      else buffer += chunk.value;
    }
  };
}

/** Builds the context of a real `pylon` process. */
export function createProcessContext(): CommandContext {
  const env = Deno.env.toObject();
  const checkoutRoot = import.meta.url.startsWith("file:")
    ? fileURLToPath(new URL("../..", import.meta.url))
    : undefined;
  const cwd = callerCwd(env, Deno.cwd(), checkoutRoot);
  // A relative PYLON_HOME means the caller's folder, whichever folder the process runs in.
  const home = resolve(cwd, resolvePylonHome(env));
  if (env.PYLON_HOME) env.PYLON_HOME = home;
  let readLine: (() => Promise<string | null>) | undefined;
  const io: CliIo = {
    out: (text) => writeAll(Deno.stdout, text),
    err: (text) => writeAll(Deno.stderr, text),
    readLine: () => (readLine ??= createLineReader())(),
    readSecret: (prompt) =>
      withoutEcho(() => (readLine ??= createLineReader())(), writeAll, prompt),
    isTty: Deno.stdin.isTerminal() && Deno.stdout.isTerminal(),
  };
  return {
    paths: createPylonPaths(home),
    env,
    cwd,
    io,
    clock: { now: () => new Date() },
    async spawnInteractive(cmd, args) {
      try {
        const child = new Deno.Command(cmd, {
          args,
          stdin: "inherit",
          stdout: "inherit",
          stderr: "inherit",
        })
          .spawn();
        return (await child.status).code;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          io.err(
            `Cannot start the editor "${cmd}": not found; set $EDITOR to an installed editor\n`,
          );
          return 127;
        }
        throw e;
      }
    },
  };
}
