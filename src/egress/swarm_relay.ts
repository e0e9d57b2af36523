/**
 * The egress allowlist on `docker.backend: swarm` (issue 19 item 3, issue 18): a job of a pylon
 * with an `agent.egress` list runs on the attachable internal overlay network
 * `pylon-egress-swarm` (no route out, on every node), and its only peer there is pylon's relay, the global service
 * `pylon-egress-relay`: one task per node, on that network and on the normal overlay
 * `pylon-egress-out`, running `pylon-relay.mjs` from pylon's agent image. The relay copies bytes
 * from `pylon-egress-relay:3128` to the daemon's egress proxy (`server.egress_port` on the host
 * of `server.agent_url`) and from `pylon-egress-relay:8080` to the agent channel
 * (`server.agent_url`); it holds no secret and decides nothing: the proxy still wants the job's
 * credential and the channel its bearer token, so nothing depends on a shared filesystem.
 *
 * Design note (ensured at a job's start, not at the daemon's): the relay runs in the job's own
 * image (the one its nodes pull, pushed to `docker.registry` when set), which exists only once
 * the first such job prepared it; afterwards each job checks that the service is there with the
 * daemon's current addresses and that a task runs, and recreates it otherwise (idempotent; a
 * daemon restart reuses it).
 *
 * @module
 */

import type { DockerClient, ServiceSpec, SwarmApi, TaskInfo } from "../docker/mod.ts";
import { PylonError } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import {
  type EgressRelay,
  POLL_MS,
  READY_MS,
  RELAY_SCRIPT,
  RELAY_SERVICE,
  relayRoutes,
  type RelayTargets,
} from "./relay.ts";
import type { JobNetworks } from "./service.ts";

/**
 * The job network on Swarm. Not `pylon-egress`: that is the local Engine's bridge network of the
 * same purpose, and a manager that ran the Engine backend before has one (names are unique).
 */
export const SWARM_JOB_NETWORK = "pylon-egress-swarm";
/** The relay's normal (routed) overlay network. */
export const RELAY_OUT_NETWORK = "pylon-egress-out";
/** The relay's service: global, on the job network and the routed one, hardened like a job. */
export function relayServiceSpec(o: {
  image: string;
  targets: RelayTargets;
  network: string;
  labels: Record<string, string>;
}): ServiceSpec {
  return {
    Name: RELAY_SERVICE,
    Labels: o.labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: o.image,
        Labels: o.labels,
        Command: ["node", RELAY_SCRIPT],
        Env: [`PYLON_RELAY=${relayRoutes(o.targets)}`],
        Init: true,
        ReadOnly: true,
        CapabilityDrop: ["ALL"],
        Privileges: { NoNewPrivileges: true },
      },
      Resources: { Limits: { MemoryBytes: 128 * 1024 * 1024, Pids: 64 } },
      RestartPolicy: { Condition: "any" },
      Networks: [{ Target: o.network }, { Target: RELAY_OUT_NETWORK }],
    },
    // A virtual IP is not reachable on an internal overlay (measured: EHOSTUNREACH): the name
    // resolves to the relay tasks' own addresses instead.
    EndpointSpec: { Mode: "dnsrr" },
    Mode: { Global: {} },
  };
}

/**
 * {@linkcode JobNetworks} on a Swarm manager: `name` as an attachable internal overlay (a
 * network of that name that is not one is refused) and the relay's routed overlay beside it.
 * The gateway it returns is the relay's name: the daemon is not on an overlay network.
 */
export function swarmJobNetworks(docker: DockerClient): JobNetworks | null {
  const api = docker.networks;
  if (!api) return null;
  const ensure = async (name: string, internal: boolean, labels: Record<string, string>) => {
    let info = await api.inspect(name);
    if (!info) {
      // Another daemon may create it at the same moment: inspect again either way.
      await api.create({ name, internal, labels, driver: "overlay", attachable: internal })
        .catch(() => {});
      info = await api.inspect(name);
    }
    if (!info) throw new PylonError(`Cannot create the overlay network "${name}"`);
    if (info.Driver !== undefined && info.Driver !== "overlay") {
      throw new PylonError(`The network "${name}" exists but is not an overlay network`, {
        hint: `Swarm jobs cannot join it; remove it (docker network rm ${name})`,
      });
    }
    if (info.Internal !== internal) {
      throw new PylonError(
        `The network "${name}" exists but is ${info.Internal ? "" : "not "}internal`,
        { hint: `remove it (docker network rm ${name}); the daemon creates it again` },
      );
    }
  };
  return {
    async ensureInternal(name, labels) {
      await ensure(name, true, labels);
      await ensure(RELAY_OUT_NETWORK, false, labels);
      return { gateway: RELAY_SERVICE };
    },
  };
}

