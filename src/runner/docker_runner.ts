/**
 * Runs a job in Docker (ARCHITECTURE.md §4): render the templates, prepare the workspace, create
 * and start the hardened container, stream its output to `jobs/<id>.log` and the daemon's
 * output, enforce the deadline, read `result.json`, remove the container. Re-attaches to a job
 * left running by a previous daemon, and prunes what no job owns.
 *
 * Containers are deliberately not auto-removed: a container that finishes while no daemon runs
 * keeps its exit code for the next daemon to read.
 *
 * @module
 */

import { join } from "node:path";
import type { ResolvedPylon } from "../config/mod.ts";
import type { DockerClient } from "../docker/mod.ts";
import { PylonError, shortId, TemplateError } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import type { JobRunner, RunContext, RunOutcome } from "../queue/mod.ts";
import type { Job } from "../store/mod.ts";
import { renderTemplate } from "../template/mod.ts";
import {
  type GitRunner,
  type PreparedWorkspace,
  prepareWorkspace,
  removeWorkspace,
} from "../workspace/mod.ts";
import { buildContainerSpec, containerName, LABELS } from "./container_spec.ts";
import { resolveVolumes } from "./volumes.ts";
import { outcomeOf, readResultFile, TailBuffer } from "./result.ts";
import { prepareAgentImages } from "./prepare.ts";

/** What the runner needs. */
export interface DockerRunnerDeps {
  docker: DockerClient;
  git: GitRunner;
  jobsDir: string;
  reposDir: string;
  env: Record<string, string>;
  /** Concatenated CA files to mount, when `docker.ca_certificates` is set. */
  caBundle?: string | undefined;
  caCertificates: string[];
  pidsLimit: number;
  /** Receives each line of agent output, already prefixed `[pylon id8]`. */
  output(line: string): void;
  clock: { now(): Date };
  /** Effective uid/gid of the daemon (null where unknown). */
  uid: number | null;
  gid: number | null;
}

/** The uid the agent runs as: the daemon's own, or 1000 when the daemon runs as root. */
function agentUser(uid: number | null, gid: number | null): { user: string; chownTo?: number } {
  if (uid === null || uid === 0) return { user: "1000:1000", chownTo: 1000 };
  return { user: `${uid}:${gid ?? uid}` };
}

/** Runs jobs in Docker containers. */
export class DockerRunner implements JobRunner {
  readonly #deps: DockerRunnerDeps;
  /** Image per built-in agent type, settled by {@linkcode prepareImages}. */
  readonly #images = new Map<string, string>();
  readonly #imageFailedAt = new Map<string, number>();
  readonly #home: string;
  #checkedAt = 0;
  #up = false;

  constructor(deps: DockerRunnerDeps) {
    this.#deps = deps;
    this.#home = homeLabel(deps.jobsDir);
  }

  /** Releases the Docker connection (daemon shutdown). */
  close(): void {
    this.#deps.docker.close();
  }

