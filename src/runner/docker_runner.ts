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
import { type Logger, NO_REDACTION, type Redactor, redactorFor } from "../log/mod.ts";
import type { JobRunner, RunContext, RunOutcome } from "../queue/mod.ts";
import type { Job } from "../store/mod.ts";
import { renderTemplate } from "../template/mod.ts";
import {
  type GitRunner,
  type PreparedWorkspace,
  prepareWorkspace,
  pushCredential,
  redactUrl,
  removeWorkspace,
  workspaceSpecOf,
} from "../workspace/mod.ts";
import type { HostPathContext } from "../host_paths.ts";
import { buildContainerSpec, CONTAINER_PATHS, containerName, LABELS } from "./container_spec.ts";
import { resolveVolumes } from "./volumes.ts";
import { chownNewTree, ensureAgentDir, ensureJobDir } from "./agent_dirs.ts";
import { removeTree } from "./remove_tree.ts";
import { jobSignal, stoppedOutcome, untilAborted } from "./deadline.ts";
import { writeMcpConfig, writePromptFile } from "./prompt_file.ts";
import { oauthFiles } from "./oauth.ts";
import { withOutOfMemory } from "./oom.ts";
import { redactOutcome } from "./redaction.ts";
import { outcomeOf, readResultFile } from "./result.ts";
import { DEFAULT_MAX_LOG_BYTES, JobLog } from "./job_log.ts";
import { prepareAgentImages } from "./prepare.ts";
import {
  type ApprovalFolders,
  approvalFolders,
  type ChannelApprovalFile,
  channelApprovalFiles,
  deliverApprovalFiles,
  writeApprovalFiles,
} from "./approval_files.ts";
import {
  archiveTokenDelivery,
  channelSecretFiles,
  NO_MOUNT_PATHS,
  noMountsProblem,
  prepareChannelJob,
  type TokenDelivery,
} from "./no_mounts.ts";
import {
  channelFiles,
  issueJobToken,
  revokeJobToken,
  writeAtomically,
} from "../agent_channel/mod.ts";
import { defaultAgentUrl, gatewayBaseUrl, gatewayEnabled } from "../gateway/policy.ts";
import { readCountedUsage, withCountedUsage } from "../gateway/ledger.ts";
import {
  createEngineRelay,
  createSwarmRelay,
  type EgressContainerSettings,
  type EgressRelay,
  type EgressService,
  type EgressServiceOptions,
  engineJobNetworks,
  openEgressService,
  RELAY_CHANNEL_PORT,
  RELAY_PROXY_PORT,
  RELAY_SERVICE,
  relayTargets,
  SWARM_JOB_NETWORK,
  swarmJobNetworks,
} from "../egress/mod.ts";
import type { ContainerSpec } from "../docker/mod.ts";
import type { SecretFile, SwarmJobs } from "./swarm.ts";

/**
 * Tool approval (`src/tools/`), told which jobs' containers run: it watches their requests
 * folders while they do.
 */
export interface ApprovalWatch {
  /** The container of `job` runs (started, or found again after a restart). */
  watch(job: Job, folders: ApprovalFolders): void;
  /** It ended: calls still waiting are closed. */
  unwatch(jobId: string): void;
}

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
  /** Receives each line of agent output, already prefixed `[pylon id8]`, and the job's id. */
  output(line: string, jobId: string): void;
  clock: { now(): Date };
  /** Effective uid/gid of the daemon (null where unknown). */
  uid: number | null;
  gid: number | null;
  /** What the mount rule protects on this host (`$PYLON_HOME`, the Docker socket in use). */
  hostPaths: HostPathContext;
  /** `docker.max_log`: the most output kept in `jobs/<id>.log` per job. @default {10 MiB} */
  maxLog?: number | undefined;
  /** Tool approval, when the daemon has it. */
  approvals?: ApprovalWatch | undefined;
  /**
   * `docker.mounts`: `none` runs jobs without any bind mount of the daemon's folders, through
   * the agent channel (`no_mounts.ts`). @default {"host"}
   */
  mounts?: "host" | "none" | undefined;
  /** `server.agent_url`: where containers reach the daemon (`mounts: none`). */
  agentUrl?: string | undefined;
  /** The daemon's port, for the default agent URL. @default {8080} */
  daemonPort?: number | undefined;
  /**
   * The address the daemon listens on. On loopback (and without `agentUrl`) containers on a
   * bridge reach it only on its agent listener (`useListenAddress`'s `agentHosts`); without
   * one the model gateway is not on by default. @default {"0.0.0.0"}
   */
  daemonHost?: string | undefined;
  /** How a job's token reaches its container (`mounts: none`). @default {the archive API} */
  tokenDelivery?: TokenDelivery | undefined;
  /** `docker.backend: swarm`: jobs are Swarm services (`swarm.ts`), without host mounts. */
  swarm?: SwarmJobs | undefined;
  /**
   * The egress service (issue 19, `src/egress/`): jobs of pylons with an `agent.egress` list run
   * on its job network behind its proxy. Absent: every job keeps its `agent.network`.
   */
  egress?: EgressService | undefined;
}

