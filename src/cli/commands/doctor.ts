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
  type ResolvedPylon,
  resolvePylon,
} from "../../config/mod.ts";
import { systemTimezone } from "../../cron/mod.ts";
import { createDockerClient, type DockerClient, HINT_NOT_RUNNING } from "../../docker/mod.ts";
import { readPidFile } from "../../daemon/pidfile.ts";
import { ConfigError } from "../../errors.ts";
import {
  agentImageRef,
  type AgentImageType,
  builtinAgentType,
  ensureAgentImage,
  readCaCertificates,
} from "../../runner/images.ts";
import type { GitRunner } from "../../workspace/mod.ts";
import type { Command, CommandContext } from "../command.ts";
import { channelLiveChecks } from "../doctor_channels.ts";
import {
  agentAuthCheck,
  caCertificateChecks,
  channelCheck,
  type Check,
  countChecks,
  cronCheck,
  envFileCheck,
  type FetchFn,
  homeCheck,
  renderReport,
  webhookCheck,
} from "../doctor_checks.ts";
import { gitChecks } from "../doctor_git.ts";
import { serviceCheck } from "../doctor_service.ts";
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
    "each problem. Talks to the Telegram/Slack APIs (getMe, getChat, auth.test, …), runs " +
    "`git ls-remote` for git-clone workspaces and probes public webhook URLs, unless --offline. " +
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
  const deps = opts.deps ?? {};
  const offline = opts.offline === true;
  let checks = await collectChecks(ctx, deps, { offline });
  let fixed: FixResult[] | undefined;
  if (opts.fix) {
    fixed = await applyFixes(ctx, checks, opts.json !== true);
    if (fixed.length > 0) checks = await collectChecks(ctx, deps, { offline });
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
      detail: firstIssue(e),
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

  // Docker
  using docker = deps.docker ? undefined : createDockerClient({ env: ctx.env });
  const client = deps.docker ?? docker!;
  let dockerUp = false;
  try {
    const v = await client.version({ signal: AbortSignal.timeout(5000) });
    dockerUp = true;
    checks.push({
      section: "Docker",
      label: "Engine",
      status: "ok",
      detail: `running (v${v.Version}, API ${v.ApiVersion})`,
    });
  } catch (e) {
    const err = e as Error & { hint?: string };
    checks.push({
      section: "Docker",
      label: "Engine",
      status: "FAIL",
      detail: err.message.split("\n")[0] ?? String(e),
      hint: err.hint ?? HINT_NOT_RUNNING,
    });
  }
  if (dockerUp) checks.push(...await imageChecks(client, pylons, global, home));

  // Daemon
  const daemon = await daemonChecks(ctx, global, fetchFn);
  checks.push(...daemon.checks);
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
        detail: firstIssue(r.error),
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
    const own = await envFileCheck(section, `${r.name} .env`, ctx.paths.pylonEnv(r.name), home);
    if (own && own.status !== "ok") checks.push(own);
    const trigger = p.config.trigger.type === "cron"
      ? cronCheck(p, ctx.clock.now())
      : await webhookCheck(p, global.config, {
        fetch: fetchFn,
        daemonRunning: daemon.running,
        probe: !offline,
      });
    checks.push({ ...trigger, section }, { ...channelCheck(p), section });
  }

  // Live checks: chat APIs and git remotes, once per token / repository.
  const active = pylons.filter((x) => !x.config.disabled);
  const usesChat = active.some((p) => p.channel.type === "telegram" || p.channel.type === "slack");
  const usesGit = active.some((p) => p.config.workspace.type === "git-clone");
  if (offline) {
    if (usesChat) {
      checks.push({ section: "Channels", label: "Chat APIs", status: "--", detail: "--offline" });
    }
    if (usesGit) {
      checks.push({ section: "Git", label: "Repositories", status: "--", detail: "--offline" });
    }
  } else {
    const envFile = show(ctx.paths.globalEnv);
    const timeoutMs = deps.timeoutMs;
    checks.push(...await channelLiveChecks(pylons, { fetch: fetchFn, envFile, timeoutMs }));
    checks.push(...await gitChecks(pylons, { home, env: ctx.env, git: deps.git, timeoutMs }));
  }

  // Agent auth: one row per distinct result, so ten pylons on one key print one line.
  const seen = new Set<string>();
  for (const p of pylons.filter((x) => !x.config.disabled)) {
    const envFiles = `${show(ctx.paths.pylonEnv(p.name))} or ${show(ctx.paths.globalEnv)}`;
    const c = await agentAuthCheck(p, { home, envFiles });
    const key = `${c.label}|${c.status}|${c.status === "ok" ? c.detail : p.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    checks.push(c);
  }
  return checks;
}

/** `file:line:col: field: message` of the first issue, else the first line of the message. */
function firstIssue(e: ConfigError): string {
  const issue = e.issues[0];
  return issue ? formatIssue(e.file, issue) : e.message.split("\n")[0]!;
}

async function imageChecks(
  docker: DockerClient,
  pylons: readonly ResolvedPylon[],
  global: LoadedGlobal,
  home: string | undefined,
): Promise<Check[]> {
  const out: Check[] = [];
  let certs: Awaited<ReturnType<typeof readCaCertificates>> | null;
  try {
    certs = await readCaCertificates(global.config.docker.ca_certificates, home);
  } catch {
    certs = null; // reported under Config
  }
  // ref → how to build it (built-in agent types), or null (an image to pull)
  const refs = new Map<string, { type: AgentImageType; baseImage: string | undefined } | null>();
  for (const p of pylons.filter((x) => !x.config.disabled && x.agent.image !== "")) {
    const type = builtinAgentType(p.agent.image);
    if (type && !p.agent.image.includes(":")) {
      if (certs === null) continue;
      refs.set(
        agentImageRef(type, undefined, { baseImage: p.agent.baseImage, caCertificates: certs }),
        { type, baseImage: p.agent.baseImage },
      );
    } else {
      refs.set(p.agent.image, null);
    }
  }
  for (const [ref, builtin] of refs) {
    let present: boolean;
    try {
      present = (await docker.inspectImage(ref, { signal: AbortSignal.timeout(5000) })) !== null;
    } catch (e) {
      out.push({
        section: "Docker",
        label: "Agent image",
        status: "FAIL",
        detail: `${ref}: ${e instanceof Error ? e.message : String(e)}`,
        hint: HINT_NOT_RUNNING,
      });
      continue;
    }
    if (present) out.push({ section: "Docker", label: "Agent image", status: "ok", detail: ref });
    else if (builtin) {
      out.push({
        section: "Docker",
        label: "Agent image",
        status: "--",
        detail: `${ref} not built yet (built on first use, or now by \`pylon doctor --fix\`)`,
        fix: {
          description: `build ${ref} (a few minutes)`,
          async run() {
            await ensureAgentImage({
              docker,
              type: builtin.type,
              baseImage: builtin.baseImage,
              caCertificates: global.config.docker.ca_certificates,
              home,
            });
          },
        },
      });
    } else {
      out.push({
        section: "Docker",
        label: "Agent image",
        status: "WARN",
        detail: `${ref} not present (will be pulled on first use)`,
        hint: `pull it now with \`docker pull ${ref}\``,
      });
    }
  }
  return out;
}

