/**
 * Running helper programs (systemctl, journalctl, git, a new pylon binary) and finding pylon's
 * systemd unit. Shared by `service`, `stop`/`restart`, `upgrade` and `doctor`.
 *
 * Under `sudo`, `systemctl --user` would talk to root's service manager, not to the one of the
 * user who typed the command; {@linkcode sudoUser} and {@linkcode scopeArgs} select that user's
 * manager with `--user -M <user>@` (systemd ≥ 248).
 *
 * @module
 */

import type { ServiceScope } from "./service_unit.ts";

/** What a finished program printed and how it exited. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of one program run. */
export interface RunOptions {
  /** Variables added to (or replacing) the inherited environment; `PATH` also finds `cmd`. */
  env?: Record<string, string> | undefined;
  /** Kills the program when aborted. */
  signal?: AbortSignal | undefined;
}

/** Runs a program to completion; `null` when it is not installed. */
export type ProgramRunner = (
  cmd: string,
  args: string[],
  options?: RunOptions,
) => Promise<RunResult | null>;

/** The real {@linkcode ProgramRunner}: no stdin, output captured. */
export async function runProgram(
  cmd: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult | null> {
  try {
    const { code, stdout, stderr } = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(options.env ? { env: options.env } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    }).output();
    const dec = new TextDecoder();
    return { code, stdout: dec.decode(stdout), stderr: dec.decode(stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * A {@linkcode runProgram} that runs every program with `env` (a command context's environment),
 * so its `PATH` decides which `systemctl` or `git` runs; tests put fake programs there.
 */
export function programRunner(env: Record<string, string>): ProgramRunner {
  return function runWithEnv(cmd, args, options = {}) {
    return runProgram(cmd, args, { ...options, env: { ...env, ...options.env } });
  };
}

/**
 * The user whose *user* unit `sudo pylon …` is about: `SUDO_USER` when running as root under
 * sudo, else undefined (also for `sudo -u root` and a non-root process with a stale SUDO_USER).
 */
export function sudoUser(env: Record<string, string>, uid: number | null): string | undefined {
  const user = env.SUDO_USER;
  if (uid !== 0 || !user || user === "root") return undefined;
  return /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(user) ? user : undefined;
}

/** `systemctl` arguments selecting a scope: `--user` (or `--user -M <user>@`), nothing for system. */
export function scopeArgs(scope: ServiceScope, user?: string): string[] {
  if (scope === "system") return [];
  return user ? ["--user", "-M", `${user}@`] : ["--user"];
}

/** Options of {@linkcode activeUnit}. */
export interface ActiveUnitOptions {
  /** Look at this user's manager for the user unit (see {@linkcode sudoUser}). */
  sudoUser?: string | undefined;
}

/** `user` or `system` when a pylon unit is active, else undefined (also without systemd). */
export async function activeUnit(
  run: ProgramRunner = runProgram,
  options: ActiveUnitOptions = {},
): Promise<"user" | "system" | undefined> {
  for (const scope of ["user", "system"] as const) {
    const args = [...scopeArgs(scope, options.sudoUser), "is-active", "--quiet", "pylon"];
    const r = await run("systemctl", args);
    if (r === null) return undefined; // no systemd here
    if (r.code === 0) return scope;
  }
  return undefined;
}

/** What systemd knows about pylon's unit in one scope. */
export interface UnitState {
  scope: ServiceScope;
  /** `loaded`, `not-found`, `masked`, … */
  loadState: string;
  /** `enabled`, `disabled`, `static`, … (empty when not installed) */
  unitFileState: string;
  /** `active`, `inactive`, `failed`, `activating`, … */
  activeState: string;
  /** The unit file, when installed. */
  path: string;
}

/**
 * Asks one scope's manager about `pylon.service` (`systemctl show`). `null` when systemctl is not
 * installed; a string (systemctl's complaint) when the manager cannot be reached.
 */
export async function unitState(
  run: ProgramRunner,
  scope: ServiceScope,
  user?: string,
): Promise<UnitState | string | null> {
  const props = "LoadState,UnitFileState,ActiveState,FragmentPath";
  const r = await run("systemctl", [...scopeArgs(scope, user), "show", "pylon", "-p", props]);
  if (r === null) return null;
  const values = new Map<string, string>();
  for (const line of r.stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  if (r.code !== 0 || !values.has("LoadState")) {
    const why = `${r.stderr}\n${r.stdout}`.trim().split("\n").filter((l) => l.trim()).at(-1);
    return why?.trim() || `systemctl exited with code ${r.code}`;
  }
  return {
    scope,
    loadState: values.get("LoadState") ?? "",
    unitFileState: values.get("UnitFileState") ?? "",
    activeState: values.get("ActiveState") ?? "",
    path: values.get("FragmentPath") ?? "",
  };
}
