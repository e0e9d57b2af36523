/**
 * `GET /api/pylons`: every pylon the daemon knows of, with what the dashboards show of it: its
 * trigger (path and webhook URL, or cron schedule, zone and next run), workspace, agent and
 * channels (no secrets), whether it is active, disabled or not loaded (and why), its last job,
 * success rate, cost today and this month, the jobs waiting for a person, and job counts by
 * status. Read-only.
 *
 * Definitions (README, "The control API"): the success rate is completed jobs over finished
 * ones (completed, failed, timed out, killed; dismissed jobs never ran) among the jobs that
 * finished in the last 30 days, null when none did. Cost today / this month is what the
 * pylon's jobs reported in that calendar day / month of the pylon's budget zone when it has a
 * budget, else of the daemon's local zone; the same figures the budget checks read.
 *
 * @module
 */

import {
  type JobStatus,
  type LoadedGlobal,
  loadPylon,
  type PylonPaths,
  type ResolvedPylon,
  resolvePylon,
} from "../../config/mod.ts";
import { ConfigError, PylonError } from "../../errors.ts";
import { describeCron, nextRuns } from "../../cron/mod.ts";
import { redactorFor } from "../../log/mod.ts";
import { budgetWindow } from "../../queue/mod.ts";
import type { JobStore, StoreRegistry } from "../../store/mod.ts";
import { problemFields } from "../pylon_loader.ts";
import type { PylonTable } from "../pylon_table.ts";

/** What the pylons listing needs. */
export interface PylonsDeps {
  table: PylonTable;
  stores: StoreRegistry;
  /** Every pylon folder's name (active, disabled or not loadable). @default {the active ones} */
  pylonNames?(): Promise<string[]>;
  /** Source of "now" for the next cron run and the cost windows. @default {the system clock} */
  clock?: { now(): Date };
  /** The daemon's local zone: the cost windows of pylons without a budget. @default {the host's} */
  zone?: string;
  /**
   * A pylon that is not active, read from its folder: its resolved config (a disabled pylon),
   * or why it does not load (`file:line: reason`). Absent: neither is shown.
   */
  inactive?(name: string): Promise<InactivePylon>;
  /** Where the daemon listens, once it does: webhook URLs when no `public_url` is set. */
  listenAddress?(): { host: string; port: number } | undefined;
  /** `server.public_url` of config.yaml, if set (it wins over the listen address). */
  serverPublicUrl?: string | undefined;
}

/** What {@linkcode PylonsDeps.inactive} finds. */
export type InactivePylon = { resolved: ResolvedPylon } | { problem: string };

/** How a pylon stands in the daemon. */
export type PylonState = "active" | "disabled" | "not_loaded";

/** The days the success rate looks back. */
export const SUCCESS_RATE_DAYS = 30;

/** One pylon as `GET /api/pylons` shows it. */
export interface PylonSummary {
  name: string;
  /** False only for a pylon with `disabled: true` (or one the daemon was not started with). */
  enabled: boolean;
  state: PylonState;
  /** Why it is disabled or not loaded; null when active. */
  reason: string | null;
  /** Null when the pylon is not loaded (its file does not load). */
  trigger: TriggerSummary | null;
  "webhook_url": string | null;
  workspace: WorkspaceSummary | null;
  agent: { type: string; model: string | null } | null;
  /** The channel kinds it reports to (`telegram`, `slack`, `github`, `webhook`, `stdout`). */
  channels: string[] | null;
  jobs: Record<JobStatus, number> | null;
  /** Its newest job. */
  "last_job": LastJob | null;
  "success_rate": SuccessRate | null;
  cost: CostSummary | null;
  /** Jobs waiting for a person: approval before they run, or release over budget. */
  waiting: { "awaiting_approval": number; held: number } | null;
}

/** A pylon's trigger: the webhook path and URL, or the cron schedule with its zone and next run. */
export type TriggerSummary =
  | { type: "webhook"; path: string | null; url: string | null }
  | {
    type: "cron";
    cron: string;
    description: string | null;
    timezone: string;
    "next_run": string | null;
  };

