/**
 * Builds the real Docker runner from config.yaml: the Docker client, git, the CA bundle.
 *
 * @module
 */

import { join } from "node:path";
import { type GlobalConfig, parseByteSize, type PylonPaths } from "../config/mod.ts";
import { createDockerClient } from "../docker/mod.ts";
import { PylonError } from "../errors.ts";
import { hostPathContext } from "../host_paths.ts";
import { createGitRunner } from "../workspace/mod.ts";
import { DockerRunner, homeLabel } from "./docker_runner.ts";
import { SwarmJobs } from "./swarm.ts";

/** Options of {@linkcode createDockerRunner}. */
export interface CreateRunnerOptions {
  paths: PylonPaths;
  env: Record<string, string>;
  /** Receives each line of agent output (prefixed `[pylon id8]`) and the job's id. */
  output(line: string, jobId: string): void;
  clock: { now(): Date };
}

/** The Docker runner for `config`. @throws {PylonError} when a CA file cannot be read */
export async function createDockerRunner(
  config: GlobalConfig,
  o: CreateRunnerOptions,
): Promise<DockerRunner> {
  const caCertificates = config.docker.ca_certificates.map((p) =>
    p === "~" || p.startsWith("~/") ? join(o.env.HOME ?? "", p.slice(1)) : p
  );
  let caBundle: string | undefined;
  if (caCertificates.length > 0) {
    const parts: string[] = [];
    for (const file of caCertificates) {
      try {
        parts.push((await Deno.readTextFile(file)).trim());
      } catch (e) {
        throw new PylonError(`Cannot read docker.ca_certificates entry ${file}`, {
          hint: "fix the path in config.yaml (a PEM file on this host)",
          cause: e,
        });
      }
    }
    caBundle = join(o.paths.root, "ca-bundle.pem");
    await Deno.mkdir(o.paths.root, { recursive: true });
    await Deno.writeTextFile(caBundle, parts.join("\n") + "\n", { mode: 0o644 });
  }
  await Deno.mkdir(o.paths.jobsDir, { recursive: true });
  await Deno.mkdir(o.paths.reposDir, { recursive: true });
  const docker = createDockerClient({ env: o.env });
  const swarm = config.docker.backend === "swarm"
    ? new SwarmJobs({
      docker,
      jobsDir: o.paths.jobsDir,
      home: homeLabel(o.paths.jobsDir),
      maxLog: parseByteSize(config.docker.max_log) ?? undefined,
      output: o.output,
      clock: o.clock,
      registry: config.docker.registry,
    })
    : undefined;
  return new DockerRunner({
    docker,
    swarm,
    git: createGitRunner(),
    jobsDir: o.paths.jobsDir,
    reposDir: o.paths.reposDir,
    env: o.env,
    caBundle,
    caCertificates,
    pidsLimit: config.docker.pids_limit,
    maxLog: parseByteSize(config.docker.max_log) ?? undefined,
    output: o.output,
    clock: o.clock,
    uid: Deno.uid(),
    gid: Deno.gid(),
    hostPaths: await hostPathContext({ env: o.env, pylonHome: o.paths.root }),
    mounts: config.docker.mounts,
    agentUrl: config.server.agent_url,
    daemonPort: config.server.port,
    daemonHost: config.server.host,
  });
}
