/**
 * How CLI commands reach a running daemon: its address from `daemon.pid` (else config.yaml),
 * its token from `daemon.token`, and whether it answers.
 *
 * @module
 */

import { loadGlobalConfig } from "../config/mod.ts";
import { readDaemonToken } from "../daemon/mod.ts";
import { readPidFile } from "../daemon/pidfile.ts";
import { PylonError } from "../errors.ts";
import type { CommandContext } from "./command.ts";
import { daemonBaseUrl } from "./commands/test_send.ts";

/** A daemon that answered. */
export interface DaemonConnection {
  base: string;
  /** Calls the control API; throws a readable error on a failed answer. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Record<string, unknown>>;
}

/** The running daemon of this PYLON_HOME, or null when none answers. */
export async function connectDaemon(ctx: CommandContext): Promise<DaemonConnection | null> {
  const info = await readPidFile(ctx.paths.daemonPid);
  let base: string;
  if (info) {
    const host = info.host === "0.0.0.0" || info.host === "::" ? "127.0.0.1" : info.host;
    base = `http://${host.includes(":") ? `[${host}]` : host}:${info.port}`;
  } else {
    base = daemonBaseUrl((await loadGlobalConfig(ctx.paths, ctx.env)).config);
  }
  try {
    // Generous: a daemon busy with a webhook flood (or a loaded machine) must not pass for a
    // stopped one, which would send the command around it.
    const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) });
    // Recognise pylon's answer (`{"status":"ok","service":"pylon"}`), not just any 200 on the port.
    const health = await res.json().catch(() => null) as { service?: unknown } | null;
    if (!res.ok || health?.service !== "pylon") return null;
  } catch {
    return null;
  }
  const token = await readDaemonToken(ctx.paths.daemonToken);
  if (!token) return null;
  return {
    base,
    async call(method, path, body, headers = {}) {
      const res = await fetch(base + path, {
        method,
        headers: {
          ...headers,
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) {
        throw new PylonError(
          String((data as { error?: string }).error ?? `daemon answered ${res.status}`),
        );
      }
      return data as Record<string, unknown>;
    },
  };
}
