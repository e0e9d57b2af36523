/**
 * The hardened container for one job (ARCHITECTURE.md §3.8): non-root user, all capabilities
 * dropped, no privilege escalation, a pids limit, optional memory/CPU limits and network mode,
 * labels, a readable name, and the mounts of the container contract. Pure, so the env and mount
 * rules are tested without Docker.
 *
 * @module
 */

import type { ResolvedPylon } from "../config/mod.ts";
import type { ContainerSpec, MountSpec } from "../docker/mod.ts";
import { claudeArgs, MCP_CONFIG_PATH, opencodeEnv } from "./agent_args.ts";
import { APPROVAL_PATHS, type ApprovalFolders, managedConfigOf } from "./approval_files.ts";

/** Where the contract puts things inside the container. */
export const CONTAINER_PATHS = {
  workspace: "/workspace",
  out: "/pylon/out",
  state: "/pylon/state",
  home: "/pylon/state/home",
  oauth: "/pylon/oauth",
  oauthCredentials: "/pylon/oauth/.credentials.json",
  oauthJson: "/pylon/oauth.json",
  ca: "/pylon/ca.pem",
  prompt: "/pylon/prompt",
  mcpConfig: MCP_CONFIG_PATH,
} as const;

/**
 * Longest prompt (UTF-8 bytes) also passed in `PROMPT`: Linux limits one environment string,
 * `PROMPT=…` and its terminating NUL, to 128 KiB (`MAX_ARG_STRLEN`); past it the container cannot
 * even start ("argument list too long"). Longer prompts arrive only as `PROMPT_FILE`.
 */
export const PROMPT_ENV_MAX_BYTES = 128 * 1024 - "PROMPT=".length - 1;

/** Labels that mark pylon's containers. */
export const LABELS = {
  job: "pylon.job",
  pylon: "pylon.pylon",
  managed: "pylon.managed",
  /** Which pylon home started it: daemons of other homes on the same Engine leave it alone. */
  home: "pylon.home",
} as const;

/** Host-side inputs of one container. */
export interface ContainerInput {
  jobId: string;
  pylon: ResolvedPylon;
  image: string;
  prompt: string;
  /** Host path of the prompt file, mounted read-only at {@linkcode CONTAINER_PATHS.prompt}. */
  promptFile?: string | undefined;
  /**
   * Host path of the job's MCP config (0600, secrets expanded), mounted read-only at
   * {@linkcode CONTAINER_PATHS.mcpConfig}: its values never travel in the environment.
   */
  mcpConfigFile?: string | undefined;
  sessionId: string | null;
  /** Host folders of the job. */
  workspace: string | null;
  workspaceReadOnly: boolean;
  extraMounts: { hostPath: string; containerPath: string; readOnly: boolean }[];
  outDir: string;
  stateDir: string;
  /**
   * Claude OAuth: the host's `~/.claude/.credentials.json` and `~/.claude.json`, when they exist.
   * Only these files are mounted, never the folder (it holds every project's transcripts).
   */
  oauthCredentials?: string | undefined;
  oauthJson?: string | undefined;
  /** Concatenated `docker.ca_certificates`, when configured. */
  caBundle?: string | undefined;
  /** User volumes already checked and resolved. */
  volumes: MountSpec[];
  /** `uid:gid` the agent runs as. */
  user: string;
  /** Identifies the pylon home (see {@linkcode LABELS.home}). */
  home: string;
  pidsLimit: number;
  /** `docker.max_log`: sizes the rotation of Docker's own log of the container. */
  maxLog?: number | undefined;
  /**
   * Tool approval's folders (`approval_files.ts`), when the pylon has `approve_tools`: the
   * daemon's read-only (with the managed settings over Claude Code's own path), the requests
   * folder read-write.
   */
  approval?: ApprovalFolders | undefined;
  /**
   * `docker.mounts: none` (`no_mounts.ts`): no bind mount at all; the image's init step reaches
   * the daemon at `agentUrl` and runs the entrypoint. The host-path inputs above are ignored.
   */
  channel?: { agentUrl: string; extraHosts?: string[] | undefined } | undefined;
  /**
   * The model API gateway (issue 19, `src/gateway/`): the agent gets the gateway's URL and its
   * job token as `ANTHROPIC_BASE_URL` / `ANTHROPIC_API_KEY`, never the real key; the pylon's own
   * `ANTHROPIC_BASE_URL` (the upstream) and credentials in `agent.env` stay with the daemon.
   */
  gateway?: { baseUrl: string; token: string; extraHosts?: string[] | undefined } | undefined;
  /**
   * `workspace.push` with `docker.mounts: host` (issue 19, item 4): the agent's git credential
   * helper (the workspace's `credential.<url>.helper`) asks the channel at `agentUrl` for the
   * push credential with the job's token, `PYLON_AGENT_URL` / `PYLON_AGENT_TOKEN`; no credential
   * file is mounted.
   */
  gitCredential?:
    | { agentUrl: string; token: string; extraHosts?: string[] | undefined }
    | undefined;
  /**
   * `agent.egress` with a list (issue 19, `src/egress/`): the job runs on the internal job
   * network, whose only exit is pylon's egress proxy, with the proxy variables set (they win
   * over `agent.env`). From `EgressService.containerSettings`.
   */
  egress?: { networkMode: string; env: Record<string, string> } | undefined;
}

