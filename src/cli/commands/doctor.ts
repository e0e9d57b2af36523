/**
 * `pylon doctor [--json]`: checks config, Docker, the daemon, every pylon and agent auth, and
 * prints one `ok/FAIL/WARN/--` line per check with a fix under each problem. Exits 1 when any
 * check FAILs (the Go reference always exited 0).
 *
 * Telegram and Slack tokens are only checked for presence; live checks (getMe, auth.test) come
 * with `pylon setup` (TODO), so doctor talks to no chat API.
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
import { agentImageRef, builtinAgentType, readCaCertificates } from "../../runner/images.ts";
import type { Command, CommandContext } from "../command.ts";
import {
  agentAuthCheck,
  caCertificateChecks,
  channelCheck,
  type Check,
  countChecks,
  cronCheck,
  envFileCheck,
  type FetchFn,
  renderReport,
  webhookCheck,
} from "../doctor_checks.ts";

/** What doctor reaches outside the home folder; tests inject fakes. */
export interface DoctorDeps {
  fetch?: FetchFn;
  docker?: DockerClient;
}

export const doctorCommand: Command = {
  name: "doctor",
  summary: "Check config, Docker, the daemon, pylons and agent auth",
  usage: "doctor [--json]",
  description: "Prints one line per check (ok, FAIL, WARN, -- not applicable) with a fix under " +
    "each problem. Exits 1 when a check fails.",
  options: { json: { type: "boolean", description: "Print the checks as JSON" } },
  positionals: { min: 0, max: 0 },
  run(args, ctx) {
    return runDoctor(ctx, { json: args.values.json === true });
  },
};

/** Runs every check and prints the report; returns 1 when any check FAILs. */
export async function runDoctor(
  ctx: CommandContext,
  opts: { json?: boolean; deps?: DoctorDeps } = {},
): Promise<number> {
  const checks = await collectChecks(ctx, opts.deps ?? {});
  const { problems, warnings } = countChecks(checks);
  if (opts.json) {
    const rows = checks.map((c) => ({ ...c, hint: c.hint ?? null }));
    ctx.io.out(JSON.stringify({ checks: rows, problems, warnings }, null, 2) + "\n");
  } else {
    ctx.io.out(renderReport(checks));
  }
  return problems > 0 ? 1 : 0;
}

/** Every check, in report order. */
export async function collectChecks(ctx: CommandContext, deps: DoctorDeps): Promise<Check[]> {
  const fetchFn: FetchFn = deps.fetch ?? ((input, init) => fetch(input, init));
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
      : await webhookCheck(p, global.config, { fetch: fetchFn, daemonRunning: daemon.running });
    checks.push({ ...trigger, section }, { ...channelCheck(p), section });
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
  const refs = new Map<string, boolean>(); // ref → built-in
  for (const p of pylons.filter((x) => !x.config.disabled && x.agent.image !== "")) {
    const type = builtinAgentType(p.agent.image);
    if (type && !p.agent.image.includes(":")) {
      if (certs === null) continue;
      refs.set(
        agentImageRef(type, undefined, { baseImage: p.agent.baseImage, caCertificates: certs }),
        true,
      );
    } else {
      refs.set(p.agent.image, false);
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
        detail: `${ref} not built yet (will be built on first use)`,
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