/** What the relay looks like now (`pylon doctor`). */
export interface RelayState {
  /** Running tasks, nodes that should run one (ready, active). */
  running: number;
  nodes: number;
  /** The service's `PYLON_RELAY`, or undefined when there is no service. */
  routes: string | undefined;
  /** The newest task's error, when none runs. */
  error?: string | undefined;
}

/** The relay's current state; `routes` undefined when the service does not exist. */
export async function relayState(swarm: SwarmApi, signal?: AbortSignal): Promise<RelayState> {
  const service = await swarm.inspectService(RELAY_SERVICE, { signal });
  const nodes =
    (await swarm.nodes({ signal })).filter((n) =>
      n.Status?.State === "ready" && (n.Spec?.Availability ?? "active") === "active"
    ).length;
  if (!service) return { running: 0, nodes, routes: undefined };
  const tasks = await swarm.tasks(service.ID, { signal });
  const running = tasks.filter((t) => t.Status.State === "running").length;
  const env = service.Spec.TaskTemplate.ContainerSpec.Env ?? [];
  const routes = env.find((e) => e.startsWith("PYLON_RELAY="))?.slice("PYLON_RELAY=".length);
  return { running, nodes, routes, error: running === 0 ? lastError(tasks) : undefined };
}

/** Options of {@linkcode createSwarmRelay}. */
export interface SwarmRelayOptions {
  swarm: SwarmApi;
  targets: RelayTargets;
  /** The job network ({@linkcode SWARM_JOB_NETWORK}). */
  network: string;
  labels: Record<string, string>;
  log: Logger;
  /** How long a job waits for a relay task to run. @default 60 s */
  readyMs?: number | undefined;
}

/** The runner's relay; no I/O until the first {@linkcode EgressRelay.ensure}. */
export function createSwarmRelay(o: SwarmRelayOptions): EgressRelay {
  const routes = relayRoutes(o.targets);
  // One ensure at a time: jobs starting together must not create the service twice.
  let chain: Promise<void> = Promise.resolve();
  async function ensureNow(image: string, signal?: AbortSignal): Promise<void> {
    let service = await o.swarm.inspectService(RELAY_SERVICE, { signal });
    const env = service?.Spec.TaskTemplate.ContainerSpec.Env ?? [];
    if (service && !env.includes(`PYLON_RELAY=${routes}`)) {
      o.log.info("egress.relay_replaced", { reason: "the daemon's addresses changed" });
      await o.swarm.removeService(service.ID, { signal });
      service = null;
    }
    if (!service) {
      const spec = relayServiceSpec({
        image,
        targets: o.targets,
        network: o.network,
        labels: o.labels,
      });
      const id = await o.swarm.createService(spec, { signal });
      o.log.info("egress.relay_created", { service: RELAY_SERVICE, image, routes });
      service = { ID: id, CreatedAt: "", Spec: spec };
    }
    const readyMs = o.readyMs ?? READY_MS;
    const until = Date.now() + readyMs;
    let tasks: TaskInfo[] = [];
    while (Date.now() < until) {
      tasks = await o.swarm.tasks(service.ID, { signal });
      if (tasks.some((t) => t.Status.State === "running")) return;
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, readyMs)));
      signal?.throwIfAborted();
    }
    // The next job creates it again, from its own image (this one may lack the relay).
    await o.swarm.removeService(service.ID).catch(() => {});
    throw new PylonError(
      `Cannot start the egress relay (the ${RELAY_SERVICE} service): no task runs after ` +
        `${readyMs / 1000} s${tasks.length ? `: ${lastError(tasks)}` : ""}`,
      {
        hint: `see \`docker service ps ${RELAY_SERVICE}\`; its image must carry ${RELAY_SCRIPT} ` +
          "(pylon's agent images do; build a custom image FROM one)",
      },
    );
  }
  return {
    targets: o.targets,
    ensure(image, signal) {
      const next = chain.then(() => ensureNow(image, signal));
      chain = next.catch(() => {});
      return next;
    },
  };
}

function lastError(tasks: readonly TaskInfo[]): string {
  const t = tasks.find((x) => x.Status.Err) ?? tasks[0];
  return t ? `${t.Status.State}: ${t.Status.Err || t.Status.Message || "no error"}` : "no task";
}
