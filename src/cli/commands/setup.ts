/**
 * `pylon setup`: writes the machine-level defaults (channel, agent, server) into `config.yaml`
 * and the secrets they need into the global `.env`, by asking on a terminal or from flags and
 * environment variables in scripts.
 *
 * Re-running is safe: `config.yaml` is edited value by value (comments and hand-made changes
 * stay), the config holds only `${VAR}` references, and the result is validated with the same
 * loader the daemon uses before anything is replaced.
 *
 * @module
 */

import { ConfigError, PylonError, UsageError } from "../../errors.ts";
import {
  builtinImage,
  closest,
  displayPath,
  loadGlobalConfig,
  parseDotEnv,
  providerKeyVar,
} from "../../config/mod.ts";
import { slackAppManifestYaml } from "../../channel/slack/mod.ts";
import { createDockerClient } from "../../docker/mod.ts";
import type { Command, CommandContext } from "../command.ts";
import { askValid, choose } from "../shared.ts";
import {
  type ConfigChange,
  readTextOrEmpty,
  stageAndCommit,
  updateConfigYaml,
  updateDotEnv,
} from "../setup_write.ts";

const CHANNELS = ["stdout", "webhook", "telegram", "slack"] as const;
const AGENTS = ["claude", "opencode", "custom"] as const;
const PROVIDERS = ["anthropic", "openai", "google"] as const;
type Channel = (typeof CHANNELS)[number];
type Agent = (typeof AGENTS)[number];
type Auth = "oauth" | "api_key" | "none";

/** Everything setup decided, before it is written. */
interface SetupAnswers {
  channel: Channel;
  agent: Agent;
  auth: Auth;
  provider?: string | undefined;
  webhookUrl?: string | undefined;
  chatId?: number | undefined;
  slackChannelId?: string | undefined;
  publicUrl?: string | undefined;
  port?: number | undefined;
  /** Secrets for the global `.env`, by variable name. */
  secrets: Record<string, string>;
}

const SETUP_FLAGS = ["channel", "agent", "auth", "provider", "webhook-url", "public-url", "port"];

export const setupCommand: Command = {
  name: "setup",
  summary: "Configure the default channel, agent and server (config.yaml and .env)",
  usage: "setup [--channel stdout|webhook|telegram|slack] [--agent claude|opencode|custom] " +
    "[--auth oauth|api_key|none] [--provider P] [--webhook-url URL] [--public-url URL] " +
    "[--port N] [--yes]",
  description: `On a terminal without flags, asks questions. With flags (for scripts), secrets
come from the environment: TELEGRAM_BOT_TOKEN (TELEGRAM_CHAT_ID optional), SLACK_BOT_TOKEN,
SLACK_APP_TOKEN, SLACK_CHANNEL_ID, and ANTHROPIC_API_KEY / OPENAI_API_KEY / GOOGLE_API_KEY for
--auth api_key. A custom agent is your own image: each pylon names it in agent.image (no
--auth). Flags are checked before anything else. Secrets go to $PYLON_HOME/.env (mode 0600); config.yaml gets \${VAR}
references. Running it again keeps comments and other edits in config.yaml.`,
  options: {
    channel: { type: "string", description: "Default channel", valueName: "TYPE" },
    agent: { type: "string", description: "Default agent", valueName: "TYPE" },
    auth: { type: "string", description: "How the agent authenticates", valueName: "MODE" },
    provider: {
      type: "string",
      description: "OpenCode model provider (anthropic, openai, google)",
      valueName: "P",
    },
    "webhook-url": { type: "string", description: "URL of a webhook channel", valueName: "URL" },
    "public-url": {
      type: "string",
      description: "Base URL where services reach pylon",
      valueName: "URL",
    },
    port: { type: "string", description: "Port the daemon listens on", valueName: "N" },
    yes: { type: "boolean", description: "Ask nothing; take defaults for what flags leave out" },
  },
  positionals: { min: 0, max: 0 },
  async run(args, ctx) {
    const values = args.values;
    const scripted = values.yes === true || SETUP_FLAGS.some((k) => values[k] !== undefined);
    if (!scripted && !ctx.io.isTty) {
      throw new UsageError("`pylon setup` without flags needs an interactive terminal", {
        hint: "for scripts: pylon setup --channel stdout|webhook|telegram|slack " +
          "--agent claude|opencode|custom --auth oauth|api_key|none (secrets from the environment)",
      });
    }
    const envFile = parseDotEnv(await readTextOrEmpty(ctx.paths.globalEnv)).vars;
    const lookup = (name: string) => ctx.env[name] || envFile[name] || undefined;
    // Flags are checked first: a typo is reported before setup reaches for Docker.
    const flagged = scripted ? fromFlags(values, lookup) : undefined;
    if (!scripted) ctx.io.out("\nPylon setup (press Enter to take the [default]).\n\n");
    await checkDocker(ctx);
    const answers = flagged ?? await wizard(ctx, lookup);
    const written = await writeSetup(answers, ctx);
    if (!scripted) await offerCompletion(ctx);
    report(answers, written, ctx);
    return 0;
  },
};

