/**
 * The Swarm backend (`docker.backend: swarm`, issue 18 part 2): a job is a Swarm service in
 * `replicated-job` mode (Engine API 1.41, Docker 20.10) on the manager at `DOCKER_HOST`, run
 * without host mounts (`no_mounts.ts`): the image's init step fetches the job's bundle over the
 * channel, clones, runs the agent and sends back events, `result.json` and the agent state.
 *
 * - The per-job token and the secrets the agent needs in its environment (API key,
 *   `agent.env` is left as is) become Swarm secrets mounted as files in the task, never
 *   environment variables shown by `docker service inspect`; they are removed with the service.
 * - Logs stream from `GET /services/{id}/logs` into the job log ({@linkcode JobLog} reads them
 *   through a client whose `containerLogs` is the service's).
 * - The outcome: the task's terminal state and exit code, and the result the init step posted.
 * - Timeouts and kills remove the service (its task's container goes with it) and its secrets.
 *
 * Design note (replicated-job, restart none): a `replicated-job` service runs one task to
 * completion and is never rescheduled once it exits, so a finished job cannot run twice; its
 * default restart policy (`on-failure`) would re-run a failed agent, hence `Condition: none`.
 *
 * @module
 */

import type { ResolvedPylon } from "../config/mod.ts";
import type {
  ContainerSpec,
  DockerClient,
  LogsOptions,
  ServiceSpec,
  SwarmApi,
  TaskInfo,
} from "../docker/mod.ts";
import { PylonError, shortId } from "../errors.ts";
import type { Logger, Redactor } from "../log/mod.ts";
import type { RunContext, RunOutcome } from "../queue/mod.ts";
import type { Job } from "../store/mod.ts";
import { LABELS } from "./container_spec.ts";
import { DEFAULT_MAX_LOG_BYTES, JobLog } from "./job_log.ts";
import { outcomeOf, readResultFile } from "./result.ts";
import { stoppedOutcome } from "./deadline.ts";

/** Swarm's longest service name. */
const MAX_SERVICE_NAME = 63;
/** Where a task finds the secrets pylon gives its environment (`PYLON_SECRET_ENV`). */
const SECRET_DIR = "/run/secrets";
/** How often the task's state is read while it runs. */
const POLL_MS = 500;
/** How long a stopped job waits for the service's removal. */
const REMOVE_MS = 10_000;
/** How long the end of a job may take to remove its service and secrets (in use until then). */
const CLEANUP_MS = 30_000;

/** Task states after which the task never runs again. */
const TERMINAL = new Set(["complete", "failed", "shutdown", "rejected", "orphaned", "remove"]);

/** `pylon-<pylon>-<id8>`, within Swarm's 63 characters. */
export function serviceName(pylon: string, jobId: string): string {
  const tail = `-${jobId.slice(0, 8)}`;
  const head = `pylon-${pylon}`.replace(/[^A-Za-z0-9_.-]/g, "-");
  return head.slice(0, MAX_SERVICE_NAME - tail.length) + tail;
}

/** One secret of a job: its name in the swarm, where the task sees it, its bytes. */
export interface JobSecret {
  name: string;
  target: string;
  data: string;
}

/** What {@linkcode serviceSpecOf} needs besides the container spec. */
export interface ServiceInput {
  name: string;
  pylon: ResolvedPylon;
  /** The no-mounts container spec the Engine backend would create (`buildContainerSpec`). */
  container: ContainerSpec;
  /** The image reference the nodes pull (the registry's, with `docker.registry`). */
  image: string;
  /** Created secrets, by id. */
  secrets: (JobSecret & { id: string })[];
  /** Environment variables moved into secrets (left out of the service's `Env`). */
  secretEnv: readonly string[];
  uid: number;
  gid: number;
}

/**
 * The job's secrets: the token at the path the init step reads, and each secret environment
 * variable of the agent (the API key) as a file the init step exports (`PYLON_SECRET_ENV`).
 */
export function jobSecrets(
  jobId: string,
  token: string,
  container: ContainerSpec,
  pylon: ResolvedPylon,
  tokenPath: string,
): { secrets: JobSecret[]; secretEnv: string[] } {
  const base = `pylon-${jobId}`;
  const secrets: JobSecret[] = [{ name: `${base}-token`, target: tokenPath, data: token }];
  const secretEnv: string[] = [];
  const agent = pylon.agent;
  const sensitive = new Set<string>();
  if (agent.auth === "api_key" && agent.apiKey) sensitive.add(agent.apiKeyVar);
  for (const entry of container.Env ?? []) {
    const i = entry.indexOf("=");
    const key = entry.slice(0, i);
    if (!sensitive.has(key)) continue;
    const n = secretEnv.length + 1;
    secrets.push({
      name: `${base}-env${n}`,
      target: `${SECRET_DIR}/pylon-env${n}`,
      data: entry.slice(i + 1),
    });
    secretEnv.push(key);
  }
  return { secrets, secretEnv };
}