/** Where a pylon's agent works; a repository URL without credentials. */
export interface WorkspaceSummary {
  type: string;
  repo: string | null;
  ref: string | null;
  path: string | null;
}

/** A pylon's newest job. */
export interface LastJob {
  id: string;
  status: JobStatus;
  "created_at": string;
  "finished_at": string | null;
}

/** Completed over finished jobs, among those that finished in the last 30 days. */
export interface SuccessRate {
  completed: number;
  finished: number;
  /** `completed / finished`, from 0 to 1; null when no job finished. */
  rate: number | null;
  days: number;
}

/** What a pylon's jobs reported they cost (US dollars), by calendar day and month of `timezone`. */
export interface CostSummary {
  "today_usd": number;
  "month_usd": number;
  timezone: string;
}

/** Every known pylon in name order. */
export async function listPylons(deps: PylonsDeps): Promise<PylonSummary[]> {
  const names = new Set([...await deps.pylonNames?.() ?? [], ...deps.table.names()]);
  const now = deps.clock?.now() ?? new Date();
  const out: PylonSummary[] = [];
  for (const name of [...names].sort()) {
    const active = deps.table.get(name);
    const state: PylonState = active
      ? "active"
      : deps.table.isBlocked(name)
      ? "not_loaded"
      : "disabled";
    const found = active ? undefined : await deps.inactive?.(name);
    const resolved = active?.resolved ??
      (found && "resolved" in found && state === "disabled" ? found.resolved : undefined);
    const store = deps.stores.get(name);
    const jobs = store ? await store.countByStatus() : null;
    out.push({
      name,
      enabled: state !== "disabled",
      state,
      reason: state === "active"
        ? null
        : found && "problem" in found
        ? found.problem
        : state === "disabled"
        ? "disabled: true in its pylon.yaml (enable it with `pylon enable`)"
        : "it does not load; see the daemon log",
      trigger: resolved ? triggerSummary(resolved, now, webhookUrlOf(resolved, deps)) : null,
      "webhook_url": resolved ? webhookUrlOf(resolved, deps) : null,
      workspace: resolved ? workspaceSummary(resolved) : null,
      agent: resolved
        ? { type: resolved.agent.type, model: resolved.agent.settings.model ?? null }
        : null,
      channels: resolved ? [...resolved.channel.types] : null,
      jobs,
      ...(store ? await jobFigures(store, resolved, now, deps.zone) : NO_FIGURES),
      waiting: jobs ? { "awaiting_approval": jobs.awaiting_approval, held: jobs.held } : null,
    });
  }
  return out;
}

const NO_FIGURES = { "last_job": null, "success_rate": null, cost: null } as const;

/** The figures read from a pylon's jobs: last job, success rate, cost. */
async function jobFigures(
  store: JobStore,
  pylon: ResolvedPylon | undefined,
  now: Date,
  localZone: string | undefined,
): Promise<Pick<PylonSummary, "last_job" | "success_rate" | "cost">> {
  const [last] = await store.list({ limit: 1 });
  const since = new Date(now.getTime() - SUCCESS_RATE_DAYS * 86_400_000);
  const counts = await store.countByStatus({ finishedSince: since });
  const finished = counts.completed + counts.failed + counts.timed_out + counts.killed;
  const timezone = pylon?.budget?.timezone ?? localZone ??
    Intl.DateTimeFormat().resolvedOptions().timeZone;
  const day = budgetWindow(now, timezone, "day");
  const month = budgetWindow(now, timezone, "month");
  const records = await store.usageSince(month.start);
  const sum = (from: Date) =>
    round(records.filter((r) => r.at >= from).reduce((n, r) => n + (r.usage.costUsd ?? 0), 0));
  return {
    "last_job": last
      ? {
        id: last.id,
        status: last.status,
        "created_at": last.createdAt.toISOString(),
        "finished_at": last.finishedAt?.toISOString() ?? null,
      }
      : null,
    "success_rate": {
      completed: counts.completed,
      finished,
      rate: finished === 0 ? null : counts.completed / finished,
      days: SUCCESS_RATE_DAYS,
    },
    cost: { "today_usd": sum(day.start), "month_usd": sum(month.start), timezone },
  };
}