  /** Whether the Docker Engine answers (checked at most every 2 s). */
  async available(): Promise<boolean> {
    const now = Date.now();
    if (now - this.#checkedAt < 2000) return this.#up;
    this.#checkedAt = now;
    try {
      await this.#deps.docker.ping({ signal: AbortSignal.timeout(2000) });
      this.#up = true;
    } catch {
      this.#up = false;
    }
    return this.#up;
  }

  /** Start-up: builds or pulls the images the pylons need; failures are per pylon. */
  async prepareImages(pylons: readonly ResolvedPylon[], log: Logger): Promise<void> {
    const refs = await prepareAgentImages(pylons, {
      docker: this.#deps.docker,
      caCertificates: this.#deps.caCertificates,
      log,
    });
    for (const [type, ref] of refs) this.#images.set(type, ref);
  }

  async run(job: Job, pylon: ResolvedPylon, ctx: RunContext): Promise<RunOutcome> {
    const data = { body: job.payload, headers: job.headers };
    const rendered = renderFields(pylon, data);
    if ("error" in rendered) return { status: "failed", error: rendered.error };
    // A follow-up asks what the person wrote in the thread, not the pylon's prompt.
    if (job.trigger === "follow-up" && job.prompt) rendered.prompt = job.prompt;
    await ctx.update({
      prompt: rendered.prompt,
      repo: rendered.repo ?? null,
      ref: rendered.ref ?? null,
    });

    const jobDir = join(this.#deps.jobsDir, job.id);
    const outDir = join(jobDir, "out");
    // A follow-up continues in the job it follows: same workspace, same agent state (session).
    const origin = job.trigger === "follow-up" && job.parentId
      ? join(this.#deps.jobsDir, job.parentId)
      : undefined;
    const stateDir = join(origin ?? jobDir, "state");
    const { user, chownTo } = agentUser(this.#deps.uid, this.#deps.gid);
    let workspace: PreparedWorkspace;
    try {
      workspace = await prepareWorkspace(
        { ...pylon.config.workspace, repo: rendered.repo, ref: rendered.ref },
        {
          jobDir,
          reposDir: this.#deps.reposDir,
          ...(origin ? { reuse: join(origin, "workspace") } : {}),
        },
        { git: this.#deps.git, log: ctx.log, signal: ctx.signal, home: this.#deps.env.HOME },
      );
      for (const dir of [outDir, join(stateDir, "home")]) {
        await Deno.mkdir(dir, { recursive: true });
      }
      // Leftovers of an earlier attempt must not pass for this run's result.
      await Deno.remove(join(outDir, "result.json")).catch(() => {});
      if (chownTo !== undefined) {
        await chownTree(chownTo, [outDir, stateDir, join(stateDir, "home")]);
        if (workspace.hostPath && pylon.config.workspace.type !== "local") {
          await chownRecursive(workspace.hostPath, chownTo);
        }
        // A worktree's own metadata folder is mounted read-write inside the repository.
        for (const m of workspace.extraMounts) {
          if (!m.readOnly) await chownRecursive(m.hostPath, chownTo);
        }
      }
    } catch (e) {
      return { status: "failed", error: `workspace: ${errorText(e)}` };
    }
    let image: string;
    let volumes;
    try {
      image = await this.#imageFor(pylon, ctx.log);
      volumes = await resolveVolumes(pylon.agent.volumes, { home: this.#deps.env.HOME });
    } catch (e) {
      return { status: "failed", error: errorText(e) };
    }
    const oauth = await this.#oauthMounts(pylon);
    const spec = buildContainerSpec({
      jobId: job.id,
      pylon,
      image,
      prompt: rendered.prompt,
      sessionId: job.sessionId,
      workspace: workspace.hostPath,
      workspaceReadOnly: workspace.readOnly,
      extraMounts: workspace.extraMounts,
      outDir,
      stateDir,
      ...oauth,
      caBundle: this.#deps.caBundle,
      volumes,
      user,
      home: this.#home,
      pidsLimit: this.#deps.pidsLimit,
    });
    const docker = this.#deps.docker;
    let id: string;
    try {
      await docker.removeContainer(containerName(pylon.name, job.id), { force: true });
      id = await docker.createContainer(spec, { name: containerName(pylon.name, job.id) });
    } catch (e) {
      return { status: "failed", error: errorText(e) };
    }
    await ctx.update({ containerId: id });
    const wait = await docker.armWait(id, { condition: "next-exit" });
    try {
      await docker.startContainer(id);
    } catch (e) {
      await docker.removeContainer(id, { force: true }).catch(() => {});
      return { status: "failed", error: errorText(e) };
    }
    ctx.log.info("container.started", { container: id.slice(0, 12), image });
    return await this.#follow(job, id, wait.exitCode, outDir, ctx, new Date());
  }

  async reattach(
    job: Job,
    _pylon: ResolvedPylon | undefined,
    ctx: RunContext,
  ): Promise<RunOutcome> {
    const docker = this.#deps.docker;
    const [found] = await docker.listContainers({ all: true, labels: { [LABELS.job]: job.id } });
    const outDir = join(this.#deps.jobsDir, job.id, "out");
    if (!found) {
      const fromFile = await readResultFile(outDir);
      return fromFile ??
        { status: "failed", error: "the agent's container vanished while the daemon was down" };
    }
    ctx.log.info("container.reattached", { container: found.Id.slice(0, 12), state: found.State });
    const wait = found.State === "running"
      ? (await docker.armWait(found.Id, { condition: "not-running" })).exitCode
      : docker.inspectContainer(found.Id).then((i) => i?.State.ExitCode ?? 1);
    return await this.#follow(job, found.Id, wait, outDir, ctx, this.#deps.clock.now());
  }

  /** Deletes finished jobs' folders and logs (retention), unregistering git worktrees. */
  async removeJobFiles(jobIds: readonly string[], log: Logger): Promise<void> {
    for (const id of jobIds) {
      const jobDir = join(this.#deps.jobsDir, id);
      await removeWorkspace(jobDir, { git: this.#deps.git, log }).catch((e) =>
        log.warn("workspace.remove_failed", { job: shortId(id), error: errorText(e) })
      );
      for (const path of [jobDir, `${jobDir}.log`]) {
        await Deno.remove(path, { recursive: true }).catch(() => {});
      }
    }
  }

  /** Removes containers and job folders that belong to no known job. */
  async pruneOrphans(isKnown: (jobId: string) => Promise<boolean>, log: Logger): Promise<void> {
    const docker = this.#deps.docker;
    let containers = 0;
    const mine = { [LABELS.managed]: "1", [LABELS.home]: this.#home };
    for (const c of await docker.listContainers({ all: true, labels: mine })) {
      const jobId = c.Labels?.[LABELS.job];
      if (jobId && await isKnown(jobId)) continue;
      await docker.removeContainer(c.Id, { force: true });
      containers++;
    }
    let folders = 0;
    try {
      for await (const entry of Deno.readDir(this.#deps.jobsDir)) {
        const id = entry.name.replace(/\.log$/, "");
        if (!/^[0-9a-f-]{36}$/.test(id) || await isKnown(id)) continue;
        await Deno.remove(join(this.#deps.jobsDir, entry.name), { recursive: true });
        folders++;
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    log.info("orphans.pruned", { containers, folders });
  }

  async #follow(
    job: Job,
    id: string,
    exitCode: Promise<number>,
    outDir: string,
    ctx: RunContext,
    since: Date,
  ): Promise<RunOutcome> {
    const docker = this.#deps.docker;
    const tail = new TailBuffer();
    const stopLogs = new AbortController();
    const logging = this.#streamLogs(job, id, tail, stopLogs.signal, since);
    const deadline = job.deadlineAt
      ? job.deadlineAt.getTime() - this.#deps.clock.now().getTime()
      : Infinity;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = await Promise.race([
      exitCode.then((code) => ({ kind: "exited" as const, code })),
      new Promise<{ kind: "timed_out" }>((resolve) => {
        if (Number.isFinite(deadline)) {
          timer = setTimeout(() => resolve({ kind: "timed_out" }), Math.max(0, deadline));
        }
      }),
      new Promise<{ kind: "killed" }>((resolve) => {
        if (ctx.signal.aborted) resolve({ kind: "killed" });
        ctx.signal.addEventListener("abort", () => resolve({ kind: "killed" }), { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (ended.kind !== "exited") {
      await docker.killContainer(id).catch(() => {});
      await exitCode.catch(() => 137);
    }
    await settleWithin(logging, 2000);
    stopLogs.abort();
    // An aborted log read has been seen to hang; the job's outcome never waits on it.
    await settleWithin(logging, 1000);
    await docker.removeContainer(id, { force: true }).catch((e) =>
      ctx.log.warn("container.remove_failed", { container: id.slice(0, 12), error: errorText(e) })
    );
    if (ended.kind === "timed_out") {
      const limit = job.deadlineAt && job.startedAt
        ? Math.round((job.deadlineAt.getTime() - job.startedAt.getTime()) / 1000)
        : undefined;
      return {
        status: "timed_out",
        exitCode: 137,
        error: `the agent ran past its timeout${limit ? ` (${limit}s)` : ""} and was killed`,
      };
    }
    if (ended.kind === "killed") {
      const reason = ctx.signal.reason;
      return {
        status: "killed",
        exitCode: 137,
        error: reason instanceof Error ? reason.message : "killed by request",
      };
    }
    return outcomeOf(ended.code, await readResultFile(outDir), tail.value);
  }

  async #streamLogs(
    job: Job,
    id: string,
    tail: TailBuffer,
    signal: AbortSignal,
    since: Date,
  ): Promise<void> {
    const prefix = `[${job.pylon} ${shortId(job.id)}] `;
    const file = await Deno.open(join(this.#deps.jobsDir, `${job.id}.log`), {
      append: true,
      create: true,
    });
    const enc = new TextEncoder();
    const dec = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const partial = { stdout: "", stderr: "" };
    try {
      await file.write(enc.encode(`--- run ${since.toISOString()} attempt ${job.attempt} ---\n`));
      for await (
        const chunk of this.#deps.docker.containerLogs(id, {
          follow: true,
          since: Math.floor(since.getTime() / 1000) - 1,
          signal,
        })
      ) {
        await file.write(chunk.data);
        const text = dec[chunk.stream].decode(chunk.data, { stream: true });
        tail.push(text);
        const lines = (partial[chunk.stream] + text).split("\n");
        partial[chunk.stream] = lines.pop()!;
        for (const line of lines) this.#deps.output(prefix + line);
      }
    } catch (e) {
      if (!signal.aborted) this.#deps.output(`${prefix}(log stream ended: ${errorText(e)})`);
    } finally {
      for (const rest of Object.values(partial)) if (rest) this.#deps.output(prefix + rest);
      file.close();
    }
  }

  /** The image of a pylon's agent, built now if start-up could not (e.g. Docker was down). */
  async #imageFor(pylon: ResolvedPylon, log: Logger): Promise<string> {
    if (pylon.agent.type === "custom" || pylon.config.agent.image) return pylon.agent.image;
    const type = pylon.agent.type;
    const failedAt = this.#imageFailedAt.get(type) ?? -Infinity;
    // After a failed build, jobs fail fast for a minute instead of each starting a build.
    if (!this.#images.has(type) && Date.now() - failedAt > 60_000) {
      await this.prepareImages([pylon], log);
      if (!this.#images.has(type)) this.#imageFailedAt.set(type, Date.now());
    }
    const ref = this.#images.get(type);
    if (!ref) {
      throw new PylonError(`No image for the ${type} agent of pylon "${pylon.name}"`, {
        hint: "building it failed; see the daemon log (event=image.failed), fix the cause, " +
          "then run `pylon rebuild-images`",
      });
    }
    return ref;
  }

  async #oauthMounts(pylon: ResolvedPylon): Promise<{ oauthDir?: string; oauthJson?: string }> {
    const path = pylon.agent.oauthPath;
    if (!path) return {};
    const home = this.#deps.env.HOME ?? "";
    const dir = path.startsWith("~") ? join(home, path.slice(1)) : path;
    const json = join(dir, "..", ".claude.json");
    const out: { oauthDir?: string; oauthJson?: string } = {};
    if (await exists(dir)) out.oauthDir = dir;
    if (await exists(json)) out.oauthJson = json;
    return out;
  }
}

/** Renders prompt, repo and ref; a failure names the field and position. */
function renderFields(
  pylon: ResolvedPylon,
  data: unknown,
): { prompt: string; repo: string | undefined; ref: string | undefined } | { error: string } {
  const fields: [string, string | undefined][] = [
    ["agent.prompt", pylon.agent.prompt],
    ["workspace.repo", pylon.config.workspace.repo],
    ["workspace.ref", pylon.config.workspace.ref],
  ];
  const out: (string | undefined)[] = [];
  for (const [name, text] of fields) {
    if (text === undefined) {
      out.push(undefined);
      continue;
    }
    try {
      out.push(renderTemplate(name, text, data));
    } catch (e) {
      if (e instanceof TemplateError) {
        return {
          error: `cannot render ${name} at line ${e.line}, column ${e.column}: ${e.message}`,
        };
      }
      throw e;
    }
  }
  return { prompt: out[0] ?? "", repo: out[1] || undefined, ref: out[2] || undefined };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function chownTree(uid: number, dirs: string[]): Promise<void> {
  for (const dir of dirs) await Deno.chown(dir, uid, uid);
}

async function chownRecursive(path: string, uid: number): Promise<void> {
  await Deno.chown(path, uid, uid);
  for await (const entry of Deno.readDir(path)) {
    const child = join(path, entry.name);
    if (entry.isDirectory) await chownRecursive(child, uid);
    else if (!entry.isSymlink) await Deno.chown(child, uid, uid);
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

/** A short, stable id of the pylon home that owns `jobsDir` (FNV-1a, hex). */
function homeLabel(jobsDir: string): string {
  let h = 0x811c9dc5;
  for (const c of new TextEncoder().encode(jobsDir)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