/** The service of one job: the container spec's hardening, in Swarm's terms. */
export function serviceSpecOf(input: ServiceInput): ServiceSpec {
  const c = input.container;
  const host = c.HostConfig ?? {};
  const agent = input.pylon.agent;
  const moved = new Set(input.secretEnv);
  const env = (c.Env ?? []).filter((e) => !moved.has(e.slice(0, e.indexOf("="))));
  const pairs = input.secretEnv.map((key, i) => {
    const s = input.secrets.find((x) => x.name.endsWith(`-env${i + 1}`))!;
    return `${key}=${s.target}`;
  });
  if (pairs.length > 0) env.push(`PYLON_SECRET_ENV=${pairs.join(",")}`);
  const labels = c.Labels ?? {};
  const limits: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number } = {};
  const reservations: { NanoCPUs?: number; MemoryBytes?: number } = {};
  if (agent.memoryBytes) limits.MemoryBytes = reservations.MemoryBytes = agent.memoryBytes;
  if (agent.cpus) limits.NanoCPUs = reservations.NanoCPUs = Math.round(agent.cpus * 1e9);
  if (host.PidsLimit) limits.Pids = host.PidsLimit;
  return {
    Name: input.name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: input.image,
        Labels: labels,
        ...(c.Entrypoint ? { Command: c.Entrypoint } : {}),
        ...(c.Cmd ? { Args: c.Cmd } : {}),
        Env: env,
        ...(c.WorkingDir ? { Dir: c.WorkingDir } : {}),
        ...(c.User ? { User: c.User } : {}),
        Init: host.Init ?? true,
        ...(host.CapDrop ? { CapabilityDrop: host.CapDrop } : {}),
        ...(host.ReadonlyRootfs ? { ReadOnly: true } : {}),
        Mounts: [],
        Secrets: input.secrets.map((s) => ({
          File: {
            Name: s.target,
            UID: String(input.uid),
            GID: String(input.gid),
            Mode: 0o400,
          },
          SecretID: s.id,
          SecretName: s.name,
        })),
      },
      Resources: { Limits: limits, Reservations: reservations },
      RestartPolicy: { Condition: "none" },
      // `agent.network: host` is Swarm's `host` network; otherwise Docker's default bridge.
      ...(host.NetworkMode === "host" ? { Networks: [{ Target: "host" }] } : {}),
      Placement: { Constraints: [...(input.pylon.config.agent.placement ?? [])] },
      ...(host.LogConfig
        ? { LogDriver: { Name: host.LogConfig.Type, Options: host.LogConfig.Config ?? {} } }
        : {}),
    },
    Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
  };
}

/** The client's Swarm API, or a clear error. */
export function swarmOf(docker: DockerClient): SwarmApi {
  if (!docker.swarm) {
    throw new PylonError("This Docker client cannot drive a Swarm", {
      hint: "set docker.backend: engine in config.yaml",
    });
  }
  return docker.swarm;
}

/** What {@linkcode SwarmJobs} needs. */
export interface SwarmJobsDeps {
  docker: DockerClient;
  jobsDir: string;
  /** The pylon home's label (`LABELS.home`). */
  home: string;
  maxLog?: number | undefined;
  output(line: string, jobId: string): void;
  clock: { now(): Date };
  /** `docker.registry`: built images are pushed there and services use its references. */
  registry?: string | undefined;
}

/** Runs, re-attaches to and prunes jobs that are Swarm services. */
export class SwarmJobs {
  readonly #d: SwarmJobsDeps;

  /** Local image → its pushed registry reference. */
  readonly #pushed = new Map<string, Promise<string>>();

  constructor(deps: SwarmJobsDeps) {
    this.#d = deps;
  }

