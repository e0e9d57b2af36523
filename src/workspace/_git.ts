/**
 * Small helpers over a `GitRunner`: run and honour the job's signal, run or throw.
 *
 * @module
 */

import type { WorkspaceError } from "./errors.ts";
import type { GitResult, GitRunner } from "./git_runner.ts";

/** What every git call here needs. */
export interface GitCall {
  git: GitRunner;
  signal?: AbortSignal | undefined;
  /** Extra environment (a credential helper's variables); never put secrets in `args`. */
  env?: Record<string, string> | undefined;
}

/** Runs git in `cwd`; an aborted job surfaces as the signal's reason, not as a git failure. */
export async function runGit(call: GitCall, args: string[], cwd?: string): Promise<GitResult> {
  call.signal?.throwIfAborted();
  const result = await call.git.run(args, {
    cwd,
    signal: call.signal,
    ...(call.env ? { env: call.env } : {}),
  });
  call.signal?.throwIfAborted();
  return result;
}

/** Runs git and returns its stdout; a non-zero exit becomes `fail(result)`. */
export async function gitOk(
  call: GitCall,
  args: string[],
  cwd: string | undefined,
  fail: (result: GitResult) => WorkspaceError,
): Promise<string> {
  const result = await runGit(call, args, cwd);
  if (result.code !== 0) throw fail(result);
  return result.stdout;
}

/** Whether `path` exists (without following a final symlink). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
