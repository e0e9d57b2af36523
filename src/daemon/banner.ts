/**
 * The start-up banner of cli_start.mdx: one line per pylon, then the listening address.
 *
 * @module
 */

import { describeCron, nextRuns } from "../cron/mod.ts";
import type { ActivePylon } from "./pylon_table.ts";

const NAME_WIDTH = 22;

function pylonLine(name: string, state: string, pylon: ActivePylon | undefined, now: Date): string {
  if (state !== "ok" || !pylon) return `  ${name.padEnd(NAME_WIDTH)}  --    ${state}`;
  const t = pylon.resolved.config.trigger;
  if (t.type === "webhook") {
    const signed = pylon.verifier ? ` (signed: ${t.signature_header})` : "";
    return `  ${name.padEnd(NAME_WIDTH)}  ok    webhook ${t.path}${signed}`;
  }
  const zone = pylon.resolved.timezone;
  const [next] = nextRuns(t.cron!, { timezone: zone, from: now, count: 1 });
  const when = next
    ? new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      weekday: "short",
      day: "2-digit",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      timeZoneName: "short",
    }).format(next)
    : "never";
  return `  ${name.padEnd(NAME_WIDTH)}  ok    cron    ${t.cron} (${
    describeCron(t.cron!)
  }) in ${zone}, next ${when}`;
}

function failLine(name: string, error: { message: string; hint?: string | undefined }): string {
  const indent = `\n${" ".repeat(NAME_WIDTH + 10)}`;
  const message = error.message.replaceAll("\n", indent);
  const fix = error.hint ? `${indent}fix: ${error.hint}` : "";
  return `  ${name.padEnd(NAME_WIDTH)}  FAIL  ${message}${fix}`;
}

function render(
  lines: string[],
  active: number,
  addr: { host: string; port: number },
  noPylons: boolean,
  note?: string,
): string {
  const body = noPylons
    ? "  No pylons yet. Create one in another terminal, for example:\n" +
      "    pylon construct my-pylon --from blank\n" +
      "  The daemon picks it up without a restart.\n"
    : lines.join("\n") + "\n";
  return `Powering up pylons...\n\n${body}\n${active} pylon${
    active === 1 ? "" : "s"
  } active -- listening on ${addr.host}:${addr.port}\n${note ? `${note}\n` : ""}`;
}

/**
 * The warning about webhook pylons anyone can trigger (see `exposure.ts`); undefined when there
 * are none.
 */
function unsignedWarning(
  pylons: readonly { name: string; path: string; why: string }[],
): string | undefined {
  if (pylons.length === 0) return undefined;
  const list = pylons.map((p) => `    ${p.name} (${p.path}): ${p.why}`).join("\n");
  const one = pylons.length === 1;
  const head = one ? "this webhook pylon runs" : "these webhook pylons run";
  return `WARNING: ${head} an agent, on your agent key, for anyone who reaches ${
    one ? "it" : "them"
  }:\n${list}\n  Set trigger.secret and trigger.signature_header (the sender signs its ` +
    "requests), or listen on 127.0.0.1 (server.host).";
}

/** Banner pieces. */
export const banner = { pylonLine, failLine, render, unsignedWarning };
