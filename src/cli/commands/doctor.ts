/**
 * `pylon doctor [--json] [--fix] [--offline]`: checks config, Docker, the daemon and its systemd
 * unit, every pylon, the chat tokens and chats (live API calls), git access of git-clone
 * workspaces and agent auth, and prints one `ok/FAIL/WARN/--` line per check with a fix under
 * each problem. Exits 1 when any check FAILs (the Go reference always exited 0).
 *
 * `--fix` applies only safe, local repairs (create the home folder, chmod 600 `.env` files,
 * build missing agent images), says what it did, then checks again; installing or starting the
 * service is left to the user. It is a flag, not a prompt, so scripts and terminals behave alike.
 *
 * @module
 */

import {
  displayPath,
  formatIssue,
  globalConfigSchema,
  loadAllPylons,
  type LoadedGlobal,
  loadGlobalConfig,
  pylonConfigSchema,
  type ResolvedPylon,
  resolvePylon,
} from "../../config/mod.ts";
import { systemTimezone } from "../../cron/mod.ts";
import { createDockerClient, type DockerClient } from "../../docker/mod.ts";
import { ConfigError } from "../../errors.ts";
import type { GitRunner } from "../../workspace/mod.ts";
import type { Command, CommandContext } from "../command.ts";
import {
  agentAuthCheck,
  agentSettingsCheck,
  caCertificateChecks,
  channelCheck,
  channelLiveChecks,
  type Check,
  countChecks,
  cronCheck,
  daemonChecks,
  dashboardCheck,
  DEFAULTS_NAME,
  dockerChecks,
  egressCheck,
  envFileCheck,
  type FetchFn,
  forPylons,
  gitChecks,
  homeCheck,
  mountsChecks,
  renderReport,
  serviceCheck,
  signatureCheck,
  webhookCheck,
} from "../doctor/mod.ts";
import { type ProgramRunner, programRunner, sudoUser } from "../systemd.ts";

/** What doctor reaches outside the home folder; tests inject fakes. */
export interface DoctorDeps {
  fetch?: FetchFn;
  docker?: DockerClient;
  /** Runs systemctl; default: the real one, found on `ctx.env.PATH`. */
  run?: ProgramRunner;
  /** Runs git for the git-clone checks; default: the workspace area's runner. */
  git?: GitRunner;
  /** The process's uid (`Deno.uid()`), to see the invoking user's unit under sudo. */
  uid?: number | null;
  /** Timeout of each chat API call and git ls-remote, in ms. */
  timeoutMs?: number;
}

/** Options of {@linkcode runDoctor}. */
export interface DoctorOptions {
  json?: boolean;
  /** Apply the safe fixes, then check again. */
  fix?: boolean;
  /** No chat API calls, git ls-remote or public URL probes. */
  offline?: boolean;
  deps?: DoctorDeps;
}

export const doctorCommand: Command = {
  name: "doctor",
  summary: "Check config, Docker, the daemon, pylons, chat and git access, and agent auth",
  usage: "doctor [--json] [--fix] [--offline]",
  description: "Prints one line per check (ok, FAIL, WARN, -- not applicable) with a fix under " +
    "each problem. Talks to the Telegram, Slack and GitHub APIs (getMe, auth.test, GET " +
    "/user, …), runs `git ls-remote` for git-clone workspaces and probes public webhook URLs, " +
    "unless --offline. " +
    "--fix creates a missing home folder, makes .env files private (chmod 600) and builds " +
    "missing agent images, then checks again; it never installs or starts the service. Exits " +
    "1 when a check fails.",
  options: {
    json: { type: "boolean", description: "Print the checks as JSON" },
    fix: { type: "boolean", description: "Apply the safe fixes, then check again" },
    offline: {
      type: "boolean",
      description: "Skip the checks that need the network (chat APIs, git, public URLs)",
    },
  },
  positionals: { min: 0, max: 0 },
  run(args, ctx) {
    return runDoctor(ctx, {
      json: args.values.json === true,
      fix: args.values.fix === true,
      offline: args.values.offline === true,
    });
  },
};

