/**
 * `pylon start [name…]`: the composition root of the daemon. Builds the real dependencies and
 * hands them to `runDaemon`.
 *
 * @module
 */

import { ensurePrivateHome } from "../../config/mod.ts";
import { UsageError } from "../../errors.ts";
import { runDaemon } from "../../daemon/mod.ts";
import { createLogger } from "../../log/mod.ts";
import { createDockerRunner } from "../../runner/mod.ts";
import { builtinChannels } from "../../notify/mod.ts";
import type { Command } from "../command.ts";

export const startCommand: Command = {
  name: "start",
  summary: "Run the daemon in the foreground (all pylons, or the named ones)",
  usage: "start [name…] [--host HOST] [--port PORT]",
  description: `Loads $PYLON_HOME/config.yaml (built-in defaults when there is none) and every
pylon, opens their job databases, recovers unfinished jobs, then listens on
server.host:server.port (default 0.0.0.0:8080) until Ctrl+C or SIGTERM. A pylon whose config is
broken is reported and skipped; the others start. Edits to pylon files apply without a restart.
Set PYLON_LOG_LEVEL=debug for more detail, PYLON_LOG_FORMAT=json for JSON log lines.`,
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
    const log = createLogger({
      level: ctx.env.PYLON_LOG_LEVEL === "debug" ? "debug" : "info",
      format: ctx.env.PYLON_LOG_FORMAT === "json" ? "json" : "logfmt",
      clock: ctx.clock,
    });
    const channels = builtinChannels(ctx.paths);
    await runDaemon({
      paths: ctx.paths,
      env: ctx.env,
      log,
      clock: ctx.clock,
      out: (text) => ctx.io.out(text),
      only: args.positionals,
      host: args.values.host as string | undefined,
      port: parsePort(args.values.port as string | undefined),
      channelFactories: channels.factories,
      closeChannels: () => channels.close(),
      // The home's folders are made private before the runner creates some of them, so a
      // first start does not warn that it had to tighten folders it had just made.
      createRunner: async (config, output) => {
        await ensurePrivateHome(ctx.paths);
        return await createDockerRunner(config, {
          paths: ctx.paths,
          env: ctx.env,
          output,
          clock: ctx.clock,
        });
      },
    });
    return 0;
  },
};

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`Invalid --port "${value}": use a number from 0 to 65535`);
  }
  return port;
}
