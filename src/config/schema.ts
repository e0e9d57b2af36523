/**
 * zod schemas of `config.yaml` and `pylon.yaml`: every documented field with its default.
 * Types are inferred from the schemas so the two never drift.
 *
 * Cross-field rules that need other modules (cron syntax, time zones, templates) live in
 * `validate.ts`; this file only knows shapes.
 *
 * @module
 */

import { z } from "zod";
import { agentSettingsShape } from "./agent_settings.ts";
import { budgetSchema } from "./budget.ts";
import { parseByteSize, parseDuration } from "./duration.ts";

/** Job statuses (ARCHITECTURE.md §3.3). */
export const JOB_STATUSES = [
  "awaiting_approval",
  "queued",
  /** Would start, but its pylon's (or the daemon's) budget window is at its cap. */
  "held",
  "running",
  "completed",
  "failed",
  "timed_out",
  "killed",
  "dismissed",
] as const;

export const CHANNEL_TYPES = ["telegram", "slack", "webhook", "stdout", "github"] as const;
export const AGENT_TYPES = ["claude", "opencode", "custom"] as const;
export const WORKSPACE_TYPES = ["git-clone", "git-worktree", "local", "none"] as const;
export const TRIGGER_TYPES = ["webhook", "cron"] as const;
export const PROVIDERS = ["anthropic", "openai", "google"] as const;
export const SIGNATURE_FORMATS = ["auto", "hex", "sha256", "sha1", "slack", "stripe"] as const;
export const NETWORK_MODES = ["bridge", "none", "host"] as const;

/** `api_key` and `api-key` are both accepted everywhere (the docs use both) and stored as `api_key`. */
const AUTH = z.preprocess(
  (v) => (v === "api-key" ? "api_key" : v),
  z.enum(["oauth", "api_key", "none"]),
);

const duration = z.string().refine((s) => parseDuration(s) !== null, {
  message: "is not a duration; write it like 30s, 10m, 1h30m",
});
const positiveDuration = z.string().refine((s) => (parseDuration(s) ?? 0) > 0, {
  message: "is not a duration longer than 0s; write it like 10s or 1m",
});
const byteSize = z.union([z.string(), z.number()]).refine((v) => parseByteSize(v) !== null, {
  message: "is not a size; write it like 512m, 2g or 1MiB",
});
const httpUrl = z.string().refine((s) => /^https?:\/\/[^\s/]+/.test(s), {
  message: "must be an http:// or https:// URL",
});

const telegramSettings = z.strictObject({
  bot_token: z.string().optional(),
  /** 0 or absent: detect the chat from the first message the bot receives. */
  chat_id: z.union([z.int(), z.string().regex(/^-?\d+$/).transform(Number)]).optional(),
  allowed_users: z.array(z.union([z.int(), z.string().regex(/^\d+$/).transform(Number)]))
    .default([]),
  api_url: httpUrl.default("https://api.telegram.org"),
});

const slackSettings = z.strictObject({
  bot_token: z.string().optional(),
  app_token: z.string().optional(),
  channel_id: z.string().optional(),
  allowed_users: z.array(z.string()).default([]),
  api_url: httpUrl.default("https://slack.com/api"),
});

const webhookSettings = z.strictObject({
  url: httpUrl.optional(),
  secret: z.string().optional(),
  headers: z.record(z.string(), z.string()).default({}),
});

const githubSettings = z.strictObject({
  /** A token that may write issue comments and commit statuses (`${GITHUB_TOKEN}`). */
  token: z.string().optional(),
  /** `https://<host>/api/v3` for GitHub Enterprise Server. */
  api_url: httpUrl.default("https://api.github.com"),
  /**
   * A word (e.g. `@pylon`) that, in a comment on an issue or pull request this pylon answered,
   * asks its agent a follow-up question.
   */
  mention: z.string().min(1).optional(),
  /**
   * GitHub logins allowed to ask follow-ups; empty: the repository's owners, members and
   * collaborators (anyone else could make the agent run on a public repository).
   */
  allowed_users: z.array(z.string().min(1)).default([]),
  /**
   * Repositories the channel may comment on (`owner/name` globs like `acme/*`, or URLs);
   * default: the pylon's `workspace.allowed_repos`, else any the token reaches.
   */
  allowed_repos: z.array(z.string()).min(1, {
    message: "lists no repository; list some (e.g. [acme/*]) or remove it",
  }).optional(),
});

