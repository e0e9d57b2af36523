/**
 * The live half of `pylon test`: sends a payload to the running daemon the way the real sender
 * would (signed when the pylon has a secret), or triggers a cron pylon through the control API.
 *
 * @module
 */

import type { GlobalConfig, PylonConfig } from "../../config/mod.ts";
import { PylonError } from "../../errors.ts";
import { readDaemonToken, signRequest } from "../../daemon/mod.ts";
import { readPidFile } from "../../daemon/pidfile.ts";
import type { CommandContext } from "../command.ts";

/** The address a local client uses to reach the daemon. */
export function daemonBaseUrl(global: GlobalConfig): string {
  const host = global.server.host;
  const local = host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host;
  return `http://${local.includes(":") ? `[${local}]` : local}:${global.server.port}`;
}

/** Sends the test event; returns the exit code (0 for a 2xx answer). */
export async function sendToDaemon(
  ctx: CommandContext,
  pylon: PylonConfig,
  global: GlobalConfig,
  payload: unknown,
  options: { json: boolean; payloadGiven: boolean; headers?: Record<string, string> },
): Promise<number> {
  // The running daemon's own address (`pylon start --port` may differ from config.yaml).
  const info = await readPidFile(ctx.paths.daemonPid);
  const base = daemonBaseUrl(
    info ? { ...global, server: { ...global.server, host: info.host, port: info.port } } : global,
  );
  const text = JSON.stringify(payload, null, 2);
  const bytes = new TextEncoder().encode(text);
  let url: string;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    ...options.headers,
  };
  if (pylon.trigger.type === "cron") {
    if (options.payloadGiven) ctx.io.err("Note: the payload is passed as the job's body.\n");
    const token = await readDaemonToken(ctx.paths.daemonToken);
    if (!token) {
      throw new PylonError("Cannot trigger the pylon: the daemon has never started here", {
        hint: "start it with `pylon start`",
      });
    }
    headers.authorization = `Bearer ${token}`;
    url = `${base}/api/pylons/${pylon.name}/trigger`;
    if (!options.json) ctx.io.out(`Running cron pylon ${pylon.name} now via ${url}\n`);
  } else {
    url = base + pylon.trigger.path;
    const t = pylon.trigger;
    if (t.secret && t.signature_header) {
      Object.assign(
        headers,
        await signRequest(
          {
            secret: t.secret,
            header: t.signature_header,
            format: t.signature_format,
            clock: ctx.clock,
          },
          bytes,
        ),
      );
    }
    if (!options.json) {
      ctx.io.out(
        `Sending test webhook to ${url}${t.secret ? " (signed)" : ""}\nPayload: ${text}\n\n`,
      );
    }
  }
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers, body: bytes });
  } catch (e) {
    throw new PylonError(`Cannot reach the daemon at ${base}`, {
      hint: "is `pylon start` running? (check server.host/server.port in config.yaml)",
      cause: e,
    });
  }
  const answer = await res.text();
  let shown = answer;
  try {
    shown = JSON.stringify(JSON.parse(answer), null, 2);
  } catch {
    // not JSON: print as is
  }
  if (options.json) {
    ctx.io.out(`${JSON.stringify({ status: res.status, body: safeJson(answer) })}\n`);
  } else {
    ctx.io.out(`Response [${res.status}]: ${shown}\n`);
    const { job_id: jobId, status } = (safeJson(answer) ?? {}) as Record<string, unknown>;
    if (res.ok && typeof jobId === "string") {
      const id8 = jobId.slice(0, 8);
      ctx.io.out(
        status === "awaiting_approval"
          ? `\nIt waits for approval: pylon approve ${id8}  (or pylon ignore ${id8})\n`
          : `\nFollow it: pylon logs ${id8} -f   (all jobs: pylon jobs)\n`,
      );
    }
  }
  return res.ok ? 0 : 1;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
