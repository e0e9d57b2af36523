/**
 * Which webhook pylons anyone can trigger: no `trigger.secret`, and reachable from other
 * machines (the daemon listens on a non-loopback address, or a `public_url` is set, which means
 * a proxy or tunnel forwards to it). Each such request starts an agent run paid with the
 * operator's key, so the banner and `pylon doctor` warn about every one. Pure.
 *
 * @module
 */

import type { GlobalConfig, PylonConfig } from "../config/mod.ts";

/** Whether `host` (a listen address) only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) ||
    /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Why `config`'s webhook can be triggered by anyone, or undefined when it is signed, not a
 * webhook, or reachable only from this machine. `host` is the address the daemon listens on.
 */
export function unsignedExposure(
  config: PylonConfig,
  global: GlobalConfig,
  host: string,
): string | undefined {
  const t = config.trigger;
  if (t.type !== "webhook" || t.secret || config.disabled) return undefined;
  const publicUrl = t.public_url ?? global.server.public_url;
  if (publicUrl) return `unsigned, and public at ${publicUrl}`;
  if (!isLoopbackHost(host)) return `unsigned, on ${host}`;
  return undefined;
}
