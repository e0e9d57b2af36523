/**
 * The checks behind `pylon doctor`, one function per concern, each returning {@linkcode Check}
 * rows. Kept apart from the command so each can be tested without a whole pylon home, and so the
 * network (webhook probes) goes through an injected `fetch`.
 *
 * Secrets never reach a row: checks name variables and files, never values.
 *
 * @module
 */

import { displayPath, type ResolvedPylon, webhookUrl } from "../../config/mod.ts";
import type { GlobalConfig } from "../../config/mod.ts";
import { nextRuns, parseCron } from "../../cron/mod.ts";
import { readCaCertificates } from "../../runner/images.ts";

/** `ok` passed, `FAIL` blocks, `WARN` is a recommendation, `--` does not apply. */
export type CheckStatus = "ok" | "FAIL" | "WARN" | "--";

/** One line of the report. */
export interface Check {
  section: string;
  label: string;
  status: CheckStatus;
  detail: string;
  /** How to fix it; set on every FAIL and WARN. */
  hint?: string | undefined;
  /** What `pylon doctor --fix` may do about it (only safe, local changes). */
  fix?: Fix | undefined;
}

/** A safe repair `pylon doctor --fix` applies: local files and image builds, never services. */
export interface Fix {
  /** What it does, e.g. `chmod 600 ~/.pylon/.env`. */
  description: string;
  run(): Promise<void>;
}

/**
 * The name of the stand-in pylon doctor checks when no pylon is enabled: `config.yaml`'s
 * defaults (chat API, agent image), so a fresh setup is not reported healthy untested.
 */
export const DEFAULTS_NAME = "config.yaml defaults";

/** ` (pylon a)`, ` (pylons a, b)`; the zero-pylon check of config.yaml's defaults says so. */
export function forPylons(names: readonly string[]): string {
  if (names.length === 1 && names[0] === DEFAULTS_NAME) return ` (${DEFAULTS_NAME})`;
  return ` (pylon${names.length === 1 ? "" : "s"} ${names.join(", ")})`;
}

/** The `fetch` the probes use; tests pass a fake so no test needs the internet. */
export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/** The label width a section's dot leaders fill at least (longer labels widen their section). */
const LABEL_WIDTH = 19;

/**
 * Formats the report: a header, one block per section, hints under FAIL/WARN, a summary. The
 * dot leaders line up every status of a section, however long its longest label (a pylon's
 * name is part of some).
 */
export function renderReport(checks: readonly Check[]): string {
  const lines = ["Pylon Doctor"];
  const widths = new Map<string, number>();
  for (const c of checks) {
    widths.set(c.section, Math.max(widths.get(c.section) ?? LABEL_WIDTH, c.label.length));
  }
  let section = "";
  for (const c of checks) {
    if (c.section !== section) {
      section = c.section;
      lines.push("", section);
    }
    const dots = ".".repeat(widths.get(c.section)! + 3 - c.label.length);
    const [first, ...more] = c.detail.split("\n");
    lines.push(`  ${c.label} ${dots} ${c.status.padEnd(4)}  ${first}`.trimEnd());
    for (const line of more) lines.push(`      ${line}`);
    if (c.hint && (c.status === "FAIL" || c.status === "WARN")) lines.push(`      fix: ${c.hint}`);
  }
  lines.push("", summaryLine(checks));
  return lines.join("\n") + "\n";
}

/** `N problem(s) found.`, `All checks passed. (M warning(s))` or `All checks passed.` */
export function summaryLine(checks: readonly Check[]): string {
  const { problems, warnings } = countChecks(checks);
  if (problems > 0) return `${problems} problem${problems === 1 ? "" : "s"} found.`;
  if (warnings > 0) return `All checks passed. (${warnings} warning${warnings === 1 ? "" : "s"})`;
  return "All checks passed.";
}

/** Number of FAIL and WARN rows. */
export function countChecks(checks: readonly Check[]): { problems: number; warnings: number } {
  return {
    problems: checks.filter((c) => c.status === "FAIL").length,
    warnings: checks.filter((c) => c.status === "WARN").length,
  };
}

/** A `.env` file: absent → null; readable by group/others → WARN with the chmod to run. */
export async function envFileCheck(
  section: string,
  label: string,
  path: string,
  home: string | undefined,
): Promise<Check | null> {
  const shown = displayPath(path, home);
  let mode: number | null;
  try {
    mode = (await Deno.stat(path)).mode;
    await (await Deno.open(path, { read: true })).close();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    const why = e instanceof Error ? e.message : String(e);
    return {
      section,
      label,
      status: "FAIL",
      detail: `${shown} is not readable: ${why}`,
      hint: `make it readable by this user: chmod 600 ${shown}`,
    };
  }
  const perms = mode === null ? "" : (mode & 0o777).toString(8);
  if (mode !== null && (mode & 0o077) !== 0) {
    return {
      section,
      label,
      status: "WARN",
      detail: `${shown} is readable by group/others (mode ${perms})`,
      hint: `it holds secrets: chmod 600 ${shown}`,
      fix: { description: `chmod 600 ${shown}`, run: () => Deno.chmod(path, 0o600) },
    };
  }
  return { section, label, status: "ok", detail: `${shown}${perms ? ` (mode ${perms})` : ""}` };
}

