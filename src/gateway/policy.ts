/**
 * Whether a pylon's agent uses the model API gateway, and what its container is told (issue 19).
 * Pure; the runner imports this file only.
 *
 * Design note, the default: on for Claude Code when pylon holds its credential (`auth: api_key`
 * or `oauth`), since then the key would otherwise sit in the container, and for OpenCode with
 * `auth: api_key` and the `anthropic` provider (its opencode.json points the provider at the
 * gateway: agents/opencode/pylon-opencode.mjs); off for `auth: none` (nothing to hold), for
 * OpenCode's other providers (the gateway speaks the Messages API only), for custom images (they
 * opt in with `agent.gateway: true` once they honour the contract below), and for
 * `agent.network: none` (nothing reaches the daemon).
 *
 * The container contract: `ANTHROPIC_BASE_URL=<agent_url>/agent/v1/jobs/<id>/model/anthropic`
 * and `ANTHROPIC_API_KEY=<job token>`; send the token as `x-api-key` (or
 * `Authorization: Bearer`) to paths of the Messages API under that base URL.
 *
 * Design note, the token in the environment: the job token is worthless outside pylon (it only
 * works against this daemon's gateway, for this job, while the job runs, within its budget) and
 * the agent must hold it to make calls at all, so a file would hide nothing from the agent; the
 * environment keeps the contract the one every Anthropic SDK and CLI already reads.
 *
 * @module
 */

import type { ResolvedAgent } from "../config/resolve.ts";

/** Whether `agent` talks to the model through the gateway (see the module doc). */
export function gatewayEnabled(agent: ResolvedAgent, daemonReachable = true): boolean {
  if (agent.network === "none") return false;
  return agent.settings.gateway ??
    (daemonReachable && (
      (agent.type === "claude" && (agent.auth === "api_key" || agent.auth === "oauth")) ||
      (agent.type === "opencode" && agent.auth === "api_key" && agent.provider === "anthropic")
    ));
}

/** The gateway's base URL for a job, under the daemon's agent URL. */
export function gatewayBaseUrl(agentUrl: string, jobId: string): string {
  return `${agentUrl.replace(/\/+$/, "")}/agent/v1/jobs/${jobId}/model/anthropic`;
}

/**
 * Where a container reaches the daemon by default: `host.docker.internal` on a bridge, which is
 * the host's address on Docker's bridge (`host-gateway`), or on the egress job network (issue 19,
 * `egressGateway`) that network's own gateway address: the one host address an internal network
 * is sure to reach (the job runs there whatever `agent.network` says). A daemon listening on
 * loopback only also listens on both addresses for the agent routes
 * (`src/daemon/agent_listener.ts`), so the default holds for it too.
 */
export function defaultAgentUrl(
  network: ResolvedAgent["network"],
  port: number,
  egressGateway?: string | undefined,
): { agentUrl: string; extraHosts?: string[] } {
  if (network === "host" && egressGateway === undefined) {
    return { agentUrl: `http://127.0.0.1:${port}` };
  }
  return {
    agentUrl: `http://host.docker.internal:${port}`,
    extraHosts: [`host.docker.internal:${egressGateway ?? "host-gateway"}`],
  };
}