/** One channel type, or several (`[github, telegram]`): each gets every job's updates. */
const channelType = z.union([
  z.enum(CHANNEL_TYPES),
  z.array(z.enum(CHANNEL_TYPES)).min(1, {
    message: "lists no channel; write e.g. [github, telegram]",
  })
    .refine((list) => new Set(list).size === list.length, {
      message: "names a channel twice; list each type once",
    }),
]);

const channelConnections = {
  type: channelType.optional(),
  telegram: telegramSettings.optional(),
  slack: slackSettings.optional(),
  webhook: webhookSettings.optional(),
  github: githubSettings.optional(),
};

/** `defaults.channel` in config.yaml. */
export const defaultChannelSchema = z.strictObject(channelConnections);

/** `channel` in pylon.yaml: a connection override plus what to post. */
export const pylonChannelSchema = z.strictObject({
  ...channelConnections,
  topic: z.string().optional(),
  message: z.string().optional(),
  approval: z.boolean().default(false),
});

const claudeDefaults = z.strictObject({
  image: z.string().optional(),
  /** Base the built-in image is built FROM (default node:22-bookworm-slim). */
  base_image: z.string().optional(),
  auth: AUTH.default("oauth"),
  oauth_path: z.string().default("~/.claude"),
  ...agentSettingsShape,
});

const opencodeDefaults = z.strictObject({
  image: z.string().optional(),
  base_image: z.string().optional(),
  auth: AUTH.default("none"),
  provider: z.enum(PROVIDERS).optional(),
  /**
   * `provider/model`, and the other settings OpenCode honours (agent_settings.ts, SUPPORTED);
   * the rest are Claude Code's only.
   */
  model: agentSettingsShape.model,
  "max_turns": agentSettingsShape.max_turns,
  "max_cost_usd": agentSettingsShape.max_cost_usd,
  "append_system_prompt": agentSettingsShape.append_system_prompt,
  args: agentSettingsShape.args,
  "mcp_servers": agentSettingsShape.mcp_servers,
  "allowed_tools": agentSettingsShape.allowed_tools,
  "disallowed_tools": agentSettingsShape.disallowed_tools,
  "approve_tools": agentSettingsShape.approve_tools,
  "approve_timeout": agentSettingsShape.approve_timeout,
  egress: agentSettingsShape.egress,
  "egress_private": agentSettingsShape.egress_private,
});

/** config.yaml */
export const globalConfigSchema = z.strictObject({
  version: z.literal(1).default(1),
  server: z.strictObject({
    port: z.int().min(1).max(65535).default(8080),
    host: z.string().min(1).default("0.0.0.0"),
    public_url: httpUrl.optional(),
    /**
     * Where agent containers reach the daemon's `/agent/v1` channel (`docker.mounts: none`), when
     * it is another address than users use (e.g. `http://10.0.0.5:8080` across nodes).
     */
    agent_url: httpUrl.optional(),
    /**
     * `docker.backend: swarm` with an `agent.egress` list: the egress proxy's port on the daemon's
     * listen address, where pylon's relay forwards Swarm jobs (README, "Egress"; issue 19).
     */
    egress_port: z.int().min(1).max(65535).default(3128),
    max_body: byteSize.default("1MiB"),
    /** How long a connection may take to send a request head, or sit idle between requests. */
    header_timeout: positiveDuration.default("10s"),
    /** How long a request's body may take to arrive, from its head. */
    body_timeout: positiveDuration.default("30s"),
    /** Most connections open at once; absent: sized from the open-files limit, at most 4096. */
    max_connections: z.int().min(1).optional(),
    /** Serve the web dashboard under `/dashboard` (behind its login); `false` turns it off. */
    dashboard: z.boolean({
      error: "must be true or false (false turns the web dashboard off)",
    }).default(true),
  }).prefault({}),
  defaults: z.strictObject({
    channel: defaultChannelSchema.prefault({ type: "stdout" }),
    agent: z.strictObject({
      type: z.enum(AGENT_TYPES).default("claude"),
      claude: claudeDefaults.prefault({}),
      opencode: opencodeDefaults.prefault({}),
    }).prefault({}),
    timezone: z.string().optional(),
    /** Each pylon's budget unless its pylon.yaml sets the field. */
    budget: budgetSchema.optional(),
  }).prefault({}),
  /** A cap on all pylons together. */
  budget: budgetSchema.optional(),
  docker: z.strictObject({
    max_concurrent: z.int().min(1).default(3),
    max_queue: z.int().min(0).default(100),
    default_timeout: duration.default("15m"),
    /** Memory per agent container (no swap on top); `0`: unlimited. README explains 2g. */
    memory: byteSize.default("2g"),
    cpus: z.number().positive().optional(),
    pids_limit: z.int().min(16).default(1024),
    /** The most output kept in `jobs/<id>.log` per job; Docker's own log rotates at this size. */
    max_log: byteSize.default("10MiB"),
    ca_certificates: z.array(z.string()).default([]),
    /**
     * `host`: a job's folders are bind mounts of the daemon's; `none`: nothing of the daemon's
     * host is mounted, everything crosses the per-job channel (`/agent/v1`, remote engines).
     */
    mounts: z.enum(["host", "none"], {
      error: "must be host or none (none: no bind mount of the daemon's folders)",
    }).optional(),
    /**
     * `engine`: jobs are containers of the Engine at `DOCKER_HOST`; `swarm`: jobs are Swarm
     * services of the manager at `DOCKER_HOST` (implies `mounts: none`; `src/runner/swarm.ts`).
     */
    backend: z.enum(["engine", "swarm"], {
      error: "must be engine or swarm (swarm: jobs run as Docker Swarm services)",
    }).default("engine"),
    /**
     * `docker.backend: swarm`: a registry the nodes pull from (`host:port`, e.g.
     * `127.0.0.1:5000`); pylon tags its built agent images there and pushes them.
     */
    registry: z.string().regex(/^[A-Za-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._/-]+)?$/, {
      error: "must be a registry address such as registry.example.com:5000 (no scheme)",
    }).optional(),
  }).superRefine((d, ctx) => {
    if (d.backend === "swarm" && d.mounts === "host") {
      ctx.addIssue({
        code: "custom",
        path: ["mounts"],
        message: "docker.backend: swarm runs jobs on other machines, which have none of the " +
          "daemon's folders; fix: remove docker.mounts (swarm implies none) or set it to none",
      });
    }
  }).overwrite((d) => ({ ...d, mounts: d.mounts ?? (d.backend === "swarm" ? "none" : "host") }))
    .prefault({}),
  jobs: z.strictObject({
    retain_days: z.int().min(0).default(90),
  }).prefault({}),
});

