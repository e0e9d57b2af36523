/**
 * Conversion between `jobs` rows and {@linkcode Job} objects, and the SQL pieces built from a
 * {@linkcode JobPatch}. Private to `store/`.
 *
 * @module
 */

import type { SQLInputValue, SQLOutputValue } from "node:sqlite";
import { JOB_STATUSES, type JobStatus } from "../config/mod.ts";
import {
  type Job,
  type JobPatch,
  type ListOptions,
  type NewJob,
  TRIGGER_KINDS,
  type TriggerKind,
} from "./types.ts";

/** One result row, by column name. */
export type SqlRow = Record<string, SQLOutputValue>;

const ID_REGEXP = /^[0-9a-f][0-9a-f-]{7,63}$/;

/** Patchable fields and their columns. */
const PATCH_COLUMNS: Record<keyof JobPatch, string> = {
  containerId: "container_id",
  exitCode: "exit_code",
  result: "result",
  error: "error",
  sessionId: "session_id",
  prompt: "prompt",
  repo: "repo",
  ref: "ref",
  thread: "thread",
  threadKey: "thread_key",
  notified: "notified",
  dedupeKey: "dedupe_key",
  deadlineAt: "deadline_at",
  startedAt: "started_at",
};

/** `SET` assignments (`col = ?`) and their arguments for the fields present in `patch`. */
export function patchAssignments(patch: JobPatch): { sets: string[]; args: SQLInputValue[] } {
  const sets: string[] = [];
  const args: SQLInputValue[] = [];
  for (const [key, column] of Object.entries(PATCH_COLUMNS) as [keyof JobPatch, string][]) {
    if (!Object.hasOwn(patch, key) || patch[key] === undefined) continue;
    sets.push(`${column} = ?`);
    args.push(toSql(patch[key]!));
  }
  return { sets, args };
}

function toSql(value: string | number | Date | null): SQLInputValue {
  return value instanceof Date ? epochMs(value) : value;
}

/** A date as INTEGER epoch milliseconds. @throws {RangeError} for an invalid date */
export function epochMs(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("Cannot store an invalid date in a job");
  return ms;
}

/**
 * The INSERT columns and arguments of a new job, and the job exactly as it will read back (the
 * payload and headers go through JSON, like the stored copy), so an insert needs no `RETURNING`.
 *
 * @throws {TypeError} on a malformed job
 */
export function insertRow(
  job: NewJob,
  now: Date,
): { columns: string[]; args: SQLInputValue[]; stored: Job } {
  if (!ID_REGEXP.test(job.id)) {
    throw new TypeError(
      `Cannot insert job "${job.id}": ids are lowercase uuids (crypto.randomUUID)`,
    );
  }
  assertStatus(job.status);
  if (job.status !== "queued" && job.status !== "awaiting_approval") {
    throw new TypeError(
      `Cannot insert job ${job.id} as "${job.status}": new jobs are queued or awaiting_approval`,
    );
  }
  if (!TRIGGER_KINDS.includes(job.trigger)) {
    throw new TypeError(`Cannot insert job ${job.id}: unknown trigger kind "${job.trigger}"`);
  }
  const createdAt = new Date(epochMs(job.createdAt ?? now));
  const payload = JSON.stringify(job.payload ?? null);
  const headers = JSON.stringify(job.headers ?? {});
  const stored: Job = {
    id: job.id,
    pylon: job.pylon,
    status: job.status,
    trigger: job.trigger,
    deliveryId: job.deliveryId ?? null,
    payload: JSON.parse(payload),
    headers: JSON.parse(headers),
    createdAt,
    queuedAt: job.status === "queued" ? createdAt : null,
    startedAt: null,
    finishedAt: null,
    deadlineAt: null,
    containerId: null,
    exitCode: null,
    attempt: job.attempt ?? 1,
    parentId: job.parentId ?? null,
    result: null,
    error: null,
    sessionId: job.sessionId ?? null,
    prompt: null,
    repo: null,
    ref: null,
    thread: job.thread ?? null,
    threadKey: null,
    notified: null,
    dedupeKey: null,
    repeats: 1,
  };
  const values: Record<string, SQLInputValue> = {
    id: stored.id,
    pylon: stored.pylon,
    status: stored.status,
    "trigger_kind": stored.trigger,
    "delivery_id": stored.deliveryId,
    payload,
    headers,
    "created_at": createdAt.getTime(),
    "queued_at": stored.queuedAt?.getTime() ?? null,
    attempt: stored.attempt,
    "parent_id": stored.parentId,
    "session_id": stored.sessionId,
    thread: stored.thread,
  };
  return { columns: Object.keys(values), args: Object.values(values), stored };
}