/**
 * The pylon home: a writable folder. A missing one is a WARN whose `--fix` creates it (mode 700)
 * with its `pylons/`, `jobs/` and `repos/` folders; those are otherwise made on first use.
 */
export async function homeCheck(
  paths: { root: string; pylonsDir: string; jobsDir: string; reposDir: string },
  home: string | undefined,
): Promise<Check> {
  const base = { section: "Config", label: "Home" };
  const shown = displayPath(paths.root, home);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(paths.root);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    const dirs = [paths.root, paths.pylonsDir, paths.jobsDir, paths.reposDir];
    return {
      ...base,
      status: "WARN",
      detail: `${shown} does not exist yet`,
      hint: "run `pylon setup`, or `pylon doctor --fix` to create it",
      fix: {
        description: `mkdir -m 700 ${dirs.map((d) => displayPath(d, home)).join(" ")}`,
        async run() {
          for (const dir of dirs) await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
        },
      },
    };
  }
  if (!info.isDirectory) {
    return {
      ...base,
      status: "FAIL",
      detail: `${shown} is not a folder`,
      hint: "move the file away, or point PYLON_HOME at a folder",
    };
  }
  const probe = `${paths.root}/.doctor-${crypto.randomUUID()}`;
  try {
    await Deno.writeTextFile(probe, "", { createNew: true });
    await Deno.remove(probe);
  } catch (e) {
    return {
      ...base,
      status: "FAIL",
      detail: `${shown} is not writable: ${e instanceof Error ? e.message : String(e)}`,
      hint: `give this user the folder: chown -R "$(id -un)" ${shown}`,
    };
  }
  return { ...base, status: "ok", detail: `${shown} writable` };
}

/** One row per `docker.ca_certificates` entry: the file exists and is a PEM certificate. */
export async function caCertificateChecks(
  paths: readonly string[],
  home: string | undefined,
): Promise<Check[]> {
  const out: Check[] = [];
  for (const path of paths) {
    try {
      await readCaCertificates([path], home);
      out.push({ section: "Config", label: "CA certificate", status: "ok", detail: path });
    } catch (e) {
      const err = e as Error & { hint?: string };
      out.push({
        section: "Config",
        label: "CA certificate",
        status: "FAIL",
        detail: err.message,
        hint: err.hint ?? "fix docker.ca_certificates in config.yaml",
      });
    }
  }
  return out;
}

/** Agent authentication of one pylon: the OAuth folder exists, or the API key resolves. */
export async function agentAuthCheck(
  pylon: ResolvedPylon,
  opts: { home: string | undefined; envFiles: string },
): Promise<Check> {
  const a = pylon.agent;
  const label = `${a.type} (${a.auth})`;
  const base = { section: "Agent auth", label };
  if (a.auth === "oauth" && a.oauthPath) {
    const path = opts.home && a.oauthPath.startsWith("~/")
      ? opts.home + a.oauthPath.slice(1)
      : a.oauthPath;
    try {
      await Deno.stat(path);
      return { ...base, status: "ok", detail: `${a.oauthPath} found` };
    } catch {
      return {
        ...base,
        status: "FAIL",
        detail: `${a.oauthPath} not found (pylon ${pylon.name})`,
        hint: "run `claude` once on this host, or use auth: api_key",
      };
    }
  }
  if (a.auth === "api_key") {
    if (a.apiKey) return { ...base, status: "ok", detail: `${a.apiKeyVar} set` };
    return {
      ...base,
      status: "FAIL",
      detail: `${a.apiKeyVar} not set (pylon ${pylon.name})`,
      hint: `add ${a.apiKeyVar}=<key> to ${opts.envFiles}, or set agent.api_key`,
    };
  }
  return { ...base, status: "--", detail: "no credentials needed" };
}

/** A cron pylon: expression, zone and next run. */
export function cronCheck(pylon: ResolvedPylon, now: Date): Check {
  const expr = pylon.config.trigger.cron ?? "";
  const label = `${pylon.name} cron`;
  try {
    const [next] = nextRuns(parseCron(expr), { from: now, timezone: pylon.timezone, count: 1 });
    const when = next ? formatInZone(next, pylon.timezone) : "never";
    return {
      section: "",
      label,
      status: "ok",
      detail: `${expr} (${pylon.timezone}) next: ${when}`,
    };
  } catch (e) {
    return {
      section: "",
      label,
      status: "FAIL",
      detail: `${expr}: ${e instanceof Error ? e.message : String(e)}`,
      hint: `check it with \`pylon cron "${expr}"\`, then \`pylon edit ${pylon.name}\``,
    };
  }
}

