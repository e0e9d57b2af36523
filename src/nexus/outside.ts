/**
 * The dashboard's outside world: running `pylon` itself (CLI wizards attached to the terminal,
 * a detached daemon), starting and stopping the daemon, and the background update check.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { VERSION } from "../version.ts";
import type { CommandContext } from "../cli/command.ts";
import { execCommand } from "../cli/service_unit.ts";
import { runProgram, unitState } from "../cli/systemd.ts";
import { stopCommand } from "../cli/commands/stop.ts";
import { connectDaemon } from "../cli/daemon_client.ts";

/** The command line that runs this pylon: the binary, or `deno run <flags> main.ts`. */
export function pylonArgv(): string[] {
  const main = fileURLToPath(new URL("../../main.ts", import.meta.url));
  return execCommand(Deno.execPath(), main, join(dirname(main), "deno.json"));
}

/**
 * Runs `pylon <argv>` on the terminal and waits for Enter afterwards, so its output can be read
 * before the dashboard comes back (Ctrl+C comes back at once). `askName`: asks for a pylon
 * name first (construct).
 */
export async function runCliAttached(
  ctx: CommandContext,
  argv: string[],
  options: { askName?: boolean } = {},
): Promise<number> {
  const script = [
    // Ctrl+C stops the command (and this script) and ends the line it was on: the dashboard
    // comes back, and the screen it leaves at the end starts a fresh line.
    "trap 'echo; exit 130' INT",
    options.askName
      ? 'printf "Name of the new pylon (empty cancels): "; read name; [ -n "$name" ] || exit 0; set -- "$@" "$name"'
      : ":",
    '"$@"; code=$?',
    'printf "\\n[exit %s] Press Enter to return to nexus " "$code"; read _; exit "$code"',
  ].join("\n");
  const child = new Deno.Command("sh", {
    args: ["-c", script, "sh", ...pylonArgv(), ...argv],
    env: { PYLON_HOME: ctx.paths.root },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).code;
}

/**
 * Starts the daemon: through systemd when a pylon unit is installed, else as a detached
 * `pylon start` whose output goes to `$PYLON_HOME/daemon.log`. Waits (at most `waitMs`) until
 * it answers.
 */
export async function startDaemon(ctx: CommandContext, waitMs = 20_000): Promise<string> {
  for (const scope of ["user", "system"] as const) {
    const unit = await unitState(runProgram, scope).catch(() => null);
    if (unit && typeof unit === "object" && unit.loadState === "loaded") {
      const args = [...(scope === "user" ? ["--user"] : []), "start", "pylon"];
      const r = await runProgram("systemctl", args);
      if (r && r.code !== 0) return `systemctl ${args.join(" ")} failed: ${r.stderr.trim()}`;
      return await waitForDaemon(ctx, waitMs, `started the ${scope} service`);
    }
  }
  const log = join(ctx.paths.root, "daemon.log");
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec "$@" >>"$PYLON_DAEMON_LOG" 2>&1 </dev/null', "sh", ...pylonArgv(), "start"],
    env: { PYLON_HOME: ctx.paths.root, PYLON_DAEMON_LOG: log },
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  return await waitForDaemon(ctx, waitMs, `started the daemon (log: ${log})`);
}

async function waitForDaemon(ctx: CommandContext, waitMs: number, said: string): Promise<string> {
  const until = Date.now() + waitMs;
  while (Date.now() < until) {
    if (await connectDaemon(ctx)) return said;
    await new Promise((r) => setTimeout(r, 250));
  }
  return `${said}, but it does not answer yet; see ${join(ctx.paths.root, "daemon.log")}`;
}

/** `pylon stop`, its output kept off the screen; returns its last line. */
export async function stopDaemon(ctx: CommandContext): Promise<string> {
  let out = "";
  const quiet: CommandContext = {
    ...ctx,
    io: { ...ctx.io, out: (t) => void (out += t), err: (t) => void (out += t) },
  };
  const code = await stopCommand.run({ positionals: [], values: {} }, quiet);
  const last = out.trim().split("\n").at(-1) ?? "";
  return code === 0 ? last || "daemon stopped" : `pylon stop failed: ${last}`;
}

/** Where the update check asks for the latest release. */
export function releaseApiUrl(env: Record<string, string>): string {
  return env.PYLON_UPDATE_URL ||
    `https://api.github.com/repos/${env.PYLON_REPO || "pylon-dev/pylon"}/releases/latest`;
}

/**
 * Whether release `tag` (`1.2.3`, maybe with a suffix) is newer than `current`, comparing
 * major, minor and patch as numbers: a build ahead of the latest release (from a branch, or a
 * release withdrawn on GitHub) is not offered a downgrade as an update.
 */
export function isNewerVersion(tag: string, current: string): boolean {
  const parse = (v: string) => /^v?(\d+)\.(\d+)\.(\d+)/.exec(v)?.slice(1).map(Number);
  const next = parse(tag);
  const now = parse(current);
  if (!next) return false;
  if (!now) return true;
  for (let i = 0; i < 3; i++) {
    if (next[i]! !== now[i]!) return next[i]! > now[i]!;
  }
  return false;
}

/** Options of {@linkcode checkForUpdate}. */
export interface UpdateCheckOptions {
  url: string;
  /** The running executable; from source (deno) there is nothing to upgrade. */
  execPath: string;
  current?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * The latest release's version when it is newer than this one, else null. Never throws and
 * gives up after `timeoutMs`: the dashboard never waits for it.
 */
export async function checkForUpdate(o: UpdateCheckOptions): Promise<string | null> {
  if (/(^|\/)deno(\.exe)?$/.test(o.execPath)) return null;
  try {
    const res = await (o.fetch ?? fetch)(o.url, {
      signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
      headers: { accept: "application/vnd.github+json" },
    });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const body = await res.json() as { tag_name?: unknown };
    const tag = typeof body.tag_name === "string" ? body.tag_name.replace(/^v/, "") : null;
    return tag && isNewerVersion(tag, o.current ?? VERSION) ? tag : null;
  } catch {
    return null;
  }
}