/** What `--fix` did, one entry per repair. */
interface FixResult {
  fix: string;
  ok: boolean;
  error: string | null;
}

/** Runs every check and prints the report; returns 1 when any check FAILs. */
export async function runDoctor(ctx: CommandContext, opts: DoctorOptions = {}): Promise<number> {
  // One client for both passes and the fixes (an image build runs after the first pass).
  using owned = opts.deps?.docker ? undefined : createDockerClient({ env: ctx.env });
  const deps: DoctorDeps = { ...opts.deps, docker: opts.deps?.docker ?? owned! };
  const offline = opts.offline === true;
  let checks = await collectChecks(ctx, deps, { offline });
  let fixed: FixResult[] | undefined;
  if (opts.fix) {
    fixed = await applyFixes(ctx, checks, opts.json !== true);
    if (fixed.length > 0) checks = await collectChecks(ctx, deps, { offline });
    // A fix that just failed is not offered again; its error was printed above.
    const failed = new Set(fixed.filter((f) => !f.ok).map((f) => f.fix));
    checks = checks.map((
      c,
    ) => (c.fix && failed.has(c.fix.description) ? { ...c, fix: undefined } : c));
  }
  const { problems, warnings } = countChecks(checks);
  if (opts.json) {
    const rows = checks.map(({ fix, ...c }) => ({ ...c, hint: c.hint ?? null, fixable: !!fix }));
    const report = fixed
      ? { checks: rows, problems, warnings, fixed }
      : { checks: rows, problems, warnings };
    ctx.io.out(JSON.stringify(report, null, 2) + "\n");
  } else {
    ctx.io.out(renderReport(checks));
    const fixable = checks.filter((c) => c.fix && (c.status === "FAIL" || c.status === "WARN"));
    if (fixable.length > 0) {
      ctx.io.out(
        `\`pylon doctor --fix\` can do ${fixable.length === 1 ? "this" : "these"} for you: ` +
          `${fixable.map((c) => c.fix!.description).join("; ")}\n`,
      );
      // "N problems found" right above reads as if --fix repaired them: name those it cannot.
      const manual = checks.filter((c) => c.status === "FAIL" && !c.fix);
      if (manual.length > 0) {
        const one = manual.length === 1;
        ctx.io.out(
          `It does not fix ${one ? "the problem" : `the ${manual.length} problems`} ` +
            `${one ? "that needs" : "that need"} you (the fix: under ${one ? "it" : "each"}): ` +
            `${manual.map((c) => c.label).join(", ")}\n`,
        );
      }
    }
  }
  return problems > 0 ? 1 : 0;
}

async function applyFixes(
  ctx: CommandContext,
  checks: readonly Check[],
  print: boolean,
): Promise<FixResult[]> {
  const results: FixResult[] = [];
  const fixes = checks.flatMap((c) => (c.fix ? [c.fix] : []));
  if (print) {
    ctx.io.out(
      fixes.length === 0
        ? "Nothing to fix automatically.\n\n"
        : `Fixing ${fixes.length} thing${fixes.length === 1 ? "" : "s"}:\n`,
    );
  }
  for (const fix of fixes) {
    try {
      await fix.run();
      results.push({ fix: fix.description, ok: true, error: null });
      if (print) ctx.io.out(`  fixed: ${fix.description}\n`);
    } catch (e) {
      const why = e instanceof Error ? e.message.split("\n")[0]! : String(e);
      results.push({ fix: fix.description, ok: false, error: why });
      if (print) ctx.io.out(`  could not ${fix.description}: ${why}\n`);
    }
  }
  if (print && fixes.length > 0) ctx.io.out("\n");
  return results;
}

