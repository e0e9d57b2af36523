/**
 * Networks of the Engine client: the internal network that jobs with an egress list run on
 * (`src/egress/`), whose only way out is the daemon on its gateway address (a local Engine) or
 * pylon's relay (`docker.backend: swarm`: an attachable overlay network).
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
  /** `bridge`, `overlay`, … */
  Driver?: string | undefined;
  Attachable?: boolean | undefined;
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
  return await t.jsonOrNull<NetworkInfo>(ctx, `/networks/${encodeURIComponent(name)}`, {
    signal: opts.signal,
  });
}

/** `POST /networks/{network}/connect`: joins a (created or running) container to `network`. */
export async function connectNetwork(
  t: EngineTransport,
  network: string,
  container: string,
  opts: SignalOptions = {},
): Promise<void> {
  const ctx = { op: "network.connect", action: `connect a container to network "${network}"` };
  const res = await t.request(ctx, `/networks/${encodeURIComponent(network)}/connect`, {
    method: "POST",
    json: { Container: container },
    signal: opts.signal,
  });
  await res.body?.cancel();
}

/** What {@linkcode createNetwork} makes: a bridge network unless `driver` says otherwise. */
export interface NetworkCreateSpec {
  name: string;
  internal: boolean;
  labels?: Record<string, string> | undefined;
  /** `overlay` (a Swarm manager only) spans the swarm's nodes. @default "bridge" */
  driver?: "bridge" | "overlay" | undefined;
  /** Whether a service's tasks (and plain containers) may join an overlay network. */
  attachable?: boolean | undefined;
}

/** `POST /networks/create`; returns its id. */
export async function createNetwork(
  t: EngineTransport,
  spec: NetworkCreateSpec,
  opts: SignalOptions = {},
): Promise<string> {
  const ctx = { op: "network.create", action: `create network "${spec.name}"` };
  const res = await t.json<{ Id: string }>(ctx, "/networks/create", {
    method: "POST",
    json: {
      Name: spec.name,
      Driver: spec.driver ?? "bridge",
      Internal: spec.internal,
      ...(spec.attachable ? { Attachable: true } : {}),
      CheckDuplicate: true,
      Labels: spec.labels ?? {},
    },
    signal: opts.signal,
  });
  return res.Id;
}