/** The longest read of a finished container's kept log (at most twice `docker.max_log`). */
const CATCH_UP_MS = 10_000;

/** How long a stopped job waits for the Engine to kill its container and report the exit. */
const STOP_GRACE_MS = 10_000;

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
  /** Why the last build of each agent type's image failed, for the jobs that cannot run. */
  readonly #imageErrors = new Map<string, string>();
  readonly #home: string;
  /** Swarm or a remote Engine, with the egress proxy: pylon's relay (`src/egress/*_relay.ts`). */
  #relay: EgressRelay | undefined;
  #checkedAt = 0;
  #up = false;
  /** The host addresses a loopback-only daemon also serves its agent routes on (issue 19). */
  #agentHosts: readonly string[] = [];
  #bridgeGateway: string | undefined;

  constructor(deps: DockerRunnerDeps) {
    this.#deps = deps;
    this.#home = homeLabel(deps.jobsDir);
  }

  /**
   * Opens the egress proxy for jobs with an `agent.egress` list (issue 19): an internal job
   * network whose only way out is the proxy on its gateway address. Resolves false, leaving such
   * jobs to fail closed, when the Engine client has no network calls.
   */
  async startEgress(
    o: Omit<EgressServiceOptions, "networks" | "labels" | "clock" | "log" | "relay"> & {
      log: Logger;
      /**
       * `docker.backend: swarm` or a remote Engine: the proxy listens on `listenHost:egressPort`
       * (the daemon's own address) and jobs reach it and `agentUrl` through pylon's relay.
       */
      relay?: { listenHost: string; egressPort: number; agentUrl: string | undefined } | undefined;
    },
  ): Promise<boolean> {
    const { relay, ...rest } = o;
    // Not the home label: pruning removes this home's services and containers of no job.
    const labels = { [LABELS.managed]: "1" };
    const swarmApi = this.#deps.swarm ? this.#deps.docker.swarm : undefined;
    const networks = this.#deps.swarm
      ? swarmApi && swarmJobNetworks(this.#deps.docker)
      : engineJobNetworks(this.#deps.docker);
    if (!networks || (this.#deps.swarm && !relay)) return false;
    if (!relay) {
      this.#deps.egress = await openEgressService({
        ...rest,
        networks,
        labels,
        clock: this.#deps.clock,
      });
      return true;
    }
    const network = o.networkName ?? (swarmApi ? SWARM_JOB_NETWORK : "pylon-egress");
    const targets = relayTargets(relay.agentUrl, relay.egressPort);
    this.#deps.egress = await openEgressService({
      ...rest,
      networkName: network,
      networks,
      labels,
      clock: this.#deps.clock,
      relay: {
        listen: { hostname: relay.listenHost, port: relay.egressPort },
        proxy: { host: RELAY_SERVICE, port: RELAY_PROXY_PORT },
        agentUrl: `http://${RELAY_SERVICE}:${RELAY_CHANNEL_PORT}`,
      },
    });
    const common = { targets, network, labels, log: o.log };
    this.#relay = swarmApi
      ? createSwarmRelay({ swarm: swarmApi, ...common })
      : createEngineRelay({ docker: this.#deps.docker, ...common });
    return true;
  }

  /** Hands running jobs' tool approval requests to `approvals` (the daemon's service). */
  /**
   * The address the daemon really listens on (known once it listens: `--port 0` picks one), for
   * the URL containers reach it at when no `server.agent_url` is set.
   */
  useListenAddress(
    addr: { host: string; port: number; agentHosts?: readonly string[] | undefined },
  ): void {
    this.#deps.daemonHost = addr.host;
    this.#deps.daemonPort = addr.port;
    this.#agentHosts = addr.agentHosts ?? [];
  }

  /**
   * Where this machine's Engine puts the host for job containers: the default bridge's gateway
   * (`host.docker.internal` → host-gateway) and, when the egress proxy runs, the job network's.
   * A daemon on loopback only listens there too, for the agent routes (issue 19); empty when
   * the Engine names no bridge gateway.
   */
  async agentGateways(): Promise<string[]> {
    const info = await this.#deps.docker.networks?.inspect("bridge");
    const bridge = info?.IPAM?.Config?.map((c) => c.Gateway).find((g) =>
      g !== undefined && /^\d{1,3}(\.\d{1,3}){3}$/.test(g)
    );
    this.#bridgeGateway = bridge;
    if (bridge === undefined) return [];
    const egress = this.#deps.egress?.gateway;
    return egress === undefined || egress === bridge ? [bridge] : [bridge, egress];
  }

  useApprovals(approvals: ApprovalWatch): void {
    this.#deps.approvals = approvals;
  }

  /** Releases the Docker connection (daemon shutdown). */
  close(): void {
    void this.#deps.egress?.close();
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
      failures: this.#imageErrors,
    });
    for (const [type, ref] of refs) this.#images.set(type, ref);
  }

  async run(job: Job, pylon: ResolvedPylon, ctx: RunContext): Promise<RunOutcome> {
    // Secrets stay out of what the job records and prints (issue 12, item 18).
    const redactor = redactorFor(pylon);
    try {
      const outcome = await this.#run(job, pylon, ctx, redactor);
      return redactOutcome(await this.#withGatewayUsage(job, pylon, outcome), redactor);
    } catch (e) {
      // What the dispatcher would record for a rejection, redacted like any outcome.
      return redactOutcome({ status: "failed", error: errorText(e) }, redactor);
    }
  }

  async #run(
    job: Job,
    pylon: ResolvedPylon,
    ctx: RunContext,
    redactor: Redactor,
  ): Promise<RunOutcome> {
    // Kill and the deadline hold from here on, not only once the container runs.
    using stop = jobSignal(job, ctx.signal, this.#deps.clock);
    const data = { body: job.payload, headers: job.headers };
    const rendered = renderFields(pylon, data);
    if ("error" in rendered) return { status: "failed", error: rendered.error };
    // A follow-up asks what the person wrote in the thread, not the pylon's prompt.
    if (job.trigger === "follow-up" && job.prompt) rendered.prompt = job.prompt;
    await ctx.update({
      // The agent gets the prompt as rendered; what is stored and shown is redacted.
      prompt: redactor.redact(rendered.prompt),
      // Stored and shown without the credentials a URL may carry.
      repo: rendered.repo === undefined ? null : redactUrl(rendered.repo),
      ref: rendered.ref ?? null,
    });

    // Payloads, prompts, results and tokens sit in the job's folder: the daemon's user's alone.
    await ensureJobDir(join(this.#deps.jobsDir, job.id));
    if (this.#deps.mounts === "none") {
      return await this.#runWithoutMounts(job, pylon, ctx, redactor, rendered, stop.signal);
    }
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
        workspaceSpecOf(pylon.config.workspace, rendered),
        {
          jobDir,
          reposDir: this.#deps.reposDir,
          ...(origin ? { reuse: join(origin, "workspace") } : {}),
        },
        {
          git: this.#deps.git,
          log: ctx.log,
          signal: stop.signal,
          home: this.#deps.env.HOME,
          hostPaths: this.#deps.hostPaths,
        },
      );
      // The agent may have left links where its folders belong (a retry, a follow-up in the
      // same state): they are replaced, never followed (issue 12, item 2).
      await ensureJobDir(jobDir);
      for (const dir of [outDir, stateDir, join(stateDir, "home")]) {
        await ensureAgentDir(dir, { uid: chownTo, log: ctx.log });
      }
      // Leftovers of an earlier attempt must not pass for this run's result.
      await Deno.remove(join(outDir, "result.json")).catch(() => {});
      // A workspace pylon has just made is given to the agent; one an earlier job of the
      // conversation worked in is the agent's already and is not walked again.
      const reused = origin !== undefined && workspace.hostPath === join(origin, "workspace");
      if (chownTo !== undefined && !reused) {
        if (workspace.hostPath && pylon.config.workspace.type !== "local") {
          await chownNewTree(workspace.hostPath, chownTo);
        }
        // A worktree's own metadata folder is mounted read-write inside the repository.
        for (const m of workspace.extraMounts) {
          if (!m.readOnly) await chownNewTree(m.hostPath, chownTo);
        }
      }
    } catch (e) {
      if (stop.signal.aborted) return stoppedOutcome(stop.signal);
      return { status: "failed", error: `workspace: ${errorText(e)}` };
    }
    let image: string;
    let volumes;
    let promptFile: string;
    let mcpConfigFile: string | undefined;
    let approval: ApprovalFolders | undefined;
    try {
      image = await untilAborted(this.#imageFor(pylon, ctx.log), stop.signal);
      promptFile = await writePromptFile(jobDir, rendered.prompt, chownTo);
      mcpConfigFile = await writeMcpConfig(jobDir, pylon, chownTo);
      approval = await writeApprovalFiles(this.#deps.jobsDir, job.id, pylon, {
        uid: chownTo,
        log: ctx.log,
      });
      volumes = await resolveVolumes(pylon.agent.volumes, {
        home: this.#deps.env.HOME,
        hostPaths: this.#deps.hostPaths,
      });
    } catch (e) {
      if (stop.signal.aborted) return stoppedOutcome(stop.signal);
      return { status: "failed", error: errorText(e) };
    }
    const oauth = await oauthFiles(pylon.agent.oauthPath, this.#deps.env.HOME);
    // The model API gateway (issue 19): a job token instead of the key, revoked at the end.
    let gateway;
    let egress;
    try {
      egress = await this.#egressFor(job.id, pylon);
    } catch (e) {
      return { status: "failed", error: errorText(e) };
    }
    if (egress?.agentUrl) {
      // The relay (a remote Engine) serves jobs that talk to the daemon over the channel only.
      return {
        status: "failed",
        error: `agent.egress of ${pylon.name} on a remote Docker Engine needs ` +
          "docker.mounts: none in config.yaml (the job reaches pylon through the egress relay)",
      };
    }
    // The same token lets the agent's git credential helper ask the channel for the push
    // credential (`workspace.push`, issue 19 item 4); it is never put in the workspace.
    let access;
    let gitCredential: string | undefined;
    try {
      gitCredential = pushCredential(
        workspaceSpecOf(pylon.config.workspace, rendered),
        this.#deps.env.HOME,
      );
      access = await this.#gatewayAccess(job, pylon, egress, {
        push: gitCredential !== undefined,
      });
      if (access && gitCredential !== undefined) {
        await writeAtomically(
          channelFiles(this.#deps.jobsDir, job.id).gitCredential,
          gitCredential,
        );
      }
    } catch (e) {
      if (access) await revokeJobToken(this.#deps.jobsDir, job.id).catch(() => {});
      const what = this.#gatewayOn(pylon) ? "model gateway" : "workspace.push";
      return { status: "failed", error: `${what}: ${errorText(e)}` };
    }
    if (access && this.#gatewayOn(pylon)) gateway = access;
    const spec = buildContainerSpec({
      jobId: job.id,
      pylon,
      image,
      prompt: rendered.prompt,
      promptFile,
      mcpConfigFile,
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
      maxLog: this.#deps.maxLog ?? DEFAULT_MAX_LOG_BYTES,
      approval,
      gateway,
      ...(access && gitCredential !== undefined ? { gitCredential: access } : {}),
      egress,
    });
    try {
      return await this.#createAndFollow(job, pylon, spec, ctx, redactor, stop.signal, {
        image,
        outDir,
        approval,
      });
    } finally {
      if (access) await revokeJobToken(this.#deps.jobsDir, job.id).catch(() => {});
    }
  }

  /**
   * The job network, proxy variables and the daemon's address on that network (`gateway`) of a
   * pylon with an `agent.egress` list, else undefined. A `server.agent_url` host joins
   * `NO_PROXY`: the channel and the model gateway are pylon, reached without the proxy.
   */
  async #egressFor(
    jobId: string,
    pylon: ResolvedPylon,
  ): Promise<
    | { networkMode: string; env: Record<string, string>; gateway: string; agentUrl?: string }
    | undefined
  > {
    const list = pylon.agent.settings.egress;
    if (list !== undefined && list !== "any" && !this.#deps.egress) {
      // Fail closed: a pylon that asked for an allowlist never runs with the whole network.
      throw new Error(
        `agent.egress of ${pylon.name} needs pylon's egress proxy, which is not running ` +
          "(a local Docker Engine, or server.agent_url for Swarm and a remote Engine; see the " +
          "daemon log, event=egress.off or egress.unavailable); set `egress: any` to run without it",
      );
    }
    const settings: EgressContainerSettings | null | undefined = await this.#deps.egress
      ?.containerSettings(jobId, {
        agentType: pylon.agent.type,
        egress: pylon.agent.settings.egress,
        egressPrivate: pylon.agent.settings.egressPrivate,
      });
    if (!settings) return undefined;
    const env = { ...settings.env };
    const direct = this.#deps.agentUrl ? URL.parse(this.#deps.agentUrl)?.hostname : undefined;
    if (direct && !env.NO_PROXY?.split(",").includes(direct)) {
      env.NO_PROXY = env.no_proxy = [env.NO_PROXY, direct].filter(Boolean).join(",");
    }
    return {
      networkMode: settings.networkMode,
      env,
      gateway: settings.gateway,
      ...(settings.agentUrl ? { agentUrl: settings.agentUrl } : {}),
    };
  }

  /** The outcome with the tokens and dollars the gateway counted, when it relayed the job's calls. */
  async #withGatewayUsage(
    job: Job,
    pylon: ResolvedPylon | undefined,
    outcome: RunOutcome,
  ): Promise<RunOutcome> {
    if (!pylon || !this.#gatewayOn(pylon)) return outcome;
    const counted = await readCountedUsage(this.#deps.jobsDir, job.id);
    const usage = withCountedUsage(outcome.usage, counted, pylon.agent.auth);
    return usage === outcome.usage || usage === undefined ? outcome : { ...outcome, usage };
  }

  /**
   * Whether a job of `pylon` calls the model through the gateway: `agent.gateway` as written,
   * else the agent type's default where a container can reach the daemon (an `agent_url`, host
   * networking, or a daemon listening beyond loopback).
   */
  #gatewayOn(pylon: ResolvedPylon): boolean {
    return gatewayEnabled(pylon.agent, this.#daemonReachable(pylon));
  }

  #daemonReachable(pylon: ResolvedPylon): boolean {
    const host = this.#deps.daemonHost ?? "0.0.0.0";
    // A pylon with an egress list runs on the job network, not the host's, whatever `network`.
    const egress = pylon.agent.settings.egress;
    const onHost = pylon.agent.network === "host" && (egress === undefined || egress === "any");
    if (this.#deps.agentUrl !== undefined || onHost) return true;
    if (!(host === "localhost" || host === "::1" || host.startsWith("127."))) return true;
    // On loopback: reachable where the daemon also serves the agent routes (agent_listener.ts).
    const listed = egress !== undefined && egress !== "any";
    const at = listed ? this.#deps.egress?.gateway : this.#bridgeGateway;
    return at !== undefined && this.#agentHosts.includes(at);
  }

  /**
   * `docker.mounts: host` with the gateway on: issues the job's token (the same per-job token
   * as the channel's, kept hashed in the daemon's folder) and the URL the container reaches.
   */
  async #gatewayAccess(
    job: Job,
    pylon: ResolvedPylon,
    egress: { gateway: string } | undefined,
    o: { push: boolean } = { push: false },
  ): Promise<
    { agentUrl: string; baseUrl: string; token: string; extraHosts?: string[] } | undefined
  > {
    const gatewayOn = this.#gatewayOn(pylon);
    if (!gatewayOn && !o.push) return undefined;
    if (!this.#daemonReachable(pylon)) {
      throw new PylonError(
        `the daemon listens on ${this.#deps.daemonHost}, which containers on a bridge ` +
          "network cannot reach, so the agent cannot " +
          (gatewayOn ? "call the model through pylon" : "get its push credential (workspace.push)"),
        {
          hint: "set server.agent_url to an address containers reach (e.g. " +
            "http://172.17.0.1:<port> with the daemon listening there), listen on 0.0.0.0, " +
            (gatewayOn ? "or set agent.gateway: false" : "or use agent.network: host"),
        },
      );
    }
    const now = this.#deps.clock.now().getTime();
    const deadline = job.deadlineAt?.getTime();
    const token = await issueJobToken(this.#deps.jobsDir, job.id, {
      // The job's deadline and a margin; a week without one (as in no-mounts mode).
      expiresAt: deadline === undefined ? now + 7 * 24 * 3600_000 : deadline + 10 * 60_000,
      stateJob: job.id,
    });
    const fallback = defaultAgentUrl(
      pylon.agent.network,
      this.#deps.daemonPort ?? 8080,
      egress?.gateway,
    );
    const agentUrl = this.#deps.agentUrl ?? fallback.agentUrl;
    return {
      agentUrl,
      baseUrl: gatewayBaseUrl(agentUrl, job.id),
      token,
      ...(this.#deps.agentUrl === undefined && fallback.extraHosts
        ? { extraHosts: fallback.extraHosts }
        : {}),
    };
  }

  /**
   * `docker.mounts: none`: checks the pylon can run so, writes the job's bundle, issues its
   * token, and runs the container with no bind mount; the token is revoked when the job ends.
   */
  async #runWithoutMounts(
    job: Job,
    pylon: ResolvedPylon,
    ctx: RunContext,
    redactor: Redactor,
    rendered: { prompt: string; repo: string | undefined; ref: string | undefined },
    signal: AbortSignal,
  ): Promise<RunOutcome> {
    const problem = noMountsProblem(pylon);
    if (problem) return { status: "failed", error: problem };
    // A follow-up continues its conversation's agent state, saved with the first job.
    const stateJob = job.trigger === "follow-up" && job.parentId ? job.parentId : job.id;
    const outDir = join(this.#deps.jobsDir, job.id, "out");
    const { user, chownTo } = agentUser(this.#deps.uid, this.#deps.gid);
    const [uid, gid] = user.split(":").map(Number) as [number, number];
    let image: string;
    let token: string;
    // Swarm: the MCP config and OAuth files become Swarm secrets, the CA bundle a Swarm config.
    let secretFiles: SecretFile[] | undefined;
    let ca: string | undefined;
    try {
      image = await untilAborted(this.#imageFor(pylon, ctx.log), signal);
      const oauth = await oauthFiles(pylon.agent.oauthPath, this.#deps.env.HOME);
      const read = (path: string | undefined) =>
        path === undefined ? undefined : Deno.readTextFile(path);
      const oauthText = {
        // With the gateway, the OAuth session stays with the daemon (issue 19).
        credentials: this.#gatewayOn(pylon) ? undefined : await read(oauth.oauthCredentials),
        json: await read(oauth.oauthJson),
      };
      if (this.#deps.swarm) secretFiles = channelSecretFiles(pylon, oauthText);
      ca = await read(this.#deps.caBundle);
      token = await prepareChannelJob({
        jobsDir: this.#deps.jobsDir,
        jobId: job.id,
        stateJob,
        restoreState: stateJob !== job.id || job.attempt > 1,
        pylon,
        prompt: rendered.prompt,
        repo: rendered.repo,
        ref: rendered.ref,
        oauth: oauthText,
        secretFilesApart: secretFiles !== undefined,
        ...(this.#deps.swarm ? {} : { ca }),
        home: this.#deps.env.HOME,
        deadlineMs: job.deadlineAt?.getTime() ?? null,
        now: this.#deps.clock.now().getTime(),
      });
    } catch (e) {
      if (signal.aborted) return stoppedOutcome(signal);
      return { status: "failed", error: errorText(e) };
    }
    const network = pylon.agent.network;
    const port = this.#deps.daemonPort ?? 8080;
    const swarm = this.#deps.swarm;
    let egress;
    try {
      egress = await this.#egressFor(job.id, pylon);
      // Swarm or a remote Engine: the job's only peer on its network is pylon's relay, run
      // from the job's image (on Swarm the reference its nodes pull).
      if (egress && this.#relay) {
        await this.#relay.ensure(swarm ? await swarm.publish(image, signal) : image, signal);
      }
    } catch (e) {
      await revokeJobToken(this.#deps.jobsDir, job.id).catch(() => {});
      if (signal.aborted) return stoppedOutcome(signal);
      return { status: "failed", error: `egress: ${errorText(e)}` };
    }
    // Swarm has no host-gateway alias: its default is the daemon's host on Docker's bridge.
    // On the egress job network the daemon is that network's gateway address (issue 19), and
    // on Swarm the relay's name.
    const agentUrl = egress?.agentUrl ?? this.#deps.agentUrl ??
      (network === "host" && !egress
        ? `http://127.0.0.1:${port}`
        : swarm
        ? `http://172.17.0.1:${port}`
        : `http://host.docker.internal:${port}`);
    const spec = buildContainerSpec({
      jobId: job.id,
      pylon,
      image,
      prompt: rendered.prompt,
      sessionId: job.sessionId,
      workspace: null,
      workspaceReadOnly: false,
      extraMounts: [],
      outDir,
      stateDir: outDir,
      volumes: [],
      user,
      home: this.#home,
      pidsLimit: this.#deps.pidsLimit,
      maxLog: this.#deps.maxLog ?? DEFAULT_MAX_LOG_BYTES,
      ...(this.#gatewayOn(pylon)
        ? { gateway: { baseUrl: gatewayBaseUrl(agentUrl, job.id), token } }
        : {}),
      egress,
      channel: {
        agentUrl,
        ...(this.#deps.agentUrl === undefined && (network !== "host" || egress) && !swarm
          ? { extraHosts: [`host.docker.internal:${egress?.gateway ?? "host-gateway"}`] }
          : {}),
      },
    });
    // Like the host-mounts mode gives every image (a bundle file here, a Swarm config there).
    if (ca !== undefined && !spec.Env?.some((e) => e.startsWith("NODE_EXTRA_CA_CERTS="))) {
      spec.Env = [...(spec.Env ?? []), `NODE_EXTRA_CA_CERTS=${CONTAINER_PATHS.ca}`];
    }
    // agent.approve_tools: the hook, its config (naming the channel) and the managed settings,
    // as root's read-only files in the container; requests cross the channel.
    let approval: ApprovalFolders | undefined;
    let approvalFiles: ChannelApprovalFile[] = [];
    try {
      // No container writes the requests folder here (the channel does): it stays the daemon's.
      approval = await writeApprovalFiles(this.#deps.jobsDir, job.id, pylon, {
        log: ctx.log,
        channel: { url: agentUrl, job: job.id },
      });
      if (approval) approvalFiles = await channelApprovalFiles(approval);
    } catch (e) {
      await revokeJobToken(this.#deps.jobsDir, job.id).catch(() => {});
      return { status: "failed", error: errorText(e) };
    }
    if (swarm) {
      if (approval) this.#deps.approvals?.watch(job, approval);
      try {
        return await swarm.run({
          job,
          pylon,
          container: spec,
          image,
          token,
          tokenPath: NO_MOUNT_PATHS.token,
          files: secretFiles,
          ca,
          rootFiles: approvalFiles,
          uid: chownTo ?? uid,
          gid: chownTo ?? gid,
          outDir,
          ctx,
          redactor,
          signal,
        });
      } finally {
        this.#deps.approvals?.unwatch(job.id);
        await revokeJobToken(this.#deps.jobsDir, job.id).catch(() => {});
      }
    }
    const delivery = this.#deps.tokenDelivery ?? archiveTokenDelivery(this.#deps.docker);
    try {
      return await this.#createAndFollow(job, pylon, spec, ctx, redactor, signal, {
        image,
        outDir,
        approval,
        beforeStart: async (id) => {
          await delivery.deliver(id, token, { uid: chownTo ?? uid, gid: chownTo ?? gid, signal });
          if (approvalFiles.length > 0) {
            await deliverApprovalFiles(this.#deps.docker, id, approvalFiles, { signal });
          }
        },
      });
    } finally {
      await revokeJobToken(this.#deps.jobsDir, job.id).catch(() => {});
    }
  }

  /** Creates and starts the job's container, then follows it to its end. */
  async #createAndFollow(
    job: Job,
    pylon: ResolvedPylon,
    spec: ContainerSpec,
    ctx: RunContext,
    redactor: Redactor,
    signal: AbortSignal,
    o: {
      image: string;
      outDir: string;
      approval: ApprovalFolders | undefined;
      beforeStart?: ((containerId: string) => Promise<void>) | undefined;
    },
  ): Promise<RunOutcome> {
    const { image, outDir, approval } = o;
    const docker = this.#deps.docker;
    const name = containerName(pylon.name, job.id);
    let id: string;
    try {
      await docker.removeContainer(name, { force: true, signal });
      id = await docker.createContainer(spec, { name, signal });
    } catch (e) {
      if (!signal.aborted) return { status: "failed", error: errorText(e) };
      // The Engine may still create it: remove it in the background (a hung Engine must not
      // hold the job's end; the call gives up at the client's timeout).
      this.#removeLater(name, ctx.log);
      return stoppedOutcome(signal);
    }
    await ctx.update({ containerId: id });
    let wait;
    try {
      // Not aborted by the signal once armed: #follow owns the running container's end.
      wait = await untilAborted(docker.armWait(id, { condition: "next-exit" }), signal);
      await o.beforeStart?.(id);
      await docker.startContainer(id, { signal });
    } catch (e) {
      if (signal.aborted) {
        // The Engine answers (it created the container) and may start it after the abort: a
        // job reported killed has no running container, so remove it now, bounded.
        const removed = docker.removeContainer(id, {
          force: true,
          signal: AbortSignal.timeout(STOP_GRACE_MS),
        }).catch(() => this.#removeLater(id, ctx.log));
        await settleWithin(removed, STOP_GRACE_MS);
        return stoppedOutcome(signal);
      }
      await docker.removeContainer(id, { force: true }).catch(() => {});
      return { status: "failed", error: errorText(e) };
    }
    ctx.log.info("container.started", { container: id.slice(0, 12), image });
    await ctx.started?.();
    if (approval) this.#deps.approvals?.watch(job, approval);
    return await this.#follow(job, id, wait.exitCode, outDir, ctx, new Date(), false, redactor);
  }

  async reattach(
    job: Job,
    pylon: ResolvedPylon | undefined,
    ctx: RunContext,
  ): Promise<RunOutcome> {
    const redactor = redactorFor(pylon);
    const docker = this.#deps.docker;
    if (this.#deps.swarm) {
      const outDir = join(this.#deps.jobsDir, job.id, "out");
      using stop = jobSignal(job, ctx.signal, this.#deps.clock);
      // Calls that waited while no daemon ran are found again (the service reads the folders).
      const folders = approvalFolders(this.#deps.jobsDir, job.id);
      if (this.#deps.approvals && await Deno.stat(folders.dir).then(() => true, () => false)) {
        this.#deps.approvals.watch(job, folders);
      }
      const outcome = await this.#deps.swarm.reattach(job, outDir, ctx, stop.signal, redactor)
        .finally(() => this.#deps.approvals?.unwatch(job.id)) ??
        await readResultFile(outDir, { signal: resultSignal(ctx.signal) }) ??
        { status: "failed", error: "the job's Swarm service vanished while the daemon was down" };
      await revokeJobToken(this.#deps.jobsDir, job.id).catch(() => {});
      return redactOutcome(outcome, redactor);
    }
    const [found] = await docker.listContainers({ all: true, labels: { [LABELS.job]: job.id } });
    const outDir = join(this.#deps.jobsDir, job.id, "out");
    if (!found) {
      const fromFile = await readResultFile(outDir, { signal: resultSignal(ctx.signal) });
      return redactOutcome(
        fromFile ??
          { status: "failed", error: "the agent's container vanished while the daemon was down" },
        redactor,
      );
    }
    ctx.log.info("container.reattached", { container: found.Id.slice(0, 12), state: found.State });
    const wait = found.State === "running"
      ? (await docker.armWait(found.Id, { condition: "not-running" })).exitCode
      : docker.inspectContainer(found.Id).then((i) => i?.State.ExitCode ?? 1);
    // Its output since the last daemon went down is copied on from where the log left off.
    const since = this.#deps.clock.now();
    // Calls that waited while no daemon ran are found again (the service reads the folders).
    if (found.State === "running" && this.#deps.approvals) {
      const folders = approvalFolders(this.#deps.jobsDir, job.id);
      const exists = await Deno.stat(folders.dir).then(() => true, () => false);
      if (exists) this.#deps.approvals.watch(job, folders);
    }
    const outcome = await this.#withGatewayUsage(
      job,
      pylon,
      await this.#follow(job, found.Id, wait, outDir, ctx, since, true, redactor),
    );
    // The channel (and the gateway's or git helper's token) stayed open across the restart;
    // the job has ended (a job that had no token: nothing to remove).
    await revokeJobToken(this.#deps.jobsDir, job.id).catch(() => {});
    return redactOutcome(outcome, redactor);
  }

  /** Deletes finished jobs' folders and logs (retention), unregistering git worktrees. */
  async removeJobFiles(jobIds: readonly string[], log: Logger): Promise<void> {
    for (const id of jobIds) {
      const jobDir = join(this.#deps.jobsDir, id);
      await removeWorkspace(jobDir, { git: this.#deps.git, log }).catch((e) =>
        log.warn("workspace.remove_failed", { job: shortId(id), error: errorText(e) })
      );
      for (const path of [jobDir, `${jobDir}.log`]) {
        await removeTree(path).catch((e) =>
          log.warn("job_files.remove_failed", { job: shortId(id), error: errorText(e) })
        );
      }
    }
  }

  /** Removes containers and job folders that belong to no known job. */
  async pruneOrphans(
    isKnown: (jobId: string) => Promise<boolean>,
    log: Logger,
    o: { isFinished?: ((jobId: string) => Promise<boolean>) | undefined } = {},
  ): Promise<void> {
    const docker = this.#deps.docker;
    await this.#deps.swarm?.prune(isKnown, log, o);
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
        await removeTree(join(this.#deps.jobsDir, entry.name));
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
    resume = false,
    redactor: Redactor = NO_REDACTION,
  ): Promise<RunOutcome> {
    const docker = this.#deps.docker;
    const stopLogs = new AbortController();
    const copy = new JobLog({
      docker,
      containerId: id,
      logPath: join(this.#deps.jobsDir, `${job.id}.log`),
      attempt: job.attempt,
      startedAt: since,
      resume,
      maxBytes: this.#deps.maxLog ?? DEFAULT_MAX_LOG_BYTES,
      output: (line) => this.#deps.output(line, job.id),
      prefix: `[${job.pylon} ${shortId(job.id)}] `,
      redactor,
      log: ctx.log,
    });
    const logging = copy.follow(stopLogs.signal);
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
    this.#deps.approvals?.unwatch(job.id);
    if (ended.kind !== "exited") {
      // Bounded: a hung Engine must not hold a stopped job (issue 12, item 11).
      const signal = AbortSignal.timeout(STOP_GRACE_MS);
      const killed = docker.killContainer(id, "SIGKILL", { signal }).catch(() => {});
      await settleWithin(killed.then(() => exitCode), STOP_GRACE_MS);
    }
    await settleWithin(logging, 2000);
    stopLogs.abort();
    // An aborted log read has been seen to hang; the job's outcome never waits on it.
    await settleWithin(logging, 1000);
    // Docker's live follow can drop the end of the output (json-file with max-size): one more
    // read of the kept log completes the file and the tail.
    await settleWithin(copy.catchUp(AbortSignal.timeout(CATCH_UP_MS)), CATCH_UP_MS);
    // The container (its exit code and output) stays until the outcome is recorded: a full disk
    // or a daemon that dies first leaves it for a retry or the next daemon (issue 12, item 9).
    const cleanup = async () => {
      // Space came back (a full disk): what the file missed is copied before it is gone.
      if (copy.behind) {
        await settleWithin(copy.catchUp(AbortSignal.timeout(CATCH_UP_MS)), CATCH_UP_MS);
      }
      await docker.removeContainer(id, { force: true, signal: AbortSignal.timeout(STOP_GRACE_MS) })
        .catch((e) =>
          ctx.log.warn("container.remove_failed", {
            container: id.slice(0, 12),
            error: errorText(e),
          })
        );
    };
    if (ended.kind === "timed_out") {
      const limit = job.deadlineAt && job.startedAt
        ? Math.round((job.deadlineAt.getTime() - job.startedAt.getTime()) / 1000)
        : undefined;
      return {
        status: "timed_out",
        exitCode: 137,
        error: `the agent ran past its timeout${limit ? ` (${limit}s)` : ""} and was killed`,
        cleanup,
      };
    }
    if (ended.kind === "killed") {
      const reason = ctx.signal.reason;
      return {
        status: "killed",
        exitCode: 137,
        error: reason instanceof Error ? reason.message : "killed by request",
        cleanup,
      };
    }
    // The agent owns the folder; the read is bounded and never blocks, and the job's kill
    // switch still holds while it runs.
    const fromFile = await readResultFile(outDir, { signal: resultSignal(ctx.signal) });
    const outcome = outcomeOf(ended.code, fromFile, copy.tail);
    // Inspected before the cleanup removes the container: only the Engine knows of an OOM kill.
    return { ...await withOutOfMemory(docker, id, ended.code, outcome), cleanup };
  }

  /** Force-removes a container without waiting (a job that was stopped before it ran). */
  #removeLater(container: string, log: Logger): void {
    this.#deps.docker.removeContainer(container, { force: true }).catch((e) =>
      log.warn("container.remove_failed", { container, error: errorText(e) })
    );
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
      const why = this.#imageErrors.get(type);
      throw new PylonError(
        `No image for the ${type} agent of pylon "${pylon.name}"` +
          (why ? `: building it failed: ${why.slice(0, 500)}` : ""),
        {
          hint: "see the daemon log (event=image.failed), fix the cause, " +
            "then run `pylon rebuild-images`",
        },
      );
    }
    return ref;
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

/** How long reading result.json may take: a regular file of 1 MiB at most reads in far less. */
const RESULT_READ_MS = 10_000;

/** The signal result.json is read under: the job's kill switch, and a bound of its own. */
function resultSignal(kill: AbortSignal): AbortSignal {
  return AbortSignal.any([kill, AbortSignal.timeout(RESULT_READ_MS)]);
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
export function homeLabel(jobsDir: string): string {
  let h = 0x811c9dc5;
  for (const c of new TextEncoder().encode(jobsDir)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
