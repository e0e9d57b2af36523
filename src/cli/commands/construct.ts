/**
 * `pylon construct <name> [--from TEMPLATE]`: creates `pylons/<name>/pylon.yaml` from a template
 * or by asking questions on a terminal.
 *
 * @module
 */

import { ConfigError, PylonError, UsageError } from "../../errors.ts";
import {
  assertPylonName,
  displayPath,
  ensurePrivateDir,
  formatIssue,
  type GlobalConfig,
  globalConfigSchema,
  hasPublicUrl,
  type LoadedGlobal,
  loadGlobalConfig,
  loadPylon,
  parseDotEnv,
  pathClashOf,
  PRIVATE_FILE_MODE,
  resolvePylon,
  unsupportedSettingsNote,
  webhookUrl,
} from "../../config/mod.ts";
import { isValidTimezone, parseCron, systemTimezone } from "../../cron/mod.ts";
import type { Command, CommandContext } from "../command.ts";
import {
  type ConstructAnswers,
  renderPylonYaml,
  TEMPLATE_NAMES,
  templateAnswers,
  type TemplateFlags,
  type TemplateName,
  type WebhookSignature,
} from "../construct_templates.ts";
import { ask, askValid, choose } from "../shared.ts";
import { connectDaemon, type DaemonConnection } from "../daemon_client.ts";
import { fromCaller } from "../caller.ts";
import { readPidFile } from "../../daemon/pidfile.ts";

export const constructCommand: Command = {
  name: "construct",
  summary: "Create a pylon from a template or with a short wizard",
  usage: "construct <name> [--from sentry|github-pr|cron-audit|blank] [--repo URL] [--ref REF] " +
    "[--path /PATH] [--cron EXPR] [--tz ZONE]",
  description: `Writes $PYLON_HOME/pylons/<name>/pylon.yaml. Names use lowercase letters, digits
and dashes. Without --from, asks questions (needs a terminal).

Templates:
  sentry      webhook  Investigate Sentry error alerts (with approval)
  github-pr   webhook  Review GitHub pull requests
  cron-audit  cron     Weekly codebase security audit
  blank       webhook  Empty starting point`,
  options: {
    from: { type: "string", description: "Template to start from", valueName: "TEMPLATE" },
    repo: {
      type: "string",
      description: "Repository to clone (git-clone workspace)",
      valueName: "URL",
    },
    ref: { type: "string", description: "Branch, tag or commit to check out", valueName: "REF" },
    path: { type: "string", description: "Webhook path (default /<name>)", valueName: "/PATH" },
    cron: { type: "string", description: "Cron schedule (cron-audit)", valueName: "EXPR" },
    tz: {
      type: "string",
      description: "Time zone of the schedule (default: system)",
      valueName: "ZONE",
    },
  },
  positionals: { min: 1, max: 1 },
  async run(args, ctx) {
    const name = args.positionals[0]!;
    assertPylonName(name);
    const file = ctx.paths.pylonConfig(name);
    if (await exists(file)) {
      throw new PylonError(`Pylon "${name}" already exists`, {
        hint: `edit it with \`pylon edit ${name}\`, or remove it with \`pylon destroy ${name}\``,
      });
    }
    const flags = readFlags(args.values, ctx);
    const created = ctx.clock.now().toISOString().replace(/\.\d{3}Z$/, "Z");
    const from = args.values.from as string | undefined;
    let answers: ConstructAnswers;
    if (from !== undefined) {
      if (!(TEMPLATE_NAMES as readonly string[]).includes(from)) {
        throw new UsageError(`Unknown template "${from}"`, {
          hint: `available: ${TEMPLATE_NAMES.join(", ")}`,
        });
      }
      checkFlagsFit(from as TemplateName, args.values);
      answers = templateAnswers(from as TemplateName, name, created, flags);
    } else if (!ctx.io.isTty) {
      throw new UsageError("`pylon construct` without --from needs an interactive terminal", {
        hint: `for scripts: pylon construct ${name} --from ${TEMPLATE_NAMES.join("|")}`,
      });
    } else {
      answers = await wizard(name, created, flags, ctx);
    }
    await ensurePrivateDir(ctx.paths.pylonDir(name));
    await Deno.writeTextFile(file, renderPylonYaml(answers), { createNew: true });
    if (answers.signature) await writeSecret(ctx.paths.pylonEnv(name), answers.signature);
    await report(name, answers, ctx);
    return 0;
  },
};