/** `agent.env` keys the gateway keeps out of the container: they are the upstream's. */
const GATEWAY_HELD_ENV = ["ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"];

/** Where the init step finds the job's token in a no-mounts container (`no_mounts.ts`). */
export const NO_MOUNT_TOKEN_PATH = "/.pylon-agent/token";
/** The init step, then the image's entrypoint, of a no-mounts container. */
const NO_MOUNT_ENTRYPOINT = [
  "node",
  "/usr/local/lib/pylon/pylon-init.mjs",
  "run",
  "--",
  "/usr/local/bin/pylon-entrypoint",
] as const;

/** Docker keeps at least this much of a container's output (the runner reads it back). */
const MIN_DOCKER_LOG_BYTES = 1024 * 1024;

/** Whether `prompt` fits in the `PROMPT` environment variable. */
export function promptFitsEnv(prompt: string): boolean {
  // UTF-8 is at most 3 bytes per UTF-16 unit: most prompts are decided without encoding.
  if (prompt.length * 3 <= PROMPT_ENV_MAX_BYTES) return true;
  return new TextEncoder().encode(prompt).length <= PROMPT_ENV_MAX_BYTES;
}

/** `pylon-<pylon>-<id8>`: readable in `docker ps`. */
export function containerName(pylon: string, jobId: string): string {
  return `pylon-${pylon}-${jobId.slice(0, 8)}`;
}

