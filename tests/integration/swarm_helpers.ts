/**
 * Shared by the Swarm tests and `bench/swarm_bench.ts`: whether this machine's Engine is an
 * active Swarm manager. With `PYLON_REQUIRE_DOCKER=1` (CI) a missing swarm fails the tests
 * instead of skipping them; `.ci/run` runs `docker swarm init --advertise-addr 127.0.0.1`.
 *
 * @module
 */

import type { DockerClient } from "../../src/docker/mod.ts";
import { eventually } from "../_helpers/daemon.ts";
import { DOCKER_UNAVAILABLE, openTestDocker } from "./_docker.ts";

const REQUIRED = Deno.env.get("PYLON_REQUIRE_DOCKER") === "1";

async function probe(): Promise<string | undefined> {
  if (DOCKER_UNAVAILABLE) return DOCKER_UNAVAILABLE;
  using docker = openTestDocker();
  try {
    const state = await docker.swarm!.state({ signal: AbortSignal.timeout(5000) });
    return state === "active"
      ? undefined
      : `the Engine's Swarm is ${state} (run: docker swarm init --advertise-addr 127.0.0.1)`;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Why Swarm tests cannot run here, or undefined. */
export const SWARM_UNAVAILABLE: string | undefined = await probe();
/** Whether Swarm tests are registered as ignored (never in CI, where they fail instead). */
export const SWARM_IGNORE = SWARM_UNAVAILABLE !== undefined && !REQUIRED;

if (SWARM_UNAVAILABLE) {
  // deno-lint-ignore no-console
  console.log(
    `Swarm tests ${REQUIRED ? "fail" : "are ignored"}: ${SWARM_UNAVAILABLE}` +
      (REQUIRED ? "" : ". Set PYLON_REQUIRE_DOCKER=1 to make them fail instead."),
  );
}

/** Throws when the swarm is not active (the tests' first step, so CI fails loudly). */
export function requireSwarm(): void {
  if (SWARM_UNAVAILABLE) throw new Error(`No active Docker Swarm here: ${SWARM_UNAVAILABLE}`);
}

/** Debian's `docker-registry` (package `docker-registry`), run by the registry tests. */
export const REGISTRY_BIN = "/usr/bin/docker-registry";

/** Why the registry tests cannot run here, or undefined. */
export const REGISTRY_UNAVAILABLE: string | undefined = await Deno.stat(REGISTRY_BIN).then(
  () => undefined,
  () => `${REGISTRY_BIN} is missing (apt-get install -y docker-registry)`,
);
/** Whether the registry tests are ignored (never in CI, where they fail instead). */
export const REGISTRY_IGNORE = SWARM_IGNORE || (REGISTRY_UNAVAILABLE !== undefined && !REQUIRED);

/** A free TCP port on `hostname` (listened on, then closed). */
export function freePort(hostname = "127.0.0.1"): number {
  const l = Deno.listen({ hostname, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A running `docker-registry` on 127.0.0.1, with its storage in a temporary folder. */
export interface TestRegistry extends AsyncDisposable {
  /** `127.0.0.1:<port>`: `docker.registry`. */
  address: string;
  /** `GET /v2/_catalog`: the repositories it holds. */
  catalog(): Promise<string[]>;
}

/** Starts Debian's `docker-registry` (not the system service) on a free loopback port. */
export async function startRegistry(): Promise<TestRegistry> {
  if (REGISTRY_UNAVAILABLE) throw new Error(REGISTRY_UNAVAILABLE);
  const dir = await Deno.makeTempDir({ prefix: "pylon-registry-" });
  const address = `127.0.0.1:${freePort()}`;
  await Deno.writeTextFile(
    `${dir}/config.yml`,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${dir}/data`,
      "http:",
      `  addr: ${address}`,
    ].join("\n") + "\n",
  );
  const proc = new Deno.Command(REGISTRY_BIN, {
    args: ["serve", `${dir}/config.yml`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const close = async () => {
    try {
      proc.kill("SIGTERM");
    } catch { /* already gone */ }
    await proc.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  for (let i = 0;; i++) {
    const ok = await fetch(`http://${address}/v2/`).then((r) => {
      r.body?.cancel();
      return r.ok;
    }, () => false);
    if (ok) break;
    if (i > 100) {
      await close();
      throw new Error(`docker-registry did not answer on ${address}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    async catalog() {
      const res = await fetch(`http://${address}/v2/_catalog`);
      return ((await res.json()) as { repositories: string[] }).repositories;
    },
    [Symbol.asyncDispose]: close,
  };
}

/** Runs the docker CLI (`-H host` when given); its stdout, trimmed, or a thrown error. */
async function dockerCli(args: string[], host?: string): Promise<string> {
  const out = await new Deno.Command("docker", {
    args: host ? ["-H", host, ...args] : args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(`docker ${args.join(" ")}: ${text.decode(out.stderr).trim()}`);
  }
  return text.decode(out.stdout).trim();
}

/** A second Engine on this machine, joined to the test swarm as a worker. */
export interface WorkerEngine extends AsyncDisposable {
  nodeId: string;
}

/**
 * Starts a second `dockerd` (its own data-root, exec-root, pidfile and unix socket, its own
 * bridge, no iptables) and joins it to this machine's swarm as a worker on another loopback port.
 * Its gossip port (7946) is the manager's, so overlay networks do not work on it: its tasks use
 * `agent.network: host`. Disposal leaves the swarm, stops it and removes it and its bridge.
 *
 * Design note (its own bridge): `dockerd --bridge=none` deletes the `docker0` interface at
 * start-up, which is the first Engine's default bridge on the same host: never use it here.
 */
export async function startWorkerEngine(): Promise<WorkerEngine> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-worker-" });
  const host = `unix://${dir}/docker.sock`;
  const bridge = `pylonw${String(freePort()).slice(-4)}`;
  const ip = (args: string[]) =>
    new Deno.Command("ip", { args, stdout: "null", stderr: "null" }).output();
  await ip(["link", "add", bridge, "type", "bridge"]);
  await ip(["addr", "add", "172.31.254.1/24", "dev", bridge]);
  await ip(["link", "set", bridge, "up"]);
  const proc = new Deno.Command("dockerd", {
    args: [
      `--data-root=${dir}/data`,
      `--exec-root=${dir}/exec`,
      `--pidfile=${dir}/docker.pid`,
      `-H=${host}`,
      `--bridge=${bridge}`,
      "--iptables=false",
      "--ip6tables=false",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let nodeId = "";
  const close = async () => {
    await dockerCli(["swarm", "leave", "--force"], host).catch(() => {});
    try {
      proc.kill("SIGTERM");
    } catch { /* already gone */ }
    await proc.status;
    if (nodeId) await dockerCli(["node", "rm", "--force", nodeId]).catch(() => {});
    await unmountUnder(dir);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await ip(["link", "del", bridge]);
  };
  try {
    for (let i = 0;; i++) {
      const up = await dockerCli(["version", "--format", "{{.Server.Version}}"], host).then(
        () => true,
        () => false,
      );
      if (up) break;
      if (i > 120) throw new Error(`the second dockerd (${host}) did not answer`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const token = await dockerCli(["swarm", "join-token", "-q", "worker"]);
    const manager = await dockerCli([
      "info",
      "--format",
      "{{(index .Swarm.RemoteManagers 0).Addr}}",
    ]);
    const addr = `127.0.0.1:${freePort()}`;
    await dockerCli(
      ["swarm", "join", "--token", token, "--listen-addr", addr, "--advertise-addr", addr, manager],
      host,
    );
    nodeId = await dockerCli(["info", "--format", "{{.Swarm.NodeID}}"], host);
    return { nodeId, [Symbol.asyncDispose]: close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Unmounts what dockerd leaves mounted under `dir`: its network namespaces (`exec/netns/*`) and
 * its data-root (a mount of its own).
 */
async function unmountUnder(dir: string): Promise<void> {
  const paths: string[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/exec/netns`)) {
      paths.push(`${dir}/exec/netns/${e.name}`);
    }
  } catch { /* none */ }
  paths.push(`${dir}/data`);
  for (const path of paths) {
    await new Deno.Command("umount", {
      args: ["--recursive", path],
      stdout: "null",
      stderr: "null",
    }).output();
  }
}

/** The Swarm service of the job `job`, once it exists (polled for `timeoutMs`). */
export async function serviceOfJob(docker: DockerClient, job: string, timeoutMs?: number) {
  return await eventually(
    async () => (await docker.swarm!.listServices({ labels: { "pylon.job": job } }))[0],
    timeoutMs,
  );
}
