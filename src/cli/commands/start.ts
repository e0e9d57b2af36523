/**
 * `pylon start [name…]`: the composition root of the daemon. Loads config.yaml (built-in
 * defaults without one), loads every pylon (a broken one is reported and skipped), binds the
 * HTTP server and runs until SIGINT/SIGTERM.
 *
 * @module
 */

import { PylonError, UsageError } from "../../errors.ts";
import {
  displayPath,
  loadAllPylons,
  type LoadedPylon,
  loadGlobalConfig,
  resolvePylon,
} from "../../config/mod.ts";
import { describeCron, nextRuns, systemTimezone } from "../../cron/mod.ts";
import { createApp } from "../../daemon/app.ts";
import { serveUntilStopped } from "../../daemon/server.ts";
import { createLogger } from "../../log/mod.ts";
import type { Command, CommandContext } from "../command.ts";

export const startCommand: Command = {
  name: "start",
  summary: "Run the daemon in the foreground (all pylons, or the named ones)",
  usage: "start [name…] [--host HOST] [--port PORT]",
  description: `Loads $PYLON_HOME/config.yaml (built-in defaults when there is none) and every
pylon, then listens on server.host:server.port (default 0.0.0.0:8080) until Ctrl+C or SIGTERM.
A pylon whose config is broken is reported and skipped; the others start.`,
  options: {
    host: {
      type: "string",
      description: "Address to bind (overrides server.host)",
      valueName: "HOST",
    },
    port: {
      type: "string",
      description: "Port to bind (overrides server.port)",
      valueName: "PORT",
    },
  },
  positionals: { min: 0, max: Infinity, completion: "pylon" },
  async run(args, ctx) {
    const log = createLogger({ level: ctx.env.PYLON_LOG_LEVEL === "debug" ? "debug" : "info" });
    const home = ctx.env.HOME;
    const global = await loadGlobalConfig(ctx.paths, ctx.env);
    log.info("config.loaded", {
      file: global.exists ? displayPath(ctx.paths.globalConfig, home) : "built-in defaults",
    });
    const port = parsePort(args.values.port as string | undefined) ?? global.config.server.port;
    const host = (args.values.host as string | undefined) ?? global.config.server.host;

    const wanted = new Set(args.positionals);
    const results = (await loadAllPylons(ctx.paths, global)).filter((r) =>
      wanted.size === 0 || wanted.has(r.name)
    );
    for (const name of wanted) {
      if (!results.some((r) => r.name === name)) {
        throw new PylonError(`Pylon "${name}" does not exist`, {
          hint: "run `pylon list` to see your pylons",
        });
      }
    }
    const active: LoadedPylon[] = [];
    ctx.io.out("Powering up pylons...\n\n");
    for (const r of results) {
      if (!r.ok) {
        log.error("pylon.invalid", { pylon: r.name, file: r.error.file });
        const message = r.error.message.replaceAll("\n", `\n${" ".repeat(32)}`);
        ctx.io.out(`  ${r.name.padEnd(22)}  FAIL  ${message}\n`);
        continue;
      }
      if (r.pylon.config.disabled) {
        ctx.io.out(`  ${r.name.padEnd(22)}  --    disabled\n`);
        continue;
      }
      active.push(r.pylon);
      ctx.io.out(`  ${r.name.padEnd(22)}  ok    ${describeTrigger(r.pylon, global.config, ctx)}\n`);
    }
    if (results.length === 0) {
      ctx.io.out(
        "  No pylons yet. Create one in another terminal, for example:\n" +
          "    pylon construct my-pylon --from blank\n" +
          "  then restart the daemon.\n",
      );
    }
    const app = createApp({ activePylons: () => active.map((p) => p.name) });
    await serveUntilStopped(app.fetch, {
      host,
      port,
      onListen: (addr) => {
        ctx.io.out(
          `\n${active.length} pylon${
            active.length === 1 ? "" : "s"
          } active -- listening on ${addr.host}:${addr.port}\n`,
        );
        ctx.io.out(
          "Note: this build loads and checks pylons but does not run jobs yet " +
            "(webhook ingest and the job queue come next).\n",
        );
        log.info("daemon.listening", { host: addr.host, port: addr.port });
      },
    });
    log.info("daemon.stopped");
    return 0;
  },
};

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`Invalid --port "${value}": use a number from 1 to 65535`);
  }
  return port;
}

function describeTrigger(
  pylon: LoadedPylon,
  global: Parameters<typeof resolvePylon>[1],
  ctx: CommandContext,
): string {
  const resolved = resolvePylon(pylon.config, global, {
    env: pylon.env,
    systemTimezone: systemTimezone(ctx.env),
  });
  const t = pylon.config.trigger;
  if (t.type === "webhook") return `webhook ${t.path}`;
  const next =
    nextRuns(t.cron!, { timezone: resolved.timezone, from: ctx.clock.now(), count: 1 })[0];
  const when = next
    ? new Intl.DateTimeFormat("en-GB", {
      timeZone: resolved.timezone,
      weekday: "short",
      day: "2-digit",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      timeZoneName: "short",
    }).format(next)
    : "never";
  return `cron    ${t.cron} (${describeCron(t.cron!)}) in ${resolved.timezone}, next ${when}`;
}