function formatInZone(date: Date, timeZone: string): string {
  const text = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(date);
  return text.replace(", ", " ");
}

/** The channel's type and whether its required settings are present (no API calls). */
export function channelCheck(pylon: ResolvedPylon): Check {
  // Presence only; the live API checks are in channels.ts (one per token, not per pylon).
  const ch = pylon.channel;
  const label = `${pylon.name} channel`;
  const missing: string[] = [];
  const details: string[] = [];
  for (const type of ch.types) {
    let detail: string = type;
    if (type === "telegram") {
      if (!ch.telegram?.bot_token) missing.push("telegram.bot_token");
      const chat = ch.telegram?.chat_id;
      detail = `telegram, chat ${chat ? chat : "detected from the first message"}`;
    } else if (type === "slack") {
      for (const f of ["bot_token", "app_token", "channel_id"] as const) {
        if (!ch.slack?.[f]) missing.push(`slack.${f}`);
      }
      detail = `slack${ch.slack?.channel_id ? `, channel ${ch.slack.channel_id}` : ""}`;
    } else if (type === "webhook") {
      if (!ch.webhook?.url) missing.push("webhook.url");
      detail = `webhook${ch.webhook?.url ? ` → ${ch.webhook.url}` : ""}`;
    } else if (type === "github") {
      if (!ch.github?.token) missing.push("github.token");
      detail = `github${
        ch.github && !/^https:\/\/api\.github\.com\/?$/.test(ch.github.api_url)
          ? ` at ${ch.github.api_url}`
          : ""
      }`;
    }
    details.push(detail);
  }
  if (missing.length > 0) {
    return {
      section: "",
      label,
      status: "FAIL",
      detail: `${ch.types.join(" + ")}: ${missing.join(", ")} not set`,
      hint: `set them in the pylon's channel block or config.yaml defaults.channel`,
    };
  }
  return { section: "", label, status: "ok", detail: details.join(" + ") };
}

/** Options of {@linkcode webhookCheck}. */
export interface WebhookCheckOptions {
  fetch: FetchFn;
  /** Whether this home's daemon answers (an unreachable URL is then a FAIL, not a WARN). */
  daemonRunning: boolean;
  /** Probe timeout in ms. @default {5000} */
  timeoutMs?: number;
  /** `false` (`--offline`): no probe, a `--` row. @default {true} */
  probe?: boolean;
}

/**
 * A webhook pylon's URL; with a public URL, a GET probe: any HTTP answer is reachable, one that
 * is not pylon's (405 "use POST") is a WARN, a connection error a FAIL (WARN while stopped).
 */
export async function webhookCheck(
  pylon: ResolvedPylon,
  global: GlobalConfig,
  opts: WebhookCheckOptions,
): Promise<Check> {
  const url = webhookUrl(pylon.config, global);
  const label = `${pylon.name} webhook`;
  const isPublic = pylon.config.trigger.public_url !== undefined ||
    global.server.public_url !== undefined;
  if (!isPublic) {
    return {
      section: "",
      label,
      status: "ok",
      detail: `${url} (server.public_url is unset: reachable from this machine only)`,
    };
  }
  if (opts.probe === false) {
    return { section: "", label, status: "--", detail: `${url} not probed (--offline)` };
  }
  const hint = `route ${url} to this host's port ${global.server.port} ` +
    "(reverse proxy, tunnel), and check server.public_url / trigger.public_url";
  let res: Response;
  try {
    res = await opts.fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5000) });
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    if (!opts.daemonRunning) {
      return {
        section: "",
        label,
        status: "WARN",
        detail: `${url} unreachable (the daemon is not running): ${why}`,
        hint: `start it with \`pylon start\`, then ${hint}`,
      };
    }
    return { section: "", label, status: "FAIL", detail: `${url} unreachable: ${why}`, hint };
  }
  const body = await res.text().catch(() => "");
  if (res.status === 405 && body.includes("use POST")) {
    return { section: "", label, status: "ok", detail: `${url} reachable` };
  }
  if (body.includes("no pylon listens on")) {
    return {
      section: "",
      label,
      status: "WARN",
      detail: `${url} reaches pylon, but no active pylon listens on that path`,
      hint: "check trigger.path and that the daemon has loaded this pylon (`pylon list`)",
    };
  }
  return {
    section: "",
    label,
    status: "WARN",
    detail: `${url} answered ${res.status} (may not be routed to pylon)`,
    hint,
  };
}
