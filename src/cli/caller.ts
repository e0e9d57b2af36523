/**
 * The folder the user ran `pylon` from, and relative paths resolved from it.
 *
 * `deno task pylon …` runs in the folder holding `deno.json`, not the caller's; `deno task` puts
 * the caller's folder in `INIT_CWD`. So when the process runs in the checkout's root and
 * `INIT_CWD` is set, that is the caller's folder; otherwise (the installed launcher, the compiled
 * binary) the process's own working directory is.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import type { CommandContext } from "./command.ts";

/**
 * The caller's folder: `INIT_CWD` when the process runs in `checkoutRoot` (a `deno task` of this
 * checkout), else `cwd`.
 */
export function callerCwd(
  env: Record<string, string | undefined>,
  cwd: string,
  checkoutRoot: string | undefined,
): string {
  const initCwd = env.INIT_CWD;
  if (!initCwd || !isAbsolute(initCwd) || checkoutRoot === undefined) return cwd;
  return resolve(cwd) === resolve(checkoutRoot) ? initCwd : cwd;
}

/** `path` resolved from the caller's folder (`ctx.cwd`, else the process's). */
export function fromCaller(ctx: Pick<CommandContext, "cwd">, path: string): string {
  return resolve(ctx.cwd ?? Deno.cwd(), path);
}