  /**
   * The reference nodes pull `image` by: with `docker.registry`, pylon's built images (`pylon/…`)
   * are tagged `<registry>/pylon/…` and pushed once; others are used as they are.
   */
  publish(image: string, signal?: AbortSignal): Promise<string> {
    const registry = this.#d.registry;
    if (!registry || !image.startsWith("pylon/")) return Promise.resolve(image);
    let ref = this.#pushed.get(image);
    if (!ref) {
      const swarm = swarmOf(this.#d.docker);
      const colon = image.lastIndexOf(":");
      const repo = `${registry}/${image.slice(0, colon)}`;
      const tag = image.slice(colon + 1);
      ref = (async () => {
        await swarm.tagImage(image, repo, tag, { signal });
        await swarm.pushImage(`${repo}:${tag}`, { signal });
        return `${repo}:${tag}`;
      })();
      ref.catch(() => this.#pushed.delete(image));
      this.#pushed.set(image, ref);
    }
    return ref;
  }

  /**
   * Creates the job's secrets and service, follows it to its end and removes both.
   * `signal` is the job's stop (kill, deadline); the outcome of a stop is `stoppedOutcome`.
   */
  async run(o: {
    job: Job;
    pylon: ResolvedPylon;
    container: ContainerSpec;
    image: string;
    token: string;
    tokenPath: string;
    uid: number;
    gid: number;
    outDir: string;
    ctx: RunContext;
    redactor: Redactor;
    signal: AbortSignal;
  }): Promise<RunOutcome> {
    const swarm = swarmOf(this.#d.docker);
    const { job, ctx } = o;
    const name = serviceName(o.pylon.name, job.id);
    const { secrets, secretEnv } = jobSecrets(job.id, o.token, o.container, o.pylon, o.tokenPath);
    const labels = { ...o.container.Labels };
    const created: (JobSecret & { id: string })[] = [];
    let serviceId: string | undefined;
    try {
      await this.#removeJob(job.id);
      for (const s of secrets) {
        const id = await swarm.createSecret(s.name, new TextEncoder().encode(s.data), {
          labels,
          signal: o.signal,
        });
        created.push({ ...s, id });
      }
      const image = await this.publish(o.image, o.signal);
      const spec = serviceSpecOf({
        name,
        pylon: o.pylon,
        container: o.container,
        image,
        secrets: created,
        secretEnv,
        uid: o.uid,
        gid: o.gid,
      });
      serviceId = await swarm.createService(spec, { signal: o.signal });
    } catch (e) {
      await this.#removeJob(job.id).catch(() => {});
      if (o.signal.aborted) return stoppedOutcome(o.signal);
      return { status: "failed", error: errorText(e) };
    }
    await ctx.update({ containerId: serviceId });
    ctx.log.info("service.created", { service: name, image: o.image });
    return await this.#follow(
      job,
      serviceId,
      o.outDir,
      ctx,
      o.signal,
      new Date(),
      false,
      o.redactor,
    );
  }

  /** Finds the job's service again after a daemon restart; null when there is none. */
  async reattach(
    job: Job,
    outDir: string,
    ctx: RunContext,
    signal: AbortSignal,
    redactor: Redactor,
  ): Promise<RunOutcome | null> {
    const swarm = swarmOf(this.#d.docker);
    const [found] = await swarm.listServices({ labels: { [LABELS.job]: job.id } });
    if (!found) return null;
    ctx.log.info("service.reattached", { service: found.Spec.Name });
    return await this.#follow(
      job,
      found.ID,
      outDir,
      ctx,
      signal,
      this.#d.clock.now(),
      true,
      redactor,
    );
  }

  /** Removes pylon's services and secrets (this home's) that belong to no known job. */
  async prune(isKnown: (jobId: string) => Promise<boolean>, log: Logger): Promise<void> {
    const swarm = swarmOf(this.#d.docker);
    const mine = { [LABELS.managed]: "1", [LABELS.home]: this.#d.home };
    let services = 0;
    for (const s of await swarm.listServices({ labels: mine })) {
      const jobId = s.Spec.Labels?.[LABELS.job];
      if (jobId && await isKnown(jobId)) continue;
      await swarm.removeService(s.ID);
      services++;
    }
    let secrets = 0;
    for (const s of await swarm.listSecrets({ labels: mine })) {
      const jobId = s.Spec.Labels?.[LABELS.job];
      if (jobId && await isKnown(jobId)) continue;
      if (await swarm.removeSecret(s.ID).catch(() => false)) secrets++;
    }
    log.info("orphans.pruned_swarm", { services, secrets });
  }

  /** A node's hostname (and id), for errors. */
  async #nodeName(id: string | undefined): Promise<string> {
    if (!id) return "(unknown)";
    const nodes = await swarmOf(this.#d.docker).nodes().catch(() => []);
    const host = nodes.find((n) => n.ID === id)?.Description?.Hostname;
    return host ? `"${host}" (${id.slice(0, 12)})` : id.slice(0, 12);
  }

  /** Removes the job's service (its task goes with it), then its secrets. */
  async #removeJob(jobId: string, signal?: AbortSignal): Promise<void> {
    const swarm = swarmOf(this.#d.docker);
    const label = { [LABELS.job]: jobId };
    for (const s of await swarm.listServices({ labels: label, signal })) {
      await swarm.removeService(s.ID, { signal });
    }
    // A secret in use by a task being removed is refused until its container is gone, which
    // took over 5 s on a loaded 2-core host: retry for up to 15 s.
    for (const s of await swarm.listSecrets({ labels: label, signal })) {
      for (let i = 0; i < 60; i++) {
        const ok = await swarm.removeSecret(s.ID, { signal }).then(() => true, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  async #follow(
    job: Job,
    serviceId: string,
    outDir: string,
    ctx: RunContext,
    stop: AbortSignal,
    since: Date,
    resume: boolean,
    redactor: Redactor,
  ): Promise<RunOutcome> {
    const swarm = swarmOf(this.#d.docker);
    const docker = this.#d.docker;
    // JobLog reads "container" logs: here, the service's.
    const logs: DockerClient = Object.create(docker, {
      containerLogs: {
        value: (id: string, opts?: LogsOptions) => swarm.serviceLogs(id, opts),
      },
    });
    const copy = new JobLog({
      docker: logs,
      containerId: serviceId,
      logPath: `${this.#d.jobsDir}/${job.id}.log`,
      attempt: job.attempt,
      startedAt: since,
      resume,
      maxBytes: this.#d.maxLog ?? DEFAULT_MAX_LOG_BYTES,
      output: (line) => this.#d.output(line, job.id),
      prefix: `[${job.pylon} ${shortId(job.id)}] `,
      redactor,
      log: ctx.log,
    });
    const stopLogs = new AbortController();
    const logging = copy.follow(stopLogs.signal);
    let task: TaskInfo | undefined;
    let started = false;
    while (!stop.aborted) {
      const tasks = await swarm.tasks(serviceId, { signal: stop }).catch(() => null);
      // The service is gone (`docker service rm` outside pylon: the task list answers 404, or no
      // task after a restart or once one was seen): the job ends now, not at its deadline.
      const gone = tasks === null
        ? await swarm.inspectService(serviceId, { signal: stop }).then(
          (s) => s === null,
          () => false,
        )
        : tasks.length === 0 && (resume || task !== undefined);
      if (gone) {
        task = undefined;
        break;
      }
      task = tasks?.[0];
      if (task && !started && task.Status.State === "running") {
        started = true;
        ctx.log.info("container.started", { service: serviceId.slice(0, 12) });
      }
      if (task && TERMINAL.has(task.Status.State)) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, POLL_MS);
        stop.addEventListener("abort", () => {
          clearTimeout(t);
          r();
        }, { once: true });
      });
    }
    if (stop.aborted) {
      await settleWithin(this.#removeJob(job.id, AbortSignal.timeout(REMOVE_MS)), REMOVE_MS);
    }
    await settleWithin(logging, 2000);
    stopLogs.abort();
    await settleWithin(logging, 1000);
    if (!stop.aborted) {
      await settleWithin(copy.catchUp(AbortSignal.timeout(10_000)), 10_000);
    }
    const cleanup = async () => {
      await this.#removeJob(job.id, AbortSignal.timeout(CLEANUP_MS)).catch((e) =>
        ctx.log.warn("service.remove_failed", { service: serviceId, error: errorText(e) })
      );
    };
    if (stop.aborted) return { ...stoppedOutcome(stop), cleanup };
    const fromFile = await readResultFile(outDir, { signal: AbortSignal.timeout(10_000) });
    const state = task?.Status.State ?? "missing";
    const exitCode = task?.Status.ContainerStatus?.ExitCode ??
      (state === "complete" ? 0 : 1);
    const err = task?.Status.Err ?? "";
    if (!fromFile && /no such image|pull access denied|manifest unknown/i.test(err)) {
      const node = await this.#nodeName(task?.NodeID);
      return {
        status: "failed",
        error: `the Swarm node ${node} lacks the image (${err}); fix: set docker.registry in ` +
          "config.yaml to a registry every node can pull from, or load the image on that node",
        cleanup,
      };
    }
    if (!fromFile && state !== "complete" && state !== "failed") {
      const why = err || task?.Status.Message ||
        "the job's service and task are gone (removed outside pylon, e.g. docker service rm)";
      return { status: "failed", error: `the Swarm task ended ${state}: ${why}`, cleanup };
    }
    return { ...outcomeOf(exitCode, fromFile, copy.tail), cleanup };
  }
}

/** Waits for `promise`, but at most `ms`. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