async function daemonChecks(
  ctx: CommandContext,
  global: LoadedGlobal,
  fetchFn: FetchFn,
): Promise<{ checks: Check[]; running: boolean }> {
  const checks: Check[] = [];
  const info = await readPidFile(ctx.paths.daemonPid);
  let running = false;
  if (!info) {
    checks.push({ section: "Daemon", label: "Daemon", status: "--", detail: "not running" });
  } else {
    const host = info.host === "0.0.0.0" || info.host === "::" ? "127.0.0.1" : info.host;
    const base = `http://${host.includes(":") ? `[${host}]` : host}:${info.port}`;
    running = await answersHealthz(`${base}/healthz`, fetchFn);
    checks.push(
      running
        ? {
          section: "Daemon",
          label: "Daemon",
          status: "ok",
          detail: `running (pid ${info.pid}, ${base})`,
        }
        : {
          section: "Daemon",
          label: "Daemon",
          status: "WARN",
          detail: `daemon.pid names pid ${info.pid}, but ${base}/healthz does not answer`,
          hint: `the daemon may have crashed: remove ${
            displayPath(ctx.paths.daemonPid, ctx.env.HOME)
          } and run \`pylon start\``,
        },
    );
  }
  const { port, host } = global.config.server;
  const label = `Port ${port}`;
  if (running && info?.port === port) {
    checks.push({
      section: "Daemon",
      label,
      status: "ok",
      detail: `used by pylon (pid ${info.pid})`,
    });
    return { checks, running };
  }
  try {
    Deno.listen({ hostname: host, port }).close();
    checks.push({ section: "Daemon", label, status: "ok", detail: "available" });
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) {
      checks.push({
        section: "Daemon",
        label,
        status: "WARN",
        detail: `cannot listen on ${host}:${port}: ${e instanceof Error ? e.message : String(e)}`,
        hint: "change server.port or server.host in config.yaml",
      });
    } else if (await answersHealthz(`http://127.0.0.1:${port}/healthz`, fetchFn)) {
      checks.push({
        section: "Daemon",
        label,
        status: "WARN",
        detail: "in use by another pylon daemon (another PYLON_HOME?)",
        hint: "stop it, or give this home a different server.port in config.yaml",
      });
    } else {
      checks.push({
        section: "Daemon",
        label,
        status: "WARN",
        detail: "in use by another program",
        hint:
          `stop it (\`ss -ltnp 'sport = :${port}'\` shows which), or change server.port in config.yaml`,
      });
    }
  }
  return { checks, running };
}

/** Whether `url` answers like pylon's `/healthz` (`{"status":"ok","version":…}`). */
async function answersHealthz(url: string, fetchFn: FetchFn): Promise<boolean> {
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(2000) });
    const body = await res.json().catch(() => null) as
      | { status?: unknown; version?: unknown }
      | null;
    return res.ok && body?.status === "ok" && typeof body.version === "string";
  } catch {
    return false;
  }
}