/**
 * The SELECT of `JobStore.list()`; null when it cannot match anything (no statuses).
 *
 * @throws {RangeError} for a limit that is not a positive integer
 */
export function listQuery(options: ListOptions): { sql: string; args: SQLInputValue[] } | null {
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`Cannot list jobs: limit must be a positive integer, got ${limit}`);
  }
  const where: string[] = [];
  const args: SQLInputValue[] = [];
  if (options.status !== undefined) {
    const statuses: readonly string[] = typeof options.status === "string"
      ? [options.status]
      : options.status;
    statuses.forEach(assertStatus);
    if (statuses.length === 0) return null;
    where.push(`status IN (${statuses.map(() => "?").join(", ")})`);
    args.push(...statuses);
  }
  if (options.before) {
    where.push("created_at < ?");
    args.push(epochMs(options.before));
  }
  return {
    sql: `SELECT * FROM jobs ${where.length ? "WHERE " + where.join(" AND ") : ""}
      ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    args: [...args, limit],
  };
}

/** @throws {TypeError} unless `status` is a known job status */
export function assertStatus(status: string): asserts status is JobStatus {
  if (!(JOB_STATUSES as readonly string[]).includes(status)) {
    throw new TypeError(`Unknown job status "${status}": use one of ${JOB_STATUSES.join(", ")}`);
  }
}

/** The job stored in `row` (a `SELECT *` or `RETURNING *` row). */
export function rowToJob(row: SqlRow): Job {
  return {
    id: text(row, "id"),
    pylon: text(row, "pylon"),
    status: text(row, "status") as JobStatus,
    trigger: text(row, "trigger_kind") as TriggerKind,
    deliveryId: textOrNull(row, "delivery_id"),
    payload: JSON.parse(text(row, "payload")),
    headers: JSON.parse(text(row, "headers")) as Record<string, string>,
    createdAt: new Date(int(row, "created_at")),
    queuedAt: dateOrNull(row, "queued_at"),
    startedAt: dateOrNull(row, "started_at"),
    finishedAt: dateOrNull(row, "finished_at"),
    deadlineAt: dateOrNull(row, "deadline_at"),
    containerId: textOrNull(row, "container_id"),
    exitCode: intOrNull(row, "exit_code"),
    attempt: int(row, "attempt"),
    parentId: textOrNull(row, "parent_id"),
    result: textOrNull(row, "result"),
    error: textOrNull(row, "error"),
    sessionId: textOrNull(row, "session_id"),
    prompt: textOrNull(row, "prompt"),
    repo: textOrNull(row, "repo"),
    ref: textOrNull(row, "ref"),
    thread: textOrNull(row, "thread"),
    threadKey: textOrNull(row, "thread_key"),
    notified: textOrNull(row, "notified"),
    dedupeKey: textOrNull(row, "dedupe_key"),
    repeats: int(row, "repeats"),
  };
}

function text(row: SqlRow, column: string): string {
  return String(row[column]);
}

function textOrNull(row: SqlRow, column: string): string | null {
  const v = row[column];
  return v === null || v === undefined ? null : String(v);
}

function int(row: SqlRow, column: string): number {
  return Number(row[column]);
}

function intOrNull(row: SqlRow, column: string): number | null {
  const v = row[column];
  return v === null || v === undefined ? null : Number(v);
}

function dateOrNull(row: SqlRow, column: string): Date | null {
  const v = intOrNull(row, column);
  return v === null ? null : new Date(v);
}
