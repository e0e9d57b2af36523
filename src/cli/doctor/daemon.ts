/**
 * The Daemon rows of `pylon doctor`: whether this home's daemon answers (`daemon.pid` and
 * `/healthz`) and whether `server.port` is free, pylon's, or taken by another program. A daemon
 * started with `--port` (or `--host`) is shown where it really listens, from its `daemon.pid`,
 * with a note that `config.yaml` says otherwise; `port` and `host` tell the webhook rows.
 *
 * @module
 */

import { displayPath, type LoadedGlobal } from "../../config/mod.ts";
import { readPidFile } from "../../daemon/pidfile.ts";
import type { CommandContext } from "../command.ts";
import type { Check, FetchFn } from "./checks.ts";

/** The daemon and port rows; `running` tells the webhook probes how to rate a failure. */
export async function daemonChecks(
  ctx: CommandContext,
  global: LoadedGlobal,
  fetchFn: FetchFn,
): Promise<
  { checks: Check[]; running: boolean; host: string | undefined; port: number | undefined }
> {
  const checks: Check[] = [];
  const info = await readPidFile(ctx.paths.daemonPid);
  let running = false;
  if (!info) {
    checks.push({ section: "Daemon", label: "Daemon", status: "--", detail: "not running" });
  } else {
    const host = info.host === "0.0.0.0" || info.host === "::" ? "127.0.0.1" : info.host;
    const base = `http://${host.includes(":") ? `[${host}]` : host}:${info.port}`;
    running = await answersHealthz(`${base}/healthz`, fetchFn);
    checks.push(
      running
        ? {
          section: "Daemon",
          label: "Daemon",
          status: "ok",
          detail: `running (pid ${info.pid}, ${base})`,
        }
        : {
          section: "Daemon",
          label: "Daemon",
          status: "WARN",
          detail: `daemon.pid names pid ${info.pid}, but ${base}/healthz does not answer`,
          hint: `the daemon may have crashed: remove ${
            displayPath(ctx.paths.daemonPid, ctx.env.HOME)
          } and run \`pylon start\``,
        },
    );
  }
  const { port, host } = global.config.server;
  if (running && info) {
    const flags = [
      ...(info.port !== port ? [`--port ${info.port}`] : []),
      ...(info.host !== host ? [`--host ${info.host}`] : []),
    ];
    const other = flags.length === 0 ? "" : `, started with ${flags.join(" ")} ` +
      `(server: ${host}:${port} applies to the next start without them)`;
    checks.push({
      section: "Daemon",
      label: `Port ${info.port}`,
      status: "ok",
      detail: `used by pylon (pid ${info.pid})${other}`,
    });
    return { checks, running, host: info.host, port: info.port };
  }
  const label = `Port ${port}`;
  try {
    Deno.listen({ hostname: host, port }).close();
    checks.push({ section: "Daemon", label, status: "ok", detail: "available" });
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) {
      checks.push({
        section: "Daemon",
        label,
        status: "WARN",
        detail: `cannot listen on ${host}:${port}: ${e instanceof Error ? e.message : String(e)}`,
        hint: "change server.port or server.host in config.yaml",
      });
    } else if (await answersHealthz(`http://127.0.0.1:${port}/healthz`, fetchFn)) {
      checks.push({
        section: "Daemon",
        label,
        status: "WARN",
        detail: "in use by another pylon daemon (another PYLON_HOME?)",
        hint: "stop it, or give this home a different server.port in config.yaml",
      });
    } else {
      checks.push({
        section: "Daemon",
        label,
        status: "WARN",
        detail: "in use by another program",
        hint:
          `stop it (\`ss -ltnp 'sport = :${port}'\` shows which), or change server.port in config.yaml`,
      });
    }
  }
  return { checks, running, host: info?.host, port: undefined };
}

/** Whether `url` answers like pylon's `/healthz` (`{"status":"ok","service":"pylon"}`). */
async function answersHealthz(url: string, fetchFn: FetchFn): Promise<boolean> {
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(2000) });
    const body = await res.json().catch(() => null) as
      | { status?: unknown; service?: unknown }
      | null;
    return res.ok && body?.status === "ok" && body.service === "pylon";
  } catch {
    return false;
  }
}
