/**
 * What `pylon nexus` shows, as plain data: pylons (their configuration merged with what the
 * daemon knows of them), jobs, and tool calls waiting for a person. The wire JSON of the control
 * API is parsed here, leniently: fields the daemon does not send yet (per-pylon spend, `waiting`,
 * tool approvals) read as absent, and the dashboard falls back to what it can compute itself.
 *
 * Pure: no I/O, no terminal.
 *
 * @module
 */

import type { JobStatus } from "../config/mod.ts";

/** A pylon's trigger as the detail view shows it. */
export type TriggerView =
  | { type: "webhook"; path: string | null }
  | {
    type: "cron";
    cron: string;
    description: string | null;
    timezone: string | null;
    nextRun: Date | null;
  };

/** One pylon: its file's settings and the daemon's view of it. */
export interface PylonView {
  name: string;
  /** `active` (served), `disabled`, or `not_loaded` (its file has a problem). */
  state: "active" | "disabled" | "not_loaded";
  description: string;
  trigger: TriggerView | null;
  webhookUrl: string | null;
  workspace: string;
  agent: string;
  channel: string;
  topic: string | null;
  message: string | null;
  /** False when jobs wait for approval first. */
  autoRun: boolean;
  prompt: string;
  /** Why the file does not load, with its fix. */
  problem: string | null;
  /** Dollars spent today (the daemon's figure, else summed from the jobs read). */
  costToday: number | null;
  costMonth: number | null;
  /** Share of finished jobs that completed (0..1), when the daemon reports it. */
  successRate: number | null;
}

/** One job, as the tables show it. */
export interface JobView {
  id: string;
  pylon: string;
  status: JobStatus;
  trigger: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  costUsd: number | null;
  /** `tool approval` while an agent waits for a person to allow a tool call. */
  waiting: string | null;
}

/** One tool call an agent waits on (`GET /api/jobs/<id>/tool-calls`). */
export interface ToolCallView {
  jobId: string;
  pylon: string;
  callId: string;
  tool: string;
  summary: string;
  rule: string | null;
  expiresAt: Date | null;
}

/** Everything one refresh reads. */
export interface Snapshot {
  pylons: PylonView[];
  /** Newest first, across pylons. */
  jobs: JobView[];
  /** Jobs waiting for a person: approvals, held jobs, tool approvals. */
  waiting: JobView[];
  toolCalls: ToolCallView[];
  /** True when a daemon answered (actions go through it). */
  daemon: boolean;
}

/** An action on a job, a pylon or a waiting tool call. */
export type NexusAction =
  | { kind: "approve" | "ignore" | "kill" | "retry"; job: string }
  | { kind: "fire" | "enable" | "disable"; pylon: string }
  | { kind: "allow" | "allow_for_job" | "deny"; job: string; call: string };

/** Statuses in which a job waits for a person to decide. */
export const DECIDABLE_STATUSES: readonly JobStatus[] = ["awaiting_approval", "held"];

/** Statuses a kill applies to; a finished job is never changed by `x`. */
export const KILLABLE_STATUSES: readonly JobStatus[] = [
  "running",
  "queued",
  "held",
  "awaiting_approval",
];

/** Statuses a retry applies to. */
export const RETRYABLE_STATUSES: readonly JobStatus[] = [
  "completed",
  "failed",
  "timed_out",
  "killed",
];

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function date(v: unknown): Date | null {
  if (typeof v !== "string") return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A job from the API's JSON (`GET /api/jobs`, the `job` event); null when it is not one. */
export function parseJob(raw: unknown): JobView | null {
  if (raw === null || typeof raw !== "object") return null;
  const r = raw as Record<string, unknown>;
  const id = str(r.id);
  const pylon = str(r.pylon);
  const status = str(r.status);
  const created = date(r.created_at);
  if (!id || !pylon || !status || !created) return null;
  return {
    id,
    pylon,
    status: status as JobStatus,
    trigger: str(r.trigger) ?? "",
    createdAt: created,
    startedAt: date(r.started_at),
    finishedAt: date(r.finished_at),
    error: str(r.error),
    costUsd: num(r.cost_usd),
    waiting: str(r.waiting),
  };
}

/** Tool calls from `GET /api/jobs/<id>/tool-calls`; an unknown shape reads as none. */
export function parseToolCalls(job: JobView, raw: unknown): ToolCallView[] {
  if (!Array.isArray(raw)) return [];
  const out: ToolCallView[] = [];
  for (const item of raw) {
    if (item === null || typeof item !== "object") continue;
    const r = item as Record<string, unknown>;
    const callId = str(r.call_id);
    if (!callId) continue;
    out.push({
      jobId: job.id,
      pylon: job.pylon,
      callId,
      tool: str(r.tool) ?? "?",
      summary: str(r.summary) ?? "",
      rule: str(r.rule),
      expiresAt: date(r.expires_at),
    });
  }
  return out;
}

/** What `GET /api/pylons` adds to a pylon's file settings, read leniently. */
export interface DaemonPylonFacts {
  state: PylonView["state"];
  webhookUrl: string | null;
  trigger: TriggerView | null;
  costToday: number | null;
  costMonth: number | null;
  successRate: number | null;
  /** Why it is disabled or does not load. */
  reason: string | null;
}

/** Per-pylon facts from `GET /api/pylons`, by name. */
export function parseDaemonPylons(raw: unknown): Map<string, DaemonPylonFacts> {
  const out = new Map<string, DaemonPylonFacts>();
  if (!Array.isArray(raw)) return out;
  for (const item of raw) {
    if (item === null || typeof item !== "object") continue;
    const r = item as Record<string, unknown>;
    const name = str(r.name);
    if (!name) continue;
    const state = str(r.state);
    out.set(name, {
      state: state === "active" || state === "disabled" || state === "not_loaded"
        ? state
        : r.enabled === false
        ? "disabled"
        : "active",
      webhookUrl: str(r.webhook_url),
      trigger: parseTrigger(r.trigger),
      costToday: numberAt(r, "cost", "today_usd"),
      costMonth: numberAt(r, "cost", "month_usd"),
      successRate: numberAt(r, "success_rate", "rate"),
      reason: str(r.reason),
    });
  }
  return out;
}

/** `r[key][field]` when it is a number (`cost.today_usd`, `success_rate.rate`). */
function numberAt(r: Record<string, unknown>, key: string, field: string): number | null {
  const v = r[key];
  if (v === null || typeof v !== "object") return null;
  return num((v as Record<string, unknown>)[field]);
}

function parseTrigger(raw: unknown): TriggerView | null {
  if (raw === null || typeof raw !== "object") return null;
  const r = raw as Record<string, unknown>;
  if (r.type === "cron" && typeof r.cron === "string") {
    return {
      type: "cron",
      cron: r.cron,
      description: str(r.description),
      timezone: str(r.timezone),
      nextRun: date(r.next_run),
    };
  }
  if (r.type === "webhook") return { type: "webhook", path: str(r.path) };
  return null;
}

/** Start of the local day of `now` in `zone` is hard without a library; UTC day is used. */
export function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** Dollars the jobs of `pylon` created since `since` cost, or null when none reported a cost. */
export function spentSince(jobs: readonly JobView[], pylon: string, since: Date): number | null {
  let total: number | null = null;
  for (const j of jobs) {
    if (j.pylon !== pylon || j.createdAt < since || j.costUsd === null) continue;
    total = (total ?? 0) + j.costUsd;
  }
  return total;
}