/**
 * A webhook path as the daemon routes it: trailing slashes dropped, so `path: /x/` serves `/x`
 * and `/x/` alike (the route table looks requests up the same way).
 */
export function normalizeWebhookPath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, "") || "/" : path;
}

const triggerSchema = z.strictObject({
  type: z.enum(TRIGGER_TYPES),
  path: z.string().transform(normalizeWebhookPath).optional(),
  secret: z.string().optional(),
  signature_header: z.string().optional(),
  signature_format: z.enum(SIGNATURE_FORMATS).default("auto"),
  delivery_header: z.string().optional(),
  /** A template over `.body` and `.headers`; the event becomes a job only when it renders true. */
  when: z.string().optional(),
  /** A template giving a key; repeats of one key within the window count on one job. */
  dedupe: z.string().optional(),
  dedupe_window: duration.default("1h"),
  /** A template giving a key; a new job replaces the waiting (queued, unapproved) jobs of its key. */
  supersede: z.string().optional(),
  /** Whether a superseding job also stops the running jobs of its key (not only waiting ones). */
  supersede_running: z.boolean().default(false),
  public_url: httpUrl.optional(),
  cron: z.string().optional(),
  timezone: z.string().optional(),
  catch_up: z.boolean().default(false),
});

const workspaceSchema = z.strictObject({
  type: z.enum(WORKSPACE_TYPES),
  repo: z.string().optional(),
  ref: z.string().optional(),
  path: z.string().optional(),
  /**
   * Repositories a templated `repo` may render to (`owner/name` globs like `acme/*` for GitHub,
   * or URLs); a payload may never pick a local path or `file://`.
   */
  allowed_repos: z.array(z.string()).min(1, {
    message: "lists no repository; list the ones events may pick, e.g. [acme/*]",
  }).optional(),
  /** Give the agent the repository URL's credentials (scoped to that repository) to push. */
  push: z.boolean().default(false),
});

