/**
 * The daemon's egress service (issue 19, items 2-3): the job network, the proxy on its gateway
 * address, and what a job's container needs to use them. The daemon opens one at start when a
 * pylon has an `agent.egress` list and closes it at shutdown; the runner asks
 * {@linkcode EgressService.containerSettings} for each job.
 *
 * - **The job network** is an internal Docker network (`Internal: true`): no route out and no
 *   DNS for outside names (README design notes, measured), so the proxy is the only exit. One per
 *   pylon home, labelled like pylon's containers; made through {@linkcode JobNetworks}, the
 *   Engine's network calls, injected.
 * - **The proxy** listens on the network's gateway address: reachable from jobs, not from other
 *   machines. Who may use it: a job the daemon knows as running (`lookupJob`) presenting its
 *   credential, `HMAC(key, job id)` with a key kept in `$PYLON_HOME/egress.key` (0600), so a
 *   daemon restart keeps re-attached jobs working.
 * - **Refusals** go to the job's log (`jobs/<id>.log`), which `pylon logs` shows.
 *
 * - **On Swarm or a remote Engine** (`relay`, `swarm_relay.ts`, `engine_relay.ts`): the job
 *   network's gateway is not the daemon's host; the proxy listens where pylon's relay reaches it
 *   (`server.egress_port` on the daemon's listen address) and jobs reach the proxy and the
 *   channel through the relay's name.
 *
 * @module
 */

import { join } from "node:path";
import type { Logger } from "../log/mod.ts";
import { checkProxySecret, egressEnv, egressPolicyFor, proxySecret, recordRefusal } from "./job.ts";
import { type EgressProxy, openEgressProxy, type ProxyJob } from "./proxy.ts";

/** The Engine's network calls the service needs (implemented over the Docker client). */
export interface JobNetworks {
  /** Creates the internal network `name` unless it exists; returns its IPv4 gateway address. */
  ensureInternal(name: string, labels: Record<string, string>): Promise<{ gateway: string }>;
}

/** What the daemon knows of a job that asks the proxy. */
export interface EgressJobInfo {
  agentType: string;
  egress: "any" | readonly string[] | undefined;
  egressPrivate?: readonly string[] | undefined;
}

/** Options of {@linkcode openEgressService}. */
export interface EgressServiceOptions {
  networks: JobNetworks;
  /** @default "pylon-egress" */
  networkName?: string | undefined;
  labels: Record<string, string>;
  /** `$PYLON_HOME`: holds `egress.key` and `jobs/<id>.log`. */
  home: string;
  /** The running job `jobId`, or null (unknown, ended: its credential is refused). */
  lookupJob(jobId: string): Promise<EgressJobInfo | null>;
  /** Port of the proxy on the gateway address; 0 picks one. @default 0 */
  port?: number | undefined;
  resolve?: ((host: string) => Promise<string[]>) | undefined;
  /**
   * Jobs are elsewhere (Swarm): the proxy listens on `listen`, and jobs reach it at
   * `proxy` and the agent channel at `agentUrl` (pylon's relay). Absent: the gateway address.
   */
  relay?: {
    listen: { hostname: string; port: number };
    proxy: { host: string; port: number };
    agentUrl: string;
  } | undefined;
  clock: { now(): Date };
  log: Logger;
}

/** Container settings of a job behind the proxy. */
export interface EgressContainerSettings {
  networkMode: string;
  env: Record<string, string>;
  /** The daemon's address on the job network (for the channel and the model gateway). */
  gateway: string;
  /** Where the job reaches the agent channel, when not at `gateway` (the Swarm relay). */
  agentUrl?: string | undefined;
}

/** Names a job reaches without the proxy (pylon's own addresses). */
const DIRECT = ["host.docker.internal", "localhost", "127.0.0.1"];

/** A running egress service. */
export interface EgressService {
  readonly network: string;
  readonly gateway: string;
  readonly proxyPort: number;
  /** Settings for `jobId`'s container, or null when its pylon allows `any` (no proxy). */
  containerSettings(jobId: string, job: EgressJobInfo): Promise<EgressContainerSettings | null>;
  close(): Promise<void>;
}

/** Ensures the job network, loads (or creates) the key and starts the proxy. */
export async function openEgressService(o: EgressServiceOptions): Promise<EgressService> {
  const network = o.networkName ?? "pylon-egress";
  const { gateway } = await o.networks.ensureInternal(network, o.labels);
  const key = await loadKey(join(o.home, "egress.key"));
  const jobsDir = join(o.home, "jobs");
  const proxy: EgressProxy = openEgressProxy({
    hostname: o.relay?.listen.hostname ?? gateway,
    port: o.relay?.listen.port ?? o.port ?? 0,
    async authenticate(user, secret): Promise<ProxyJob | null> {
      if (!(await checkProxySecret(key, user, secret))) return null;
      const job = await o.lookupJob(user);
      if (!job) return null;
      return { jobId: user, ...egressPolicyFor(job.agentType, job.egress, job.egressPrivate) };
    },
    resolve: o.resolve,
    onRefused(r) {
      if (!r.jobId || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(r.jobId)) return;
      recordRefusal(join(jobsDir, `${r.jobId}.log`), r, o.clock.now()).catch((e) =>
        o.log.warn("egress.record_failed", { error: e instanceof Error ? e.message : String(e) })
      );
    },
    log: o.log,
  });
  o.log.info("egress.listening", { network, address: `${proxy.hostname}:${proxy.port}` });
  const relay = o.relay;
  return {
    network,
    gateway,
    proxyPort: proxy.port,
    async containerSettings(jobId, job) {
      if (job.egress === undefined || job.egress === "any") return null;
      const secret = await proxySecret(key, jobId);
      if (relay) {
        return {
          networkMode: network,
          env: egressEnv(relay.proxy, jobId, secret, [URL.parse(relay.agentUrl)?.hostname ?? ""]),
          gateway: relay.proxy.host,
          agentUrl: relay.agentUrl,
        };
      }
      return {
        networkMode: network,
        // The channel and the model gateway are pylon itself: reached directly, not proxied.
        env: egressEnv({ host: gateway, port: proxy.port }, jobId, secret, DIRECT),
        gateway,
      };
    },
    close: () => proxy.close(),
  };
}

/** 32 random bytes kept 0600 in the daemon's home; created on first use. */
async function loadKey(path: string): Promise<Uint8Array> {
  try {
    const bytes = await Deno.readFile(path);
    if (bytes.length === 32) return bytes;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  await Deno.writeFile(`${path}.tmp`, key, { mode: 0o600 });
  await Deno.rename(`${path}.tmp`, path);
  return key;
}