/** Builds the create request of a job's container. */
export function buildContainerSpec(input: ContainerInput): ContainerSpec {
  const agent = input.pylon.agent;
  const env: Record<string, string> = {
    ...(promptFitsEnv(input.prompt) ? { PROMPT: input.prompt } : {}),
    ...(input.promptFile ? { PROMPT_FILE: CONTAINER_PATHS.prompt } : {}),
    JOB_ID: input.jobId,
    PYLON_OUT: CONTAINER_PATHS.out,
    PYLON_STATE: CONTAINER_PATHS.state,
    HOME: CONTAINER_PATHS.home,
  };
  if (input.sessionId) env.SESSION_ID = input.sessionId;
  if (agent.auth === "api_key" && agent.apiKey && !input.gateway) {
    env[agent.apiKeyVar] = agent.apiKey;
  }
  if (agent.type === "opencode" && agent.provider) env.OPENCODE_PROVIDER = agent.provider;
  if (agent.type === "opencode" && agent.settings.model) env.OPENCODE_MODEL = agent.settings.model;
  if (agent.type === "opencode") Object.assign(env, opencodeEnv(agent.settings));
  if (agent.type === "claude") {
    const mcp = input.mcpConfigFile ? CONTAINER_PATHS.mcpConfig : undefined;
    const args = claudeArgs(agent.settings, mcp);
    // The entrypoint appends these to the CLI's own (agents/claude/entrypoint.sh).
    if (args.length > 0) env.PYLON_AGENT_ARGS = JSON.stringify(args);
  }
  if (input.caBundle && !input.channel) env.NODE_EXTRA_CA_CERTS = CONTAINER_PATHS.ca;
  if (input.channel) {
    // The init step writes the prompt file from the job's bundle before the agent starts.
    env.PROMPT_FILE = CONTAINER_PATHS.prompt;
    env.PYLON_AGENT_URL = input.channel.agentUrl;
    env.PYLON_TOKEN_FILE = NO_MOUNT_TOKEN_PATH;
  }
  Object.assign(env, agent.env);
  if (input.gateway) {
    for (const key of GATEWAY_HELD_ENV) delete env[key];
    env.ANTHROPIC_BASE_URL = input.gateway.baseUrl;
    env.ANTHROPIC_API_KEY = input.gateway.token;
  }
  if (input.gitCredential && !input.channel) {
    env.PYLON_AGENT_URL = input.gitCredential.agentUrl;
    env.PYLON_AGENT_TOKEN = input.gitCredential.token;
  }
  if (input.egress) Object.assign(env, input.egress.env);

  const bind = (source: string, target: string, readOnly: boolean): MountSpec => ({
    Type: "bind",
    Source: source,
    Target: target,
    ReadOnly: readOnly,
  });
  const mounts: MountSpec[] = [
    bind(input.outDir, CONTAINER_PATHS.out, false),
    bind(input.stateDir, CONTAINER_PATHS.state, false),
  ];
  if (input.promptFile) mounts.push(bind(input.promptFile, CONTAINER_PATHS.prompt, true));
  if (input.mcpConfigFile) {
    mounts.push(bind(input.mcpConfigFile, CONTAINER_PATHS.mcpConfig, true));
  }
  if (input.workspace) {
    mounts.push(bind(input.workspace, CONTAINER_PATHS.workspace, input.workspaceReadOnly));
  }
  for (const m of input.extraMounts) mounts.push(bind(m.hostPath, m.containerPath, m.readOnly));
  if (input.oauthCredentials && !input.gateway) {
    mounts.push(bind(input.oauthCredentials, CONTAINER_PATHS.oauthCredentials, true));
  }
  if (input.oauthJson) mounts.push(bind(input.oauthJson, CONTAINER_PATHS.oauthJson, true));
  if (input.caBundle) mounts.push(bind(input.caBundle, CONTAINER_PATHS.ca, true));
  if (input.approval) {
    mounts.push(
      bind(input.approval.dir, APPROVAL_PATHS.dir, true),
      bind(
        `${input.approval.dir}/${managedConfigOf(agent.type).file}`,
        managedConfigOf(agent.type).target,
        true,
      ),
      bind(input.approval.requests, APPROVAL_PATHS.requests, false),
    );
  }
  mounts.push(...input.volumes);

  const extraHosts = input.channel?.extraHosts ?? input.gateway?.extraHosts ??
    input.gitCredential?.extraHosts;
  return {
    Image: input.image,
    ...(input.channel ? { Entrypoint: [...NO_MOUNT_ENTRYPOINT] } : {}),
    ...(agent.command ? { Cmd: agent.command } : {}),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    User: input.user,
    WorkingDir: CONTAINER_PATHS.workspace,
    Labels: {
      [LABELS.job]: input.jobId,
      [LABELS.pylon]: input.pylon.name,
      [LABELS.managed]: "1",
      [LABELS.home]: input.home,
    },
    HostConfig: {
      Mounts: input.channel ? [] : mounts,
      ...(extraHosts ? { ExtraHosts: extraHosts } : {}),
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      PidsLimit: input.pidsLimit,
      Init: true,
      NetworkMode: input.egress?.networkMode ??
        (agent.network === "bridge" ? "bridge" : agent.network),
      // No swap on top: the limit is what the agent may use, and past it the kernel kills it.
      ...(agent.memoryBytes ? { Memory: agent.memoryBytes, MemorySwap: agent.memoryBytes } : {}),
      ...(agent.cpus ? { NanoCpus: Math.round(agent.cpus * 1e9) } : {}),
      // Docker's own copy of the output, rotated: a looping agent cannot fill the Engine's
      // disk. Two files as large as docker.max_log keep what a re-attach reads back.
      LogConfig: {
        Type: "json-file",
        Config: {
          "max-size": String(Math.max(input.maxLog ?? 0, MIN_DOCKER_LOG_BYTES)),
          "max-file": "2",
        },
      },
    },
  };
}
