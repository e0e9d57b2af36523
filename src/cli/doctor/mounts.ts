/**
 * The `docker.mounts` row of `pylon doctor` (issue 18): on a remote engine (`DOCKER_HOST=tcp://…`)
 * the daemon's folders cannot be bind-mounted into jobs, so `docker.mounts: host` gets a WARN that
 * suggests `none`; with `none`, each pylon that cannot run so (a `local` workspace, volumes, …) is
 * a FAIL naming the file, the field and the fix, and so is a `server.agent_url` that jobs on Swarm
 * or a remote engine cannot reach (unset, or on loopback: there it names the task's own host).
 *
 * @module
 */

import type { LoadedGlobal, ResolvedPylon } from "../../config/mod.ts";
import { noMountsProblem } from "../../runner/mod.ts";
import { isLoopbackHost } from "../../daemon/exposure.ts";
import type { Check } from "./checks.ts";

/** The rows; none when the engine is local and `docker.mounts` is `host`. */
export function mountsChecks(
  env: Record<string, string | undefined>,
  pylons: readonly ResolvedPylon[],
  global: LoadedGlobal,
): Check[] {
  const docker = global.config.docker;
  const remote = /^(tcp|https?|ssh):\/\//i.test(env.DOCKER_HOST ?? "");
  if (docker.mounts === "host") {
    if (!remote) return [];
    return [{
      section: "Docker",
      label: "Mounts",
      status: "WARN",
      detail: `DOCKER_HOST is ${env.DOCKER_HOST}, and jobs bind-mount this host's folders`,
      hint: "set docker.mounts: none in config.yaml (and server.agent_url if the engine reaches " +
        "the daemon at another address): jobs then need no shared filesystem",
    }];
  }
  const out: Check[] = [];
  const elsewhere = docker.backend === "swarm" || remote;
  const agentUrl = global.config.server.agent_url;
  const agentHost = agentUrl ? URL.parse(agentUrl)?.hostname.replace(/^\[|\]$/g, "") : undefined;
  if (elsewhere && pylons.length > 0 && (agentHost === undefined || isLoopbackHost(agentHost))) {
    const where = docker.backend === "swarm" ? "Swarm's tasks" : `the engine at ${env.DOCKER_HOST}`;
    out.push({
      section: "Docker",
      label: "Agent URL",
      status: "FAIL",
      detail: agentUrl
        ? `server.agent_url is ${agentUrl}: to ${where} that is their own loopback, not this daemon`
        : `server.agent_url is unset: ${where} would be told this host's default address, ` +
          "which names their own machine",
      hint: "set server.agent_url in config.yaml to http://<an address of this machine the " +
        "jobs reach>:<port> (e.g. the Swarm manager's IP), with the daemon listening there",
    });
  }
  for (const p of pylons) {
    const problem = noMountsProblem(p);
    if (problem) {
      out.push({
        section: "Docker",
        label: `Mounts (${p.name})`,
        status: "FAIL",
        detail: problem.split("; fix: ")[0] ?? problem,
        hint: problem.split("; fix: ")[1] ?? "set docker.mounts: host",
      });
    }
  }
  if (out.length === 0) {
    out.push({
      section: "Docker",
      label: "Mounts",
      status: "ok",
      detail: "none: jobs reach the daemon over /agent/v1" +
        (global.config.server.agent_url ? ` at ${global.config.server.agent_url}` : ""),
    });
  }
  return out;
}
