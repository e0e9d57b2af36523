/**
 * What pylon's egress relays share (Swarm: `swarm_relay.ts`; a remote Engine:
 * `engine_relay.ts`): the relay's name and ports, where it forwards (`server.agent_url`'s host),
 * and what the runner asks of it. A relay copies TCP bytes between the job network (internal,
 * no route out) and a routed network: `3128` to the daemon's egress proxy, `8080` to the agent
 * channel. It holds no secret and decides nothing: the proxy wants the job's credential, the
 * channel its bearer token.
 *
 * @module
 */

import { PylonError } from "../errors.ts";

/** The relay's name (a Swarm service, or a container on a remote Engine): the host jobs use. */
export const RELAY_SERVICE = "pylon-egress-relay";
/** The relay's port for the egress proxy. */
export const RELAY_PROXY_PORT = 3128;
/** The relay's port for the agent channel (and the model gateway). */
export const RELAY_CHANNEL_PORT = 8080;
/** Where pylon's images carry the relay. */
export const RELAY_SCRIPT = "/usr/local/lib/pylon/pylon-relay.mjs";
/** How long a job waits for a relay task to run. */
export const READY_MS = 60_000;
/** How often the relay's state is read while a job waits. */
export const POLL_MS = 250;

/** Where the relay sends each port's connections. */
export interface RelayTargets {
  proxy: { host: string; port: number };
  channel: { host: string; port: number };
}

/**
 * The relay's targets: the channel at `server.agent_url`, the proxy at `egressPort` on the same
 * host.
 *
 * @throws {PylonError} when `agentUrl` is not a plain `http://` URL the relay can forward
 */
export function relayTargets(agentUrl: string | undefined, egressPort: number): RelayTargets {
  const url = agentUrl ? URL.parse(agentUrl) : null;
  if (!url || url.protocol !== "http:" || (url.pathname !== "/" && url.pathname !== "")) {
    throw new PylonError(
      `Cannot relay the egress of jobs: server.agent_url is ${
        agentUrl ? `"${agentUrl}"` : "not set"
      } in config.yaml`,
      {
        hint: "set server.agent_url to the daemon's plain http://host:port as the jobs' hosts " +
          "reach it (the relay forwards TCP: no TLS proxy or path in between), or set the " +
          "pylon's agent.egress: any",
      },
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return {
    proxy: { host, port: egressPort },
    channel: { host, port: Number(url.port || 80) },
  };
}

/** `PYLON_RELAY` of the relay's task: `3128=host:port,8080=host:port`. */
export function relayRoutes(t: RelayTargets): string {
  const at = (h: string, p: number) => `${h.includes(":") ? `[${h}]` : h}:${p}`;
  return `${RELAY_PROXY_PORT}=${at(t.proxy.host, t.proxy.port)},` +
    `${RELAY_CHANNEL_PORT}=${at(t.channel.host, t.channel.port)}`;
}

/** A relay as the runner uses it. */
export interface EgressRelay {
  readonly targets: RelayTargets;
  /** The relay exists with these targets and runs (created from `image` when missing). */
  ensure(image: string, signal?: AbortSignal): Promise<void>;
}
