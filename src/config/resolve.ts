/**
 * The effective settings of one pylon: its own file first, then `config.yaml` defaults, then
 * built-in defaults (yaml_pylon.mdx "Config resolution order"). Pure.
 *
 * @module
 */

import {
  type AgentSettings,
  resolveAgentSettings,
  unsupportedAgentSettings,
} from "./agent_settings.ts";
import { type Budget, resolveBudget } from "./budget.ts";
import { parseByteSize, parseDuration } from "./duration.ts";
import type {
  AgentType,
  ChannelType,
  GitHubSettings,
  GlobalConfig,
  PylonConfig,
  SlackSettings,
  TelegramSettings,
  WebhookSettings,
} from "./schema.ts";

/** Built-in agent images are named `pylon/agent-<type>` and built locally, never pulled. */
export function builtinImage(type: "claude" | "opencode"): string {
  return `pylon/agent-${type}`;
}

/** Environment variable holding each provider's API key. */
export function providerKeyVar(provider: string | undefined): string {
  const known: Record<string, string> = {
    anthropic: "ANTHROPIC_API_KEY",
    openai: "OPENAI_API_KEY",
    google: "GOOGLE_API_KEY",
  };
  return known[provider ?? "anthropic"] ?? `${(provider ?? "").toUpperCase()}_API_KEY`;
}

/** Channel settings after resolution. */
export interface ResolvedChannel {
  /** The first of {@linkcode types}: the one a single-channel tool (doctor, setup) looks at. */
  type: ChannelType;
  /** Every channel the pylon reports to, in the order written (`type: [github, telegram]`). */
  types: ChannelType[];
  telegram?: TelegramSettings | undefined;
  slack?: SlackSettings | undefined;
  webhook?: WebhookSettings | undefined;
  github?: GitHubSettings | undefined;
  topic: string | undefined;
  message: string | undefined;
  /** Only webhook triggers wait for approval; cron pylons ignore `approval: true`. */
  approval: boolean;
}

/** Agent settings after resolution. */
export interface ResolvedAgent {
  type: AgentType;
  image: string;
  /** Base image of a built-in agent image (`defaults.agent.<type>.base_image`). */
  baseImage: string | undefined;
  auth: "oauth" | "api_key" | "none";
  /** The API key (already expanded), when the auth method uses one. Never log it. */
  apiKey: string | undefined;
  /** The variable the key is passed as inside the container. */
  apiKeyVar: string;
  provider: string | undefined;
  oauthPath: string | undefined;
  command: string[] | undefined;
  env: Record<string, string>;
  prompt: string;
  timeoutMs: number;
  volumes: string[];
  network: "bridge" | "none" | "host";
  memoryBytes: number | undefined;
  cpus: number | undefined;
  /** At most this many of the pylon's jobs run at once; undefined: only `docker.max_concurrent`. */
  maxConcurrent: number | undefined;
  /** Model, tools, MCP servers…: the pylon's over `defaults.agent.<type>`. */
  settings: AgentSettings;
  /** Keys of {@linkcode settings} this agent type ignores (`construct`/`doctor` say so). */
  unsupported: string[];
}

/** Everything the daemon and the CLI need to know about one pylon. */
export interface ResolvedPylon {
  name: string;
  config: PylonConfig;
  channel: ResolvedChannel;
  agent: ResolvedAgent;
  /** IANA zone cron schedules are evaluated in. */
  timezone: string;
  /** Its spending caps (`budget` over `defaults.budget`); absent: none. */
  budget?: Budget | undefined;
  /** Full URL to register with the sender, for webhook pylons. */
  webhookUrl: string | undefined;
  /**
   * Values replaced with `[redacted]` in everything that leaves the daemon about this pylon's
   * jobs (results, errors, prompts, logs, posts): what the loader collected (`.env` values,
   * expanded `${VAR}`s), the agent's `env` values and API key, and the trigger's and channels'
   * secrets and tokens. Unfiltered: the redactor skips values too short to redact safely.
   */
  secrets: readonly string[];
}

/** What resolution needs besides the two files. */
export interface ResolveContext {
  /** Variables visible to this pylon (its `.env` over the process env and the global `.env`). */
  env: Record<string, string>;
  /** The host's zone, used when neither file names one. */
  systemTimezone: string;
  /** Secret values the loader found ({@linkcode LoadedPylon.secrets}). */
  secrets?: readonly string[] | undefined;
}

/** Resolves a pylon against the global config. */
export function resolvePylon(
  config: PylonConfig,
  global: GlobalConfig,
  ctx: ResolveContext,
): ResolvedPylon {
  const channel = resolveChannel(config, global);
  const agent = resolveAgent(config, global, ctx.env);
  const timezone = config.trigger.timezone ?? global.defaults.timezone ?? ctx.systemTimezone;
  const budget = resolveBudget(config.budget, global.defaults.budget, timezone);
  return {
    name: config.name,
    config,
    channel,
    agent,
    secrets: [...ctx.secrets ?? [], ...configSecrets(config, channel, agent)],
    timezone,
    ...(budget ? { budget } : {}),
    webhookUrl: config.trigger.type === "webhook" && config.trigger.path
      ? webhookUrl(config, global)
      : undefined,
  };
}

