/**
 * Networks of the Engine client: the internal network that jobs with an egress list run on
 * (`src/egress/`), whose only way out is the daemon on its gateway address.
 *
 * @module
 */

import type { SignalOptions } from "./client.ts";
import type { EngineTransport } from "./transport.ts";

/** What pylon reads of a network. */
export interface NetworkInfo {
  Id: string;
  Name: string;
  Internal: boolean;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null } | undefined;
  Labels?: Record<string, string> | null | undefined;
}

/** `GET /networks/{name}`; null on 404. */
export async function inspectNetwork(
  t: EngineTransport,
  name: string,
  opts: SignalOptions = {},
): Promise<NetworkInfo | null> {
  const ctx = { op: "network.inspect", action: `inspect network "${name}"` };
  const res = await t.request(ctx, `/networks/${encodeURIComponent(name)}`, {
    allow: [404],
    signal: opts.signal,
  });
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  return await res.json() as NetworkInfo;
}

/** `POST /networks/create` of a bridge network; returns its id. */
export async function createNetwork(
  t: EngineTransport,
  spec: { name: string; internal: boolean; labels?: Record<string, string> | undefined },
  opts: SignalOptions = {},
): Promise<string> {
  const ctx = { op: "network.create", action: `create network "${spec.name}"` };
  const res = await t.json<{ Id: string }>(ctx, "/networks/create", {
    method: "POST",
    json: {
      Name: spec.name,
      Driver: "bridge",
      Internal: spec.internal,
      CheckDuplicate: true,
      Labels: spec.labels ?? {},
    },
    signal: opts.signal,
  });
  return res.Id;
}