/**
 * Puts the webhook secret in the pylon's `.env` (0600): a random one when pylon makes it, else a
 * commented line saying what to paste. A variable already there is kept.
 */
async function writeSecret(envFile: string, signature: WebhookSignature): Promise<void> {
  let text = "";
  try {
    text = await Deno.readTextFile(envFile);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (parseDotEnv(text).vars[signature.envVar]) return;
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const line = signature.generated
    ? `${signature.envVar}=${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}\n`
    : `# ${signature.envVar}=<paste it here, then remove the leading #>\n`;
  const sep = text === "" || text.endsWith("\n") ? "" : "\n";
  await Deno.writeTextFile(envFile, sep + line, { append: true, mode: PRIVATE_FILE_MODE });
  await Deno.chmod(envFile, PRIVATE_FILE_MODE);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function readFlags(values: Record<string, unknown>, ctx: CommandContext): TemplateFlags {
  const str = (k: string) => values[k] as string | undefined;
  const path = str("path");
  if (path !== undefined && !/^\/[A-Za-z0-9._~\-/]*$/.test(path)) {
    throw new UsageError(`Invalid --path "${path}": it must start with / (e.g. /my-pylon)`);
  }
  const cron = str("cron");
  if (cron !== undefined) {
    try {
      parseCron(cron);
    } catch (e) {
      throw new UsageError(`Invalid --cron: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const tz = str("tz");
  if (tz !== undefined && !isValidTimezone(tz)) {
    throw new UsageError(`Invalid --tz "${tz}": not an IANA time zone`, {
      hint: "use a name like Europe/Berlin, America/New_York or UTC",
    });
  }
  return {
    repo: str("repo"),
    ref: str("ref"),
    path,
    cron,
    timezone: tz ?? systemTimezone(ctx.env),
  };
}

function checkFlagsFit(template: TemplateName, values: Record<string, unknown>): void {
  const cronOnly = ["cron", "tz"].filter((k) => values[k] !== undefined);
  if (template !== "cron-audit" && cronOnly.length > 0) {
    throw new UsageError(`--${cronOnly[0]} only applies to the cron-audit template`);
  }
  if (template === "cron-audit" && values.path !== undefined) {
    throw new UsageError("--path only applies to webhook templates (cron pylons have no path)");
  }
}

async function wizard(
  name: string,
  created: string,
  flags: TemplateFlags,
  ctx: CommandContext,
): Promise<ConstructAnswers> {
  const io = ctx.io;
  io.out(`Constructing pylon "${name}" (press Enter to take the [default]).\n\n`);
  const trigger = await choose(io, "Trigger", ["webhook", "cron"] as const, "webhook");
  const a: ConstructAnswers = {
    name,
    created,
    trigger,
    description: await ask(io, "Description", ""),
    workspace: "none",
    prompt: "",
    approval: false,
    timeout: "15m",
  };
  if (trigger === "webhook") {
    a.path = await askValid(
      ctx.io,
      "Webhook path",
      flags.path ?? `/${name}`,
      (v) =>
        /^\/[A-Za-z0-9._~\-/]*$/.test(v)
          ? undefined
          : "start with / and use letters, digits, - _ . ~",
    );
  } else {
    a.cron = await askValid(ctx.io, "Cron schedule", flags.cron ?? "0 9 * * 1-5", cronProblem);
    a.timezone = await askValid(
      ctx.io,
      "Time zone",
      flags.timezone,
      (v) => isValidTimezone(v) ? undefined : "not an IANA time zone (e.g. Europe/Berlin)",
    );
  }
  a.workspace = await choose(
    io,
    "Workspace",
    ["git-clone", "git-worktree", "local", "none"] as const,
    flags.repo ? "git-clone" : "none",
  );
  if (a.workspace === "git-clone" || a.workspace === "git-worktree") {
    a.repo = await askValid(
      ctx.io,
      "Repository",
      flags.repo ?? "",
      (v) => v ? undefined : "required",
    );
    a.ref = await ask(io, "Branch or ref", flags.ref ?? "main");
  } else if (a.workspace === "local") {
    const folder = await askValid(
      ctx.io,
      "Local folder",
      "",
      (v) => v.trim() ? undefined : "required (a relative path is read from this folder)",
    );
    // A relative folder means the one `pylon` was run from, written out absolute.
    a.localPath = folder.startsWith("~") ? folder : fromCaller(ctx, folder);
  }
  const agent = await choose(io, "Agent", ["default", "claude", "opencode"] as const, "default");
  if (agent !== "default") a.agentType = agent;
  io.out("Prompt for the agent (Go template; .body is the event). End with an empty line:\n");
  a.prompt = await readBlock(ctx) || "This event triggered the run:\n\n{{ .body }}\n";
  if (trigger === "webhook") {
    a.approval =
      (await choose(io, "Wait for approval before running", ["yes", "no"] as const, "no")) ===
        "yes";
    a.topic = await ask(io, "Thread topic (template, optional)", "") || undefined;
  }
  a.timeout = await askValid(
    ctx.io,
    "Timeout",
    "15m",
    (v) => /^(\d+(\.\d+)?(ms|s|m|h))+$/.test(v) ? undefined : "write it like 10m or 1h30m",
  );
  return a;
}

function cronProblem(v: string): string | undefined {
  try {
    parseCron(v);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

async function readBlock(ctx: CommandContext): Promise<string> {
  const lines: string[] = [];
  for (;;) {
    const line = await ctx.io.readLine();
    if (line === null || line === "") break;
    lines.push(line);
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}

async function report(name: string, answers: ConstructAnswers, ctx: CommandContext): Promise<void> {
  const home = ctx.env.HOME;
  const io = ctx.io;
  let global: LoadedGlobal | undefined;
  let globalConfig: GlobalConfig = globalConfigSchema.parse({});
  try {
    global = await loadGlobalConfig(ctx.paths, ctx.env);
    globalConfig = global.config;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.err(`Warning: ${e.message}\n`);
  }
  io.out(`\nPylon constructed: ${name}\n`);
  io.out(`  Config: ${displayPath(ctx.paths.pylonConfig(name), home)}\n`);
  const daemon = await connectDaemon(ctx).catch(() => null);
  const served = await servedConfig(ctx, globalConfig, daemon);
  let problems: string[] = [];
  let webhook: string | undefined = answers.trigger === "webhook"
    ? webhookUrl({ trigger: { path: answers.path ?? `/${name}` } }, served)
    : undefined;
  let isPublic = hasPublicUrl({ trigger: {} }, globalConfig);
  let pendingSecret: string | undefined;
  if (global) {
    try {
      // A secret the user still has to paste is reported below, with where to get it; the
      // other problems are listed as usual.
      const sig = answers.signature;
      if (sig && !sig.generated && !global.env[sig.envVar]) pendingSecret = sig.envVar;
      const env = pendingSecret ? { ...global.env, [pendingSecret]: "(to be added)" } : global.env;
      const loaded = await loadPylon(ctx.paths, name, { ...global, env });
      const { agent } = resolvePylon(loaded.config, globalConfig, {
        env: loaded.env,
        systemTimezone: "UTC",
      });
      const ignored = unsupportedSettingsNote(agent.type, agent.unsupported);
      if (ignored) io.out(`  Note: ${ignored}\n`);
      if (answers.trigger === "webhook") {
        webhook = webhookUrl(loaded.config, served);
        isPublic = hasPublicUrl(loaded.config, globalConfig);
      }
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems = e.issues.map((i) => formatIssue(e.file, i));
    }
    const clash = await pathClashOf(ctx.paths, name, home);
    if (clash) problems.push(clash);
  }
  if (webhook !== undefined) {
    io.out(`  Webhook: ${webhook}\n`);
    if (!isPublic) {
      io.out(
        "           (server.public_url is unset: this address works on this machine only;\n" +
          "           for senders elsewhere set server.public_url in config.yaml, e.g.\n" +
          "           https://pylon.example.com)\n",
      );
    }
  }
  if (answers.trigger === "cron") io.out(`  Schedule: ${answers.cron} (${answers.timezone})\n`);
  const sig = answers.signature;
  if (sig) {
    const envFile = displayPath(ctx.paths.pylonEnv(name), home);
    io.out(
      sig.generated
        ? `  Secret: ${sig.envVar}, a random value in ${envFile} (mode 600)\n`
        : `  Secret: ${sig.envVar}, to be added to ${envFile}\n`,
    );
    io.out(`\n  ${sig.instructions.join("\n  ")}\n    ${envFile}\n`);
    if (sig.generated) io.out(`  (show it with: grep ${sig.envVar} ${envFile})\n`);
  }
  if (answers.allowedRepos) {
    io.out(
      `\n  Events pick the repository: set workspace.allowed_repos (now ` +
        `${answers.allowedRepos.patterns.join(", ")}) to the ones they may pick.\n`,
    );
  }
  if (problems.length > 0) {
    io.out(`\n  Before it can run, fix:\n${problems.map((p) => `    ${p}\n`).join("")}`);
    if (answers.repo === "") io.out(`  (set workspace.repo with: pylon edit ${name})\n`);
    io.out(
      daemon
        ? `\n  The running daemon (${daemon.base}) loads it as soon as it is fixed; no restart.\n`
        : "\n  Once fixed, start the daemon:  pylon start\n",
    );
  } else if (pendingSecret) {
    // The secret the user still has to paste keeps the pylon from loading: "start it" or
    // "the daemon has not loaded it" would both hide that.
    const envFile = displayPath(ctx.paths.pylonEnv(name), home);
    io.out(
      daemon
        ? `\n  The running daemon (${daemon.base}) loads it as soon as ${pendingSecret} is in ` +
          `${envFile}; no restart. Until then its path answers 503.\n`
        : `\n  Once ${pendingSecret} is in ${envFile}, start the daemon:  pylon start\n`,
    );
  } else if (daemon) {
    io.out(`\n  ${await daemonState(daemon, name)}\n`);
  } else {
    io.out("\n  Start it:  pylon start   (the daemon serves every pylon)\n");
  }
  io.out(`  Test it:   pylon test ${name} --dry-run\n`);
  io.out(`  Edit it:   pylon edit ${name}\n`);
}

/**
 * `global` with `server.host`/`port` where the running daemon listens (it may have been started
 * with `--port`), so the webhook URL printed is the one that answers now.
 */
async function servedConfig(
  ctx: CommandContext,
  global: GlobalConfig,
  daemon: DaemonConnection | null,
): Promise<GlobalConfig> {
  const info = daemon ? await readPidFile(ctx.paths.daemonPid) : null;
  return info
    ? { ...global, server: { ...global.server, host: info.host, port: info.port } }
    : global;
}

/**
 * What the running daemon made of the new pylon: hot reload picks a new folder up within a
 * moment, so this asks `GET /api/pylons` for up to two seconds.
 */
async function daemonState(daemon: DaemonConnection, name: string): Promise<string> {
  const deadline = Date.now() + 2000;
  for (;;) {
    let state: unknown;
    try {
      const list = await daemon.call("GET", "/api/pylons") as unknown;
      const entry = Array.isArray(list)
        ? list.find((p) => (p as { name?: unknown })?.name === name)
        : undefined;
      state = (entry as { state?: unknown } | undefined)?.state;
    } catch {
      state = undefined;
    }
    if (state === "active") {
      return `The running daemon (${daemon.base}) picked it up: no restart needed.`;
    }
    if (state === "not_loaded" || Date.now() >= deadline) {
      return `A daemon runs (${daemon.base}) but has not loaded it: see its log, or ` +
        "`pylon doctor`.";
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