/** Reports whether the Docker Engine answers; never fails setup. */
async function checkDocker(ctx: CommandContext): Promise<void> {
  try {
    await createDockerClient({ env: ctx.env }).ping({ signal: AbortSignal.timeout(5000) });
    ctx.io.out("Docker .............. ok, the Engine answers\n");
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    ctx.io.out(`Docker .............. NOT REACHABLE (${why})\n`);
    ctx.io.out(
      "  pylon runs agents in Docker: install it from https://docs.docker.com/engine/" +
        "install/ and start it (`sudo systemctl start docker`); setup continues without it.\n",
    );
  }
}

function oneOf<T extends string>(flag: string, value: unknown, allowed: readonly T[]): T {
  if ((allowed as readonly unknown[]).includes(value)) return value as T;
  const near = typeof value === "string" ? closest(value, allowed) : undefined;
  throw new UsageError(
    `Invalid --${flag} "${String(value)}"${near ? `; did you mean "${near}"?` : ""}`,
    { hint: `use one of: ${allowed.join(", ")}` },
  );
}

function required(name: string, lookup: (n: string) => string | undefined, why: string): string {
  const value = lookup(name);
  if (value) return value;
  throw new UsageError(`Missing ${name}: ${why}`, {
    hint: `export ${name}=… (or put it in the global .env), then run \`pylon setup\` again`,
  });
}

function httpUrlOrThrow(flag: string, value: string): string {
  if (/^https?:\/\/[^\s/]+/.test(value)) return value.replace(/\/+$/, "");
  throw new UsageError(`Invalid --${flag} "${value}": it must be an http:// or https:// URL`);
}

function portOrThrow(value: string): number {
  const n = Number(value);
  if (/^\d+$/.test(value) && n >= 1 && n <= 65535) return n;
  throw new UsageError(`Invalid --port "${value}": it must be a number from 1 to 65535`);
}

function authFor(agent: Agent, value: unknown): Auth {
  if (agent === "custom") {
    if (value === undefined || value === "none") return "none";
    throw new UsageError(`Invalid --auth "${String(value)}": it does not apply to --agent custom`, {
      hint: "leave --auth out; a custom agent's image gets its credentials from agent.env",
    });
  }
  const allowed: readonly Auth[] = agent === "claude" ? ["oauth", "api_key"] : ["none", "api_key"];
  return oneOf("auth", value === "api-key" ? "api_key" : value, allowed);
}