const agentSchema = z.strictObject({
  type: z.enum(AGENT_TYPES).optional(),
  auth: AUTH.optional(),
  api_key: z.string().optional(),
  provider: z.enum(PROVIDERS).optional(),
  image: z.string().optional(),
  command: z.array(z.string()).optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .default({}),
  prompt: z.string().default(""),
  timeout: duration.optional(),
  volumes: z.array(z.string()).default([]),
  network: z.enum(NETWORK_MODES).optional(),
  memory: byteSize.optional(),
  cpus: z.number().positive().optional(),
  /**
   * `docker.backend: swarm`: Swarm placement constraints of the pylon's jobs, e.g.
   * `node.labels.agents == true`, `node.role == worker`.
   */
  placement: z.array(
    z.string().regex(/^\s*[A-Za-z0-9_.-]+(\.[A-Za-z0-9_.-]+)*\s*(==|!=)\s*\S.*$/, {
      error: "must be a Swarm constraint such as `node.labels.agents == true` " +
        "(a node attribute, == or !=, a value)",
    }),
  ).default([]),
  /** At most this many of the pylon's jobs run at once (within `docker.max_concurrent`). */
  max_concurrent: z.number().int().positive().optional(),
  ...agentSettingsShape,
}).superRefine((agent, ctx) => {
  // Written together, they contradict each other: the gateway is the daemon, and `none` leaves
  // the job no network to reach it. Said here rather than turning the gateway off unasked.
  if (agent.gateway === true && agent.network === "none") {
    ctx.addIssue({
      code: "custom",
      path: ["gateway"],
      message: "is true, but agent.network: none leaves the job no way to reach pylon's model " +
        "gateway; fix: remove gateway: true (the agent then gets no key through the gateway), " +
        "or use network: bridge",
    });
  }
});

/** pylon.yaml */
export const pylonConfigSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  disabled: z.boolean().default(false),
  created: z.union([z.string(), z.date().transform((d) => d.toISOString())]).optional(),
  trigger: triggerSchema,
  workspace: workspaceSchema.prefault({ type: "none" }),
  channel: pylonChannelSchema.optional(),
  agent: agentSchema.prefault({}),
  budget: budgetSchema.optional(),
});

export type GlobalConfig = z.output<typeof globalConfigSchema>;
export type PylonConfig = z.output<typeof pylonConfigSchema>;
export type TriggerConfig = PylonConfig["trigger"];
export type WorkspaceConfig = PylonConfig["workspace"];
export type AgentConfig = PylonConfig["agent"];
export type PylonChannelConfig = z.output<typeof pylonChannelSchema>;
export type DefaultChannelConfig = z.output<typeof defaultChannelSchema>;
export type TelegramSettings = z.output<typeof telegramSettings>;
export type SlackSettings = z.output<typeof slackSettings>;
export type WebhookSettings = z.output<typeof webhookSettings>;
export type GitHubSettings = z.output<typeof githubSettings>;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
export type AgentType = (typeof AGENT_TYPES)[number];
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Top-level keys of each file, for the "belongs under" hints. */
export const GLOBAL_TOP_KEYS = Object.keys(globalConfigSchema.shape);
export const PYLON_TOP_KEYS = Object.keys(pylonConfigSchema.shape);

/**
 * Where each key of a file lives (dotted parent paths, `""` for the top level), for hints like
 * "`approval` belongs under `channel`" when a key is written at the wrong level, and "did you
 * mean" for a misspelled one.
 */
export const PYLON_KEY_HOMES: Record<string, string[]> = collectHomes({
  "": pylonConfigSchema,
  trigger: triggerSchema,
  workspace: workspaceSchema,
  channel: pylonChannelSchema,
  "channel.telegram": telegramSettings,
  "channel.slack": slackSettings,
  "channel.webhook": webhookSettings,
  "channel.github": githubSettings,
  agent: agentSchema,
  budget: budgetSchema,
});

export const GLOBAL_KEY_HOMES: Record<string, string[]> = collectHomes({
  "": globalConfigSchema,
  server: globalConfigSchema.shape.server.unwrap(),
  defaults: globalConfigSchema.shape.defaults.unwrap(),
  "defaults.channel": defaultChannelSchema,
  "defaults.channel.telegram": telegramSettings,
  "defaults.channel.slack": slackSettings,
  "defaults.channel.webhook": webhookSettings,
  "defaults.channel.github": githubSettings,
  "defaults.agent": globalConfigSchema.shape.defaults.unwrap().shape.agent.unwrap(),
  "defaults.agent.claude": claudeDefaults,
  "defaults.agent.opencode": opencodeDefaults,
  "defaults.budget": budgetSchema,
  budget: budgetSchema,
  docker: globalConfigSchema.shape.docker.unwrap(),
  jobs: globalConfigSchema.shape.jobs.unwrap(),
});

function collectHomes(
  sections: Record<string, { shape: Record<string, unknown> }>,
): Record<string, string[]> {
  const homes: Record<string, string[]> = {};
  for (const [section, schema] of Object.entries(sections)) {
    for (const key of Object.keys(schema.shape)) (homes[key] ??= []).push(section);
  }
  return homes;
}