/** Dollars to a millionth (sums of floats otherwise show 0.30000000000000004). */
function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/**
 * The URL a sender posts to: from `trigger.public_url` or `server.public_url` when set, else
 * the address the daemon listens on (the configured port may have been overridden by
 * `pylon start --port`); null for a cron pylon.
 */
function webhookUrlOf(pylon: ResolvedPylon, deps: PylonsDeps): string | null {
  const path = pylon.config.trigger.path;
  if (pylon.webhookUrl === undefined || path === undefined) return null;
  const addr = deps.listenAddress?.();
  if (pylon.config.trigger.public_url || deps.serverPublicUrl || !addr) return pylon.webhookUrl;
  const host = ["0.0.0.0", "::", "", "[::]"].includes(addr.host)
    ? "localhost"
    : addr.host.includes(":") && !addr.host.startsWith("[")
    ? `[${addr.host}]`
    : addr.host;
  return `http://${host}:${addr.port}${path}`;
}

function triggerSummary(pylon: ResolvedPylon, now: Date, url: string | null): TriggerSummary {
  const trigger = pylon.config.trigger;
  if (trigger.type !== "cron" || trigger.cron === undefined) {
    return { type: "webhook", path: trigger.path ?? null, url };
  }
  const timezone = pylon.timezone;
  let next: Date | undefined;
  let description: string | null = null;
  try {
    [next] = nextRuns(trigger.cron, { timezone, from: now, count: 1 });
    description = describeCron(trigger.cron);
  } catch {
    // a schedule that loaded has both; none is better than a failed listing
  }
  return {
    type: "cron",
    cron: trigger.cron,
    description,
    timezone,
    "next_run": next?.toISOString() ?? null,
  };
}

/** The workspace without secrets: credentials in a repository URL are dropped, then redacted. */
function workspaceSummary(pylon: ResolvedPylon): WorkspaceSummary {
  const w = pylon.config.workspace;
  const redactor = redactorFor(pylon);
  const clean = (text: string | undefined) =>
    text === undefined ? null : redactor.redact(withoutCredentials(text));
  return { type: w.type, repo: clean(w.repo), ref: clean(w.ref), path: clean(w.path) };
}

/** `https://user:token@host/x` as `https://host/x`; anything else as it is. */
function withoutCredentials(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, "$1");
}

/** What {@linkcode createInactiveReader} reads with. */
export interface InactiveReaderDeps {
  paths: PylonPaths;
  global: LoadedGlobal;
  table: PylonTable;
  /** The daemon's local zone (cron pylons that name none). */
  zone: string;
}

/**
 * Reads a pylon that is not active from its folder, as `GET /api/pylons` shows it: a disabled
 * pylon's config, or why it does not load now (the file, line and reason the daemon logged;
 * the API is the operator's, behind the token, so the reason may be shown there).
 */
export function createInactiveReader(deps: InactiveReaderDeps): (name: string) => Promise<
  InactivePylon
> {
  return async function readInactive(name) {
    let loaded;
    try {
      loaded = await loadPylon(deps.paths, name, deps.global);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const p = problemFields(e);
      return { problem: `${p.file}${p.line === undefined ? "" : `:${p.line}`}: ${p.reason}` };
    }
    let resolved: ResolvedPylon;
    try {
      resolved = resolvePylon(loaded.config, deps.global.config, {
        env: loaded.env,
        systemTimezone: deps.zone,
        secrets: loaded.secrets,
      });
    } catch (e) {
      if (!(e instanceof PylonError)) throw e;
      return { problem: e.message };
    }
    if (loaded.config.disabled) return { resolved };
    const path = loaded.config.trigger.path;
    const owner = path ? deps.table.pathOwner(path, name) : undefined;
    if (owner) {
      return {
        problem: `trigger.path ${path} is served by pylon "${owner}"; give one of them ` +
          "another path, or disable one",
      };
    }
    return { problem: "its last edit did not load; see the daemon log for the file and line" };
  };
}