/** Builds the answers from flags and the environment. @throws {UsageError} */
function fromFlags(
  v: Record<string, unknown>,
  lookup: (n: string) => string | undefined,
): SetupAnswers {
  const channel = oneOf("channel", v.channel ?? "stdout", CHANNELS);
  const agent = oneOf("agent", v.agent ?? "claude", AGENTS);
  const auth = authFor(agent, v.auth ?? (agent === "claude" ? "oauth" : "none"));
  const a: SetupAnswers = { channel, agent, auth, secrets: {} };
  if (v.provider !== undefined) {
    if (agent !== "opencode") throw new UsageError("--provider only applies to --agent opencode");
    a.provider = oneOf("provider", v.provider, PROVIDERS);
  }
  const secret = (name: string, why: string) => (a.secrets[name] = required(name, lookup, why));
  if (channel === "telegram") {
    secret("TELEGRAM_BOT_TOKEN", "a telegram channel needs the bot token from @BotFather");
    const chat = lookup("TELEGRAM_CHAT_ID");
    if (chat !== undefined) {
      if (!/^-?\d+$/.test(chat)) throw new UsageError(`Invalid TELEGRAM_CHAT_ID "${chat}"`);
      a.chatId = Number(chat);
    }
  } else if (channel === "slack") {
    secret("SLACK_BOT_TOKEN", "a slack channel needs the bot token (xoxb-…)");
    secret("SLACK_APP_TOKEN", "a slack channel needs the app-level token (xapp-…)");
    a.slackChannelId = required("SLACK_CHANNEL_ID", lookup, "a slack channel needs a channel id");
  } else if (channel === "webhook") {
    const url = v["webhook-url"];
    if (typeof url !== "string") throw new UsageError("--channel webhook needs --webhook-url");
    a.webhookUrl = httpUrlOrThrow("webhook-url", url);
  }
  if (auth === "api_key") {
    const name = providerKeyVar(agent === "claude" ? "anthropic" : a.provider);
    secret(name, `--auth api_key needs the model provider's API key`);
  }
  if (typeof v["public-url"] === "string") {
    a.publicUrl = httpUrlOrThrow("public-url", v["public-url"]);
  }
  if (typeof v.port === "string") a.port = portOrThrow(v.port);
  return a;
}

/**
 * A secret from the environment, else asked for: read without echo on a terminal
 * (`io.readSecret`), and never printed back.
 */
async function secretAnswer(
  ctx: CommandContext,
  name: string,
  lookup: (n: string) => string | undefined,
  question: string,
): Promise<string> {
  const known = lookup(name);
  if (known) {
    ctx.io.out(`  Using ${name} from the environment\n`);
    return known;
  }
  const io = ctx.io;
  for (;;) {
    const line = io.readSecret
      ? await io.readSecret(`${question} (not shown while you type): `)
      : (io.out(`${question}: `), await io.readLine());
    if (line === null) throw new PylonError("Input ended before the question was answered");
    if (line.trim() !== "") return line.trim();
    io.out("  required\n");
  }
}

const URL_PROBLEM = (v: string) =>
  /^https?:\/\/[^\s/]+/.test(v) ? undefined : "write an http:// or https:// URL";

