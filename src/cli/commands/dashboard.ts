/**
 * `pylon dashboard`: asks the running daemon for a one-time login code and prints the link
 * `<base>/dashboard/login?code=…` (base: `server.public_url`, else the daemon's address), opening
 * it in a browser where there is a display (`xdg-open`; never an error when that fails).
 * `--revoke-all` ends every dashboard session instead (through the daemon, or in the sessions
 * file when no daemon runs).
 *
 * @module
 */

import { loadGlobalConfig } from "../../config/mod.ts";
import { dashboardSessionsFile, revokeAllInFile } from "../../daemon/dashboard/mod.ts";
import { PylonError } from "../../errors.ts";
import type { Command, CommandContext } from "../command.ts";
import { connectDaemon } from "../daemon_client.ts";

/** What the command takes from outside (tests replace the browser opener). */
export interface DashboardCommandDeps {
  /** Opens a URL in the user's browser; failures are ignored. @default {`xdg-open` with a display} */
  open?(url: string, env: Record<string, string>): Promise<boolean>;
}

/** Builds the command. */
export function createDashboardCommand(deps: DashboardCommandDeps = {}): Command {
  const open = deps.open ?? openWithXdg;
  return {
    name: "dashboard",
    summary: "Print (and open) a one-time login link to the web dashboard",
    usage: "dashboard [--no-open] [--revoke-all]",
    description: "The link works once, for 2 minutes, and logs this browser in for up to 7 days " +
      "(12 hours without use). --revoke-all logs every browser out.",
    options: {
      "no-open": { type: "boolean", description: "Print the link without opening a browser" },
      "revoke-all": { type: "boolean", description: "End every dashboard session" },
    },
    positionals: { min: 0, max: 0, completion: "none" },
    async run(args, ctx) {
      const daemon = await connectDaemon(ctx);
      if (args.values["revoke-all"]) return await revokeAll(ctx, daemon);
      if (!daemon) {
        throw new PylonError("Cannot open the dashboard: the daemon is not running", {
          hint: "start it with `pylon start` (or `pylon service start`), then run this again",
        });
      }
      let answer: Record<string, unknown>;
      try {
        answer = await daemon.call("POST", "/api/dashboard/login-codes");
      } catch (e) {
        if (e instanceof PylonError && /dashboard is off|404/.test(e.message)) {
          throw new PylonError("Cannot open the dashboard: this daemon serves none", {
            hint: "remove `dashboard: false` under `server:` in config.yaml and restart the daemon",
          });
        }
        throw e;
      }
      const config = (await loadGlobalConfig(ctx.paths, ctx.env)).config;
      const base = (config.server.public_url ?? daemon.base).replace(/\/+$/, "");
      const link = `${base}${String(answer.path)}`;
      ctx.io.out(`${link}\n`);
      ctx.io.out("This link logs one browser in; it works once, within 2 minutes.\n");
      if (!args.values["no-open"] && await open(link, ctx.env).catch(() => false)) {
        ctx.io.err("Opened in your browser.\n");
      }
      return 0;
    },
  };
}

/** The `pylon dashboard` command. */
export const dashboardCommand: Command = createDashboardCommand();

async function revokeAll(
  ctx: CommandContext,
  daemon: Awaited<ReturnType<typeof connectDaemon>>,
): Promise<number> {
  const count = daemon
    ? Number((await daemon.call("POST", "/api/dashboard/sessions/revoke-all")).revoked ?? 0)
    : await revokeAllInFile(dashboardSessionsFile(ctx.paths));
  ctx.io.out(`Ended ${count} dashboard session${count === 1 ? "" : "s"}.\n`);
  return 0;
}

/** `xdg-open <url>` when there is a display; false when not tried or it failed. */
async function openWithXdg(url: string, env: Record<string, string>): Promise<boolean> {
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return false;
  try {
    const child = new Deno.Command("xdg-open", {
      args: [url],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      child.status,
      new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), 5000)),
    ]);
    clearTimeout(timer);
    return status?.success ?? true; // still running after 5 s: a browser is opening
  } catch {
    return false; // no xdg-open: the printed link is enough
  }
}