/** Every check, in report order. */
export async function collectChecks(
  ctx: CommandContext,
  deps: DoctorDeps,
  opts: { offline?: boolean } = {},
): Promise<Check[]> {
  const fetchFn: FetchFn = deps.fetch ?? ((input, init) => fetch(input, init));
  const offline = opts.offline === true;
  const home = ctx.env.HOME;
  const show = (p: string) => displayPath(p, home);
  const checks: Check[] = [];

  // Config
  let global: LoadedGlobal;
  try {
    global = await loadGlobalConfig(ctx.paths, ctx.env);
    checks.push({
      section: "Config",
      label: "Config",
      status: "ok",
      detail: global.exists
        ? `${show(ctx.paths.globalConfig)} found`
        : `built-in defaults (no ${show(ctx.paths.globalConfig)})`,
    });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    checks.push({
      section: "Config",
      label: "Config",
      status: "FAIL",
      detail: allIssues(e),
      hint: e.hint ?? "fix the file",
    });
    global = { config: globalConfigSchema.parse({}), env: { ...ctx.env }, exists: false };
  }
  checks.push(await homeCheck(ctx.paths, home));
  const envCheck = await envFileCheck("Config", ".env", ctx.paths.globalEnv, home);
  checks.push(
    envCheck ?? { section: "Config", label: ".env", status: "--", detail: "none" },
  );
  checks.push(...await caCertificateChecks(global.config.docker.ca_certificates, home));

  // Pylons are loaded first: the Docker section checks the images they need.
  const results = await loadAllPylons(ctx.paths, global);
  const zone = systemTimezone(ctx.env);
  const pylons: ResolvedPylon[] = [];
  for (const r of results) {
    if (!r.ok) continue;
    pylons.push(
      resolvePylon(r.pylon.config, global.config, { env: r.pylon.env, systemTimezone: zone }),
    );
  }

  // With no enabled pylon, config.yaml's defaults stand in for the images and chat APIs checks.
  const active = pylons.filter((x) => !x.config.disabled);
  const checked = active.length > 0 ? active : [defaultsPylon(global, zone)];

  // Docker
  using owned = deps.docker ? undefined : createDockerClient({ env: ctx.env });
  checks.push(...await dockerChecks(deps.docker ?? owned!, checked, global, home));
  checks.push(...mountsChecks(ctx.env, checked, global));

  // Daemon
  const daemon = await daemonChecks(ctx, global, fetchFn);
  checks.push(...daemon.checks);
  checks.push(dashboardCheck(global.config, daemon.host ?? global.config.server.host));
  // Webhook URLs name where the running daemon listens (it may have been started with --port).
  const served = daemon.port === undefined ? global.config : {
    ...global.config,
    server: { ...global.config.server, port: daemon.port, host: daemon.host ?? "" },
  };
  const run = deps.run ?? programRunner(ctx.env);
  const uid = deps.uid !== undefined ? deps.uid : Deno.uid();
  checks.push(await serviceCheck(run, { sudoUser: sudoUser(ctx.env, uid), home }));

  // Pylons
  const section = `Pylons (${results.length})`;
  if (results.length === 0) {
    checks.push({
      section,
      label: "Pylons",
      status: "--",
      detail: "none yet (create one with `pylon construct <name>`)",
    });
  }
  for (const r of results) {
    if (!r.ok) {
      checks.push({
        section,
        label: r.name,
        status: "FAIL",
        detail: allIssues(r.error),
        hint: r.error.hint ?? `edit it with \`pylon edit ${r.name}\``,
      });
      continue;
    }
    const p = pylons.find((x) => x.name === r.name)!;
    if (p.config.disabled) {
      checks.push({ section, label: r.name, status: "--", detail: "disabled" });
      continue;
    }
    checks.push({
      section,
      label: r.name,
      status: "ok",
      detail: `valid (${p.config.trigger.type})`,
    });
    if (r.pathShared) {
      checks.push({
        section,
        label: `${r.name} path`,
        status: "WARN",
        detail: r.pathShared,
        hint: "give one of them another trigger.path (`pylon edit <name>`), or disable one",
      });
    }
    const own = await envFileCheck(section, `${r.name} .env`, ctx.paths.pylonEnv(r.name), home);
    if (own && own.status !== "ok") checks.push(own);
    const trigger = p.config.trigger.type === "cron"
      ? cronCheck(p, ctx.clock.now())
      : await webhookCheck(p, served, {
        fetch: fetchFn,
        daemonRunning: daemon.running,
        probe: !offline,
      });
    checks.push({ ...trigger, section });
    const signature = signatureCheck(p, global.config, daemon.host ?? global.config.server.host);
    if (signature) checks.push({ ...signature, section });
    const egress = egressCheck(p, global.config, daemon.host ?? global.config.server.host);
    if (egress) checks.push({ ...egress, section });
    checks.push({ ...channelCheck(p), section });
    const settings = agentSettingsCheck(p);
    if (settings) checks.push({ ...settings, section });
  }

  // Live checks: chat APIs and git remotes, once per token / repository.
  const usesChat = checked.some((p) =>
    p.channel.types.some((t) => t === "telegram" || t === "slack" || t === "github")
  );
  const usesGit = active.some((p) => p.config.workspace.type === "git-clone");
  if (offline) {
    if (usesChat) {
      checks.push({
        section: "Channels",
        label: "Channel APIs",
        status: "--",
        detail: "--offline",
      });
    }
    if (usesGit) {
      checks.push({ section: "Git", label: "Repositories", status: "--", detail: "--offline" });
    }
  } else {
    const envFile = show(ctx.paths.globalEnv);
    const timeoutMs = deps.timeoutMs;
    checks.push(...await channelLiveChecks(checked, { fetch: fetchFn, envFile, timeoutMs }));
    checks.push(...await gitChecks(pylons, { home, env: ctx.env, git: deps.git, timeoutMs }));
  }

  // Agent auth: one row per distinct result and fix, so ten pylons on one key (or one missing
  // ~/.claude) print one line that names them.
  // With no pylon enabled, config.yaml's defaults stand in (as for the image and chat checks).
  const auth = new Map<string, { check: Check; names: string[] }>();
  for (const p of checked) {
    const envFiles = p.name === DEFAULTS_NAME
      ? show(ctx.paths.globalEnv)
      : `${show(ctx.paths.pylonEnv(p.name))} or ${show(ctx.paths.globalEnv)}`;
    const c = await agentAuthCheck(p, { home, envFiles });
    const check = { ...c, detail: c.detail.replace(` (pylon ${p.name})`, "") };
    const key = `${check.label}|${check.status}|${check.detail}|${check.hint ?? ""}`;
    const row = auth.get(key) ?? { check, names: [] };
    row.names.push(p.name);
    auth.set(key, row);
  }
  for (const { check, names } of auth.values()) {
    checks.push({ ...check, detail: check.detail + forPylons(names) });
  }
  return checks;
}

/**
 * A stand-in pylon made of config.yaml's defaults (agent type and image, channel), checked when
 * no pylon is enabled so a fresh `pylon setup` is tested too.
 */
function defaultsPylon(global: LoadedGlobal, zone: string): ResolvedPylon {
  const config = pylonConfigSchema.parse({ name: DEFAULTS_NAME, trigger: { type: "webhook" } });
  return resolvePylon(config, global.config, { env: global.env, systemTimezone: zone });
}

/** `file:line:col: field: message` of the first issue, else the first line of the message. */
/** Every problem of a file that does not load, one per line (the report indents the others). */
function allIssues(e: ConfigError): string {
  if (e.issues.length === 0) return e.message.split("\n")[0]!;
  if (e.issues.length === 1) return formatIssue(e.file, e.issues[0]!);
  return [`${e.issues.length} problems:`, ...e.issues.map((i) => formatIssue(e.file, i))]
    .join("\n");
}