async function wizard(
  ctx: CommandContext,
  lookup: (n: string) => string | undefined,
): Promise<SetupAnswers> {
  const io = ctx.io;
  const channel = await choose(io, "Default channel", CHANNELS, "stdout");
  const a: SetupAnswers = { channel, agent: "claude", auth: "oauth", secrets: {} };
  if (channel === "telegram") {
    io.out("  Create a bot with @BotFather (/newbot) and copy its token.\n");
    a.secrets.TELEGRAM_BOT_TOKEN = await secretAnswer(
      ctx,
      "TELEGRAM_BOT_TOKEN",
      lookup,
      "Bot token",
    );
    const chat = await askValid(
      ctx.io,
      "Chat id (empty: detect it from the first message the bot gets)",
      lookup("TELEGRAM_CHAT_ID") ?? "",
      (v) => (v === "" || /^-?\d+$/.test(v) ? undefined : "a number like -1001234567890"),
    );
    if (chat !== "") a.chatId = Number(chat);
  } else if (channel === "slack") {
    io.out("  Create an app at https://api.slack.com/apps from this manifest:\n\n");
    io.out(slackAppManifestYaml().replace(/^/gm, "    ") + "\n");
    io.out("  Install it to your workspace, then copy the bot token (xoxb-…) and an\n");
    io.out("  app-level token with connections:write (xapp-…).\n");
    a.secrets.SLACK_BOT_TOKEN = await secretAnswer(ctx, "SLACK_BOT_TOKEN", lookup, "Bot token");
    a.secrets.SLACK_APP_TOKEN = await secretAnswer(ctx, "SLACK_APP_TOKEN", lookup, "App token");
    a.slackChannelId = await askValid(
      ctx.io,
      "Channel id (e.g. C0123456789)",
      lookup("SLACK_CHANNEL_ID") ?? "",
      (v) => (v ? undefined : "required"),
    );
  } else if (channel === "webhook") {
    a.webhookUrl = (await askValid(ctx.io, "Webhook URL", "", URL_PROBLEM)).replace(/\/+$/, "");
  }
  a.agent = await choose(io, "Default agent", AGENTS, "claude");
  if (a.agent === "custom") {
    io.out(
      "  Each pylon names its image in agent.image (and optionally agent.command);\n" +
        "  the container contract is in the README (Bring your own image).\n",
    );
  }
  a.auth = a.agent === "claude"
    ? await choose(io, "Claude auth (oauth uses ~/.claude)", ["oauth", "api_key"] as const, "oauth")
    : a.agent === "opencode"
    ? await choose(io, "OpenCode auth (none uses Zen)", ["none", "api_key"] as const, "none")
    : "none";
  if (a.auth === "api_key") {
    if (a.agent === "opencode") a.provider = await choose(io, "Provider", PROVIDERS, "anthropic");
    const name = providerKeyVar(a.agent === "claude" ? "anthropic" : a.provider);
    a.secrets[name] = await secretAnswer(ctx, name, lookup, "API key");
  }
  const url = await askValid(
    ctx.io,
    "Public URL (empty: local only)",
    "",
    (v) => (v === "" ? undefined : URL_PROBLEM(v)),
  );
  if (url !== "") a.publicUrl = url.replace(/\/+$/, "");
  const port = await askValid(ctx.io, "Port", "8080", (v) => {
    const n = Number(v);
    return /^\d+$/.test(v) && n >= 1 && n <= 65535 ? undefined : "a number from 1 to 65535";
  });
  a.port = Number(port);
  return a;
}

/** The config.yaml values the answers set; everything else in the file is left alone. */
function configChanges(a: SetupAnswers): ConfigChange[] {
  const ch = ["defaults", "channel"];
  const changes: ConfigChange[] = [[["version"], 1], [[...ch, "type"], a.channel]];
  if (a.channel === "telegram") {
    changes.push([[...ch, "telegram", "bot_token"], "${TELEGRAM_BOT_TOKEN}"]);
    if (a.chatId !== undefined) changes.push([[...ch, "telegram", "chat_id"], a.chatId]);
  } else if (a.channel === "slack") {
    changes.push([[...ch, "slack", "bot_token"], "${SLACK_BOT_TOKEN}"]);
    changes.push([[...ch, "slack", "app_token"], "${SLACK_APP_TOKEN}"]);
    changes.push([[...ch, "slack", "channel_id"], a.slackChannelId]);
  } else if (a.channel === "webhook") {
    changes.push([[...ch, "webhook", "url"], a.webhookUrl]);
  }
  const agent = ["defaults", "agent"];
  changes.push([[...agent, "type"], a.agent]);
  // A custom agent has no section under defaults.agent: each pylon sets its image and env.
  if (a.agent !== "custom") changes.push([[...agent, a.agent, "auth"], a.auth]);
  if (a.provider !== undefined) changes.push([[...agent, a.agent, "provider"], a.provider]);
  if (a.publicUrl !== undefined) changes.push([["server", "public_url"], a.publicUrl]);
  if (a.port !== undefined) changes.push([["server", "port"], a.port]);
  return changes;
}

/**
 * Writes config.yaml and (when there are secrets) .env, after validating them together.
 *
 * @throws {ConfigError} when the result would not load; nothing is written then
 */
