/**
 * The egress relay row of `pylon doctor` (`docker.backend: swarm`, issue 19): whether the
 * `pylon-egress-relay` service runs on every node and forwards to the daemon's current
 * addresses (`server.agent_url`, `server.egress_port`). Only when an enabled pylon has an
 * `agent.egress` list.
 *
 * @module
 */

import type { LoadedGlobal, ResolvedPylon } from "../../config/mod.ts";
import type { DockerClient } from "../../docker/mod.ts";
import { RELAY_SERVICE, relayRoutes, relayState, relayTargets } from "../../egress/mod.ts";
import { PylonError } from "../../errors.ts";
import { type Check, forPylons } from "./checks.ts";

/** The relay's row, or none (another backend, no pylon with a list, no Swarm API). */
export async function egressRelayChecks(
  docker: DockerClient,
  pylons: readonly ResolvedPylon[],
  global: LoadedGlobal,
): Promise<Check[]> {
  const server = global.config.server;
  if (global.config.docker.backend !== "swarm" || !docker.swarm) return [];
  const names = pylons.filter((p) => {
    const egress = p.agent.settings.egress;
    return !p.config.disabled && egress !== undefined && egress !== "any";
  }).map((p) => p.name);
  if (names.length === 0) return [];
  const row = { section: "Docker", label: "Egress relay" };
  const who = forPylons(names);
  let routes: string;
  try {
    routes = relayRoutes(relayTargets(server.agent_url, server.egress_port));
  } catch (e) {
    return [{
      ...row,
      status: "FAIL",
      detail: `${e instanceof Error ? e.message : String(e)}: their jobs fail${who}`,
      hint: e instanceof PylonError ? e.hint : undefined,
    }];
  }
  let state;
  try {
    state = await relayState(docker.swarm, AbortSignal.timeout(5000));
  } catch (e) {
    return [{
      ...row,
      status: "WARN",
      detail: `cannot read the ${RELAY_SERVICE} service: ${
        e instanceof Error ? e.message : String(e)
      }`,
      hint: "run `pylon doctor` on a Swarm manager (DOCKER_HOST)",
    }];
  }
  if (state.routes === undefined) {
    return [{
      ...row,
      status: "--",
      detail: `not created yet: the first job${who} creates ${RELAY_SERVICE} (${routes})`,
    }];
  }
  if (state.routes !== routes) {
    return [{
      ...row,
      status: "WARN",
      detail: `${RELAY_SERVICE} forwards to ${state.routes}, not ${routes}${who}`,
      hint: "the next job replaces it (after a daemon restart with the new config)",
    }];
  }
  if (state.running < Math.max(1, state.nodes)) {
    return [{
      ...row,
      status: "WARN",
      detail: `${RELAY_SERVICE} runs on ${state.running} of ${state.nodes} node(s)` +
        (state.error ? `: ${state.error}` : "") + `; jobs${who} on the others cannot get out`,
      hint: `see \`docker service ps ${RELAY_SERVICE}\`; its image must carry ` +
        "/usr/local/lib/pylon/pylon-relay.mjs (pylon's agent images do)",
    }];
  }
  return [{
    ...row,
    status: "ok",
    detail: `${RELAY_SERVICE} on ${state.running} node(s): ${routes}${who}`,
  }];
}