/** Secrets written in the config itself: API key, agent env values, trigger and channel secrets. */
function configSecrets(
  config: PylonConfig,
  channel: ResolvedChannel,
  agent: ResolvedAgent,
): string[] {
  const values = [
    agent.apiKey,
    ...Object.values(agent.env),
    config.trigger.secret,
    channel.telegram?.bot_token,
    channel.slack?.bot_token,
    channel.slack?.app_token,
    channel.webhook?.secret,
    channel.github?.token,
    // MCP servers' env and headers carry tokens (`Authorization: Bearer ${SENTRY_TOKEN}`).
    ...Object.values(agent.settings.mcpServers).flatMap((s) => [
      ...Object.values(s.env ?? {}),
      ...Object.values(s.headers ?? {}),
    ]),
  ];
  return values.filter((v): v is string => typeof v === "string" && v !== "");
}

/**
 * `trigger.public_url` → `server.public_url` → `http://<host>:<port>`, plus the path. A wildcard
 * bind address (`0.0.0.0`, `::`) is not one a sender can use: it becomes `localhost`, which works
 * on this machine only ({@linkcode hasPublicUrl} tells callers to say so).
 */
export function webhookUrl(
  config: { trigger: { path?: string | undefined; public_url?: string | undefined } },
  global: GlobalConfig,
): string {
  const { host, port } = global.server;
  const local = host === "0.0.0.0" || host === "::" || host === "" || host === "[::]"
    ? "localhost"
    : host.includes(":") && !host.startsWith("[")
    ? `[${host}]`
    : host;
  const base = config.trigger.public_url ?? global.server.public_url ?? `http://${local}:${port}`;
  return base.replace(/\/+$/, "") + (config.trigger.path ?? "");
}

/** Whether {@linkcode webhookUrl} is a public one (`trigger.public_url` or `server.public_url`). */
export function hasPublicUrl(
  config: { trigger: { public_url?: string | undefined } },
  global: GlobalConfig,
): boolean {
  return Boolean(config.trigger.public_url ?? global.server.public_url);
}

/** A pylon's channel block overrides the connection; topic/message/approval are its own. */
export function resolveChannel(config: PylonConfig, global: GlobalConfig): ResolvedChannel {
  const own = config.channel;
  const defaults = global.defaults.channel;
  const types = channelTypes(own?.type ?? defaults.type);
  return {
    type: types[0]!,
    types,
    telegram: own?.telegram ?? defaults.telegram,
    slack: own?.slack ?? defaults.slack,
    webhook: own?.webhook ?? defaults.webhook,
    github: githubWithRepos(own?.github ?? defaults.github, config.workspace.allowed_repos),
    topic: own?.topic,
    message: own?.message,
    approval: config.trigger.type === "webhook" && (own?.approval ?? false),
  };
}

/**
 * The GitHub channel comments only where the pylon may work: its own `allowed_repos`, else the
 * workspace's.
 */
function githubWithRepos(
  github: GitHubSettings | undefined,
  workspaceRepos: string[] | undefined,
): GitHubSettings | undefined {
  if (!github || github.allowed_repos || !workspaceRepos) return github;
  return { ...github, allowed_repos: workspaceRepos };
}

/** `type` as written (one type, a list, or nothing) as a non-empty list. */
export function channelTypes(type: ChannelType | ChannelType[] | undefined): ChannelType[] {
  if (type === undefined) return ["stdout"];
  return Array.isArray(type) ? [...type] : [type];
}

function resolveAgent(
  config: PylonConfig,
  global: GlobalConfig,
  env: Record<string, string>,
): ResolvedAgent {
  const agent = config.agent;
  const defaults = global.defaults.agent;
  const type = agent.type ?? defaults.type;
  const perType = type === "claude"
    ? defaults.claude
    : type === "opencode"
    ? defaults.opencode
    : undefined;
  // A custom image gets no login unless it asks for one: its cost is what it reports, not a
  // subscription's tokens at API prices.
  const auth = agent.auth ?? perType?.auth ?? (type === "claude" ? "oauth" : "none");
  const provider = type === "claude"
    ? "anthropic"
    : agent.provider ?? (type === "opencode" ? defaults.opencode.provider : undefined);
  const apiKeyVar = providerKeyVar(provider);
  const image = agent.image ?? perType?.image ??
    (type === "custom" ? "" : builtinImage(type));
  const settings = resolveAgentSettings(agent, perType);
  const timeout = agent.timeout ?? global.docker.default_timeout;
  const memory = agent.memory ?? global.docker.memory;
  return {
    type,
    image,
    baseImage: perType?.base_image,
    auth,
    apiKey: auth === "api_key" ? agent.api_key ?? env[apiKeyVar] : undefined,
    apiKeyVar,
    provider,
    oauthPath: type === "claude" && auth === "oauth" ? defaults.claude.oauth_path : undefined,
    command: agent.command,
    env: agent.env,
    prompt: agent.prompt,
    timeoutMs: parseDuration(timeout) ?? 15 * 60_000,
    volumes: agent.volumes,
    network: agent.network ?? "bridge",
    memoryBytes: memory === undefined ? undefined : parseByteSize(memory) ?? undefined,
    cpus: agent.cpus ?? global.docker.cpus,
    maxConcurrent: agent.max_concurrent,
    settings,
    unsupported: unsupportedAgentSettings(type, settings),
  };
}