async function writeSetup(a: SetupAnswers, ctx: CommandContext): Promise<string[]> {
  const { paths } = ctx;
  const home = ctx.env.HOME;
  const configText = updateConfigYaml(
    await readTextOrEmpty(paths.globalConfig),
    configChanges(a),
    displayPath(paths.globalConfig, home),
  );
  const files = [{ path: paths.globalConfig, text: configText, mode: await modeOf(paths) }];
  if (Object.keys(a.secrets).length > 0) {
    const envText = updateDotEnv(await readTextOrEmpty(paths.globalEnv), a.secrets);
    files.push({ path: paths.globalEnv, text: envText, mode: 0o600 });
  }
  await stageAndCommit(paths.root, files, async (staged) => {
    const globalConfig = staged.get(paths.globalConfig)!;
    const globalEnv = staged.get(paths.globalEnv) ?? paths.globalEnv;
    try {
      await loadGlobalConfig({ ...paths, globalConfig, globalEnv }, ctx.env);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const real = (s: string) =>
        s.replaceAll(displayPath(globalConfig, home), displayPath(paths.globalConfig, home))
          .replaceAll(displayPath(globalEnv, home), displayPath(paths.globalEnv, home));
      throw new PylonError(`Setup wrote nothing: ${real(e.message)}`, {
        hint: "fix config.yaml by hand (or move it away), then run `pylon setup` again",
        cause: e,
      });
    }
  });
  return files.map((f) => f.path);
}

async function modeOf(paths: { globalConfig: string }): Promise<number> {
  try {
    return ((await Deno.stat(paths.globalConfig)).mode ?? 0o644) & 0o777;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0o644;
    throw e;
  }
}

/** Offers to load completion from ~/.bashrc or ~/.zshrc; appends the line at most once. */
async function offerCompletion(ctx: CommandContext): Promise<void> {
  const shell = (ctx.env.SHELL ?? "").split("/").pop() ?? "";
  const home = ctx.env.HOME;
  if ((shell !== "bash" && shell !== "zsh") || !home) {
    ctx.io.out("\nTab completion: see `pylon completion --help`.\n");
    return;
  }
  const rc = `${home}/.${shell}rc`;
  const existing = await readTextOrEmpty(rc);
  if (existing.includes("pylon completion")) return;
  const yes = await choose(ctx.io, `\nEnable tab completion in ~/.${shell}rc`, ["yes", "no"], "no");
  if (yes !== "yes") return;
  const sep = existing === "" || existing.endsWith("\n") ? "" : "\n";
  await Deno.writeTextFile(
    rc,
    `${sep}\n# pylon tab completion\neval "$(pylon completion ${shell})"\n`,
    { append: true },
  );
  ctx.io.out(`  Added to ~/.${shell}rc (open a new shell to use it)\n`);
}

function report(a: SetupAnswers, written: string[], ctx: CommandContext): void {
  const home = ctx.env.HOME;
  const io = ctx.io;
  io.out("\nSetup complete.\n");
  for (const path of written) {
    const what = path === ctx.paths.globalEnv
      ? `secrets: ${Object.keys(a.secrets).join(", ")}`
      : `channel ${a.channel}, agent ${a.agent}${a.agent === "custom" ? "" : ` (${a.auth})`}`;
    io.out(`  Wrote ${displayPath(path, home)} (${what})\n`);
  }
  if (a.agent === "custom") {
    io.out("  Each pylon names its own image: set agent.image in its pylon.yaml.\n");
  } else {
    io.out(
      `  The agent image ${builtinImage(a.agent)} is built on first use ` +
        `(or now, with \`pylon rebuild-images ${a.agent}\`).\n`,
    );
  }
  io.out("\nNext steps:\n");
  // A blank pylon needs no secret and no repository: it runs as soon as it is constructed.
  io.out(
    "  pylon construct my-pylon --from blank   # a first pylon (templates: sentry, github-pr,\n" +
      "                                          # cron-audit; see pylon construct --help)\n",
  );
  if (a.agent === "custom") {
    io.out("  pylon edit my-pylon                     # set agent.image\n");
  }
  io.out("  pylon start                             # run the daemon (another terminal)\n");
  io.out("  pylon test my-pylon                     # send it a sample event\n");
  io.out("  pylon doctor                            # check everything\n");
}
