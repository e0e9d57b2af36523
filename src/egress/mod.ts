/**
 * Egress control of agent containers (issue 19, items 2 and 3): the `agent.egress` allowlist,
 * the proxy that enforces it, and a job's side of it (policy, credential, environment, log line).
 * The job network that leaves the proxy as the only way out is the runner's (README, "Egress").
 * Imports `log/`, and `docker/` for the networks and the Swarm relay.
 *
 * @module
 */

export {
  DEFAULT_PORTS,
  egressAllows,
  egressEntryProblem,
  isIpLiteral,
  parseEgressEntry,
  parseEgressList,
} from "./allowlist.ts";
export type { EgressPolicy, EgressRule } from "./allowlist.ts";
export { classifyAddress } from "./address.ts";
export type { AddressClass } from "./address.ts";
export { DEFAULT_EGRESS, expandEgressDefaults } from "./defaults.ts";
export {
  checkProxySecret,
  egressEnv,
  egressPolicyFor,
  proxySecret,
  recordRefusal,
  refusalLine,
} from "./job.ts";
export { MAX_REPORTED_REFUSALS, openEgressProxy } from "./proxy.ts";
export type { EgressProxy, EgressProxyOptions, EgressRefusal, ProxyJob } from "./proxy.ts";
export { openEgressService } from "./service.ts";
export type {
  EgressContainerSettings,
  EgressJobInfo,
  EgressService,
  EgressServiceOptions,
  JobNetworks,
} from "./service.ts";
export { engineJobNetworks } from "./engine_networks.ts";
export {
  READY_MS,
  RELAY_CHANNEL_PORT,
  RELAY_PROXY_PORT,
  RELAY_SCRIPT,
  RELAY_SERVICE,
  relayRoutes,
  relayTargets,
} from "./relay.ts";
export type { EgressRelay, RelayTargets } from "./relay.ts";
export {
  createSwarmRelay,
  RELAY_OUT_NETWORK,
  relayServiceSpec,
  relayState,
  SWARM_JOB_NETWORK,
  swarmJobNetworks,
} from "./swarm_relay.ts";
export type { RelayState, SwarmRelayOptions } from "./swarm_relay.ts";
export { createEngineRelay, relayContainerSpec } from "./engine_relay.ts";
export type { EngineRelayOptions } from "./engine_relay.ts";
