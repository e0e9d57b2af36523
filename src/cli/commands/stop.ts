/**
 * `pylon stop` and `pylon restart`: act on a systemd-managed daemon when there is one; otherwise
 * `stop` signals the daemon recorded in `$PYLON_HOME/daemon.pid`, and `restart` says how.
 *
 * @module
 */

import { readPidFile } from "../../daemon/pidfile.ts";
import { PylonError } from "../../errors.ts";
import type { Command, CommandContext } from "../command.ts";
import { activeUnit } from "../systemd.ts";

async function systemctl(
  ctx: CommandContext,
  scope: "user" | "system",
  verb: string,
): Promise<number> {
  const args = [...(scope === "user" ? ["--user"] : []), verb, "pylon"];
  ctx.io.out(`systemctl ${args.join(" ")}\n`);
  const { code, stderr } = await new Deno.Command("systemctl", {
    args,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (code !== 0) {
    throw new PylonError(
      `systemctl ${verb} pylon failed: ${new TextDecoder().decode(stderr).trim()}`,
    );
  }
  return 0;
}

export const stopCommand: Command = {
  name: "stop",
  summary: "Stop the running daemon (systemd service or foreground process)",
  usage: "stop",
  description: `Stops the systemd service when pylon runs as one; otherwise sends SIGTERM to the
daemon recorded in $PYLON_HOME/daemon.pid and waits for it to exit. Running agent containers
are left alone; the next daemon re-attaches to them.`,
  options: {},
  positionals: { min: 0, max: 0 },
  async run(_args, ctx) {
    const unit = await activeUnit();
    if (unit) return await systemctl(ctx, unit, "stop");
    const info = await readPidFile(ctx.paths.daemonPid);
    if (!info) {
      ctx.io.out("No daemon is running for this PYLON_HOME.\n");
      return 0;
    }
    try {
      Deno.kill(info.pid, "SIGTERM");
    } catch (e) {
      if (
        e instanceof Deno.errors.NotFound ||
        (e instanceof Error && /ESRCH|No such process/.test(e.message))
      ) {
        await Deno.remove(ctx.paths.daemonPid).catch(() => {});
        ctx.io.out(`No daemon is running (removed a stale pid file for pid ${info.pid}).\n`);
        return 0;
      }
      throw new PylonError(`Cannot signal the daemon (pid ${info.pid})`, {
        hint: "it may belong to another user; stop it as that user or with sudo",
        cause: e,
      });
    }
    ctx.io.out(`Stopping the daemon (pid ${info.pid})...\n`);
    for (let waited = 0; waited < 10_000; waited += 100) {
      if (!(await readPidFile(ctx.paths.daemonPid))) {
        ctx.io.out("Stopped.\n");
        return 0;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new PylonError(`The daemon (pid ${info.pid}) did not stop within 10 s`, {
      hint: `check its output, or force it with kill -9 ${info.pid} (jobs survive that)`,
    });
  },
};

export const restartCommand: Command = {
  name: "restart",
  summary: "Restart the daemon when it runs as a systemd service",
  usage: "restart",
  description:
    "Restarts the systemd service. A daemon started in a terminal cannot restart itself: " +
    "stop it (`pylon stop` or Ctrl+C) and run `pylon start` again.",
  options: {},
  positionals: { min: 0, max: 0 },
  async run(_args, ctx) {
    const unit = await activeUnit();
    if (unit) return await systemctl(ctx, unit, "restart");
    const info = await readPidFile(ctx.paths.daemonPid);
    throw new PylonError(
      info
        ? `The daemon (pid ${info.pid}) is not managed by systemd, so it cannot be restarted from here`
        : "No daemon is running for this PYLON_HOME",
      {
        hint: info
          ? "run `pylon stop`, then `pylon start` in its terminal"
          : "start it with `pylon start`",
      },
    );
  },
};
