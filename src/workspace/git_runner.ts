/**
 * The one place that starts git. Everything in the workspace area goes through a `GitRunner`, so
 * tests can wrap it (recording every command) and the composition root decides the binary.
 *
 * The real runner never uses a shell, never lets git prompt, refuses every transport except
 * file, git, http(s) and ssh (no `ext::` or other remote helpers) and drops `GIT_DIR`-style
 * variables a parent process may have set, so `cwd` alone decides the repository.
 *
 * @module
 */

import { WorkspaceError } from "./errors.ts";

/** Options of one git command. */
export interface GitRunOptions {
  /** Working directory; the repository git works in. */
  cwd?: string | undefined;
  /** Kills git when aborted. */
  signal?: AbortSignal | undefined;
  /** Extra environment for this command only. */
  env?: Record<string, string> | undefined;
}

/** What a finished git command left behind. */
export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs git with an argument vector (never a shell line). */
export interface GitRunner {
  run(args: string[], opts: GitRunOptions): Promise<GitResult>;
}

/** Options of {@linkcode createGitRunner}. */
export interface CreateGitRunnerOptions {
  /** The git binary; default `git` from `PATH`. */
  gitPath?: string | undefined;
  /** Added to the inherited environment of every command (after the safety defaults). */
  env?: Record<string, string> | undefined;
  /** The environment commands inherit (before the dropped variables). @default {this process's} */
  inheritedEnv?: Record<string, string> | undefined;
}

/** Transports git may use; `ext::` and other remote helpers are refused by git itself. */
export const ALLOWED_PROTOCOLS = "file:git:http:https:ssh";

/** Variables that would point git at another repository than `cwd`. */
const DROPPED_VARS = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
];

const decoder = new TextDecoder();

/** Creates the real runner, which starts `git` through `Deno.Command`. */
export function createGitRunner(options: CreateGitRunnerOptions = {}): GitRunner {
  const gitPath = options.gitPath ?? "git";
  const base = { ...(options.inheritedEnv ?? Deno.env.toObject()) };
  for (const name of DROPPED_VARS) delete base[name];
  const env: Record<string, string> = {
    ...base,
    GIT_TERMINAL_PROMPT: "0",
    GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS,
    GCM_INTERACTIVE: "never",
    // English messages, so errors can be recognised and read by every user alike.
    LC_ALL: "C",
    LANGUAGE: "C",
    ...options.env,
  };
  return {
    async run(args, opts) {
      const command = new Deno.Command(gitPath, {
        args,
        ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
        env: opts.env ? { ...env, ...opts.env } : env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      let out: Deno.CommandOutput;
      try {
        out = await command.output();
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          throw new WorkspaceError(`Cannot run git: "${gitPath}" was not found`, {
            hint: "install git on the daemon's host (e.g. `apt-get install git`) and restart",
            cause: e,
          });
        }
        throw e;
      }
      return {
        code: out.code,
        stdout: decoder.decode(out.stdout),
        stderr: decoder.decode(out.stderr),
      };
    },
  };
}
