/**
 * The egress allowlist on a remote Engine (`DOCKER_HOST=tcp://…`, `docker.mounts: none`; issue
 * 19 item 3): a job of a pylon with an `agent.egress` list runs on the internal bridge network
 * `pylon-egress` of that Engine, whose gateway address is on the remote host, not the daemon's.
 * Its only peer there is the container `pylon-egress-relay` (the Swarm relay's script, in the
 * job's image), on that network and on the Engine's default bridge, forwarding `3128` to the
 * daemon's egress proxy and `8080` to the agent channel (`relay.ts`).
 *
 * Design note (ensured at a job's start, as on Swarm): the relay runs in the job's own image,
 * built on that Engine; it restarts with the Engine (`unless-stopped`), and each job checks that
 * it runs with the daemon's current addresses (a label), replacing it otherwise.
 *
 * @module
 */

import type { ContainerSpec, DockerClient } from "../docker/mod.ts";
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

/** The label holding the relay container's `PYLON_RELAY` (compared at each job). */
const ROUTES_LABEL = "pylon.relay-routes";

/** The relay's container: on the job network (the default bridge is joined after creation). */
export function relayContainerSpec(o: {
  image: string;
  targets: RelayTargets;
  network: string;
  labels: Record<string, string>;
}): ContainerSpec {
  const routes = relayRoutes(o.targets);
  return {
    Image: o.image,
    Entrypoint: ["node", RELAY_SCRIPT],
    Cmd: [],
    Env: [`PYLON_RELAY=${routes}`],
    Labels: { ...o.labels, [ROUTES_LABEL]: routes },
    HostConfig: {
      NetworkMode: o.network,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      ReadonlyRootfs: true,
      Init: true,
      PidsLimit: 64,
      Memory: 128 * 1024 * 1024,
      MemorySwap: 128 * 1024 * 1024,
      RestartPolicy: { Name: "unless-stopped" },
      LogConfig: { Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } },
    },
  };
}

/** Options of {@linkcode createEngineRelay}. */
export interface EngineRelayOptions {
  docker: DockerClient;
  targets: RelayTargets;
  /** The job network (`pylon-egress`, internal). */
  network: string;
  labels: Record<string, string>;
  log: Logger;
  /** How long a job waits for the relay to run. @default 60 s */
  readyMs?: number | undefined;
}

/** The runner's relay on a remote Engine; no I/O until the first ensure. */
export function createEngineRelay(o: EngineRelayOptions): EgressRelay {
  const routes = relayRoutes(o.targets);
  const docker = o.docker;
  let chain: Promise<void> = Promise.resolve();
  async function ensureNow(image: string, signal?: AbortSignal): Promise<void> {
    let info = await docker.inspectContainer(RELAY_SERVICE, { signal });
    if (info && info.Config.Labels?.[ROUTES_LABEL] !== routes) {
      o.log.info("egress.relay_replaced", { reason: "the daemon's addresses changed" });
      await docker.removeContainer(info.Id, { force: true, signal });
      info = null;
    }
    if (!info) {
      const connect = docker.networks?.connect;
      if (!connect) throw new PylonError("This Docker client cannot connect networks");
      const spec = relayContainerSpec({
        image,
        targets: o.targets,
        network: o.network,
        labels: o.labels,
      });
      const id = await docker.createContainer(spec, { name: RELAY_SERVICE, signal });
      await connect.call(docker.networks, "bridge", id, { signal });
      o.log.info("egress.relay_created", { container: RELAY_SERVICE, image, routes });
    }
    if (!info?.State.Running) await docker.startContainer(RELAY_SERVICE, { signal });
    const readyMs = o.readyMs ?? READY_MS;
    const until = Date.now() + readyMs;
    let state = "";
    while (Date.now() < until) {
      const now = await docker.inspectContainer(RELAY_SERVICE, { signal });
      if (now?.State.Running && now.State.Status === "running") return;
      state = now ? `${now.State.Status} (exit ${now.State.ExitCode})` : "gone";
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, readyMs)));
      signal?.throwIfAborted();
    }
    // The next job creates it again, from its own image (this one may lack the relay).
    await docker.removeContainer(RELAY_SERVICE, { force: true }).catch(() => {});
    throw new PylonError(
      `Cannot start the egress relay (the ${RELAY_SERVICE} container): ${state} after ` +
        `${readyMs / 1000} s`,
      {
        hint: `see \`docker logs ${RELAY_SERVICE}\` on that Engine; its image must carry ` +
          `${RELAY_SCRIPT} (pylon's agent images do; build a custom image FROM one)`,
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
