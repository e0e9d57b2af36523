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
  type JobUsage,
  type ListOptions,
  MAX_SEARCH_CHARS,
  type NewJob,
  TRIGGER_KINDS,
  type TriggerKind,
} from "./types.ts";

/** One result row, by column name. */
export type SqlRow = Record<string, SQLOutputValue>;

const ID_REGEXP = /^[0-9a-f][0-9a-f-]{7,63}$/;

/** Patchable fields and their columns (`usage` spreads over {@linkcode USAGE_COLUMNS}). */
const PATCH_COLUMNS: Record<Exclude<keyof JobPatch, "usage">, string> = {
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
  supersedeKey: "supersede_key",
  deadlineAt: "deadline_at",
  startedAt: "started_at",
};

/** `SET` assignments (`col = ?`) and their arguments for the fields present in `patch`. */
export function patchAssignments(patch: JobPatch): { sets: string[]; args: SQLInputValue[] } {
  const sets: string[] = [];
  const args: SQLInputValue[] = [];
  type Plain = Exclude<keyof JobPatch, "usage">;
  for (const [key, column] of Object.entries(PATCH_COLUMNS) as [Plain, string][]) {
    if (!Object.hasOwn(patch, key) || patch[key] === undefined) continue;
    sets.push(`${column} = ?`);
    args.push(toSql(patch[key]!));
  }
  if (patch.usage !== undefined) {
    const values = usageValues(patch.usage);
    USAGE_COLUMNS.forEach((column, i) => {
      sets.push(`${column} = ?`);
      args.push(values[i]!);
    });
  }
  return { sets, args };
}

/** The columns of {@linkcode JobUsage}, in the order {@linkcode usageValues} gives them. */
export const USAGE_COLUMNS = [
  "cost_usd",
  "cost_basis",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_creation_tokens",
  "num_turns",
  "duration_api_ms",
  "models",
] as const;

function usageValues(usage: JobUsage | null): SQLInputValue[] {
  if (!usage) return USAGE_COLUMNS.map(() => null);
  return [
    usage.costUsd,
    usage.costBasis,
    usage.inputTokens,
    usage.outputTokens,
    usage.cacheReadTokens,
    usage.cacheCreationTokens,
    usage.numTurns,
    usage.durationApiMs,
    usage.models.length ? JSON.stringify(usage.models) : null,
  ];
}

/** The usage read back from the {@linkcode USAGE_COLUMNS}; null when all are null. */
export function usageOf(values: SQLOutputValue[]): JobUsage | null {
  if (values.every((v) => v === null || v === undefined)) return null;
  const [cost, basis, input, output, cacheRead, cacheCreation, turns, apiMs, models] = values;
  let names: string[] = [];
  try {
    const parsed = models == null ? [] : JSON.parse(String(models));
    if (Array.isArray(parsed)) names = parsed.map(String);
  } catch {
    names = [];
  }
  return {
    costUsd: numOrNull(cost),
    costBasis: basis === "api" || basis === "oauth" ? basis : null,
    inputTokens: numOrNull(input),
    outputTokens: numOrNull(output),
    cacheReadTokens: numOrNull(cacheRead),
    cacheCreationTokens: numOrNull(cacheCreation),
    numTurns: numOrNull(turns),
    durationApiMs: numOrNull(apiMs),
    models: names,
  };
}

function numOrNull(value: SQLOutputValue | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
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

/** The columns an INSERT of a new job sets, in the order of {@linkcode insertRow}'s `args`. */
const INSERT_COLUMNS = [
  "id",
  "pylon",
  "status",
  "trigger_kind",
  "delivery_id",
  "payload",
  "headers",
  "created_at",
  "queued_at",
  "attempt",
  "parent_id",
  "session_id",
  "thread",
  "dedupe_key",
  "supersede_key",
  "body_digest",
] as const;

/** The INSERT of {@linkcode INSERT_COLUMNS}, without a conflict clause. */
export const INSERT_JOB_SQL: string = `INSERT INTO jobs (${INSERT_COLUMNS.join(", ")})
  VALUES (${INSERT_COLUMNS.map(() => "?").join(", ")})`;

/**
 * The INSERT arguments of a new job, and the job exactly as it will read back (the payload goes
 * through JSON like the stored copy, unless it came as JSON text; the headers are strings and
 * are copied), so an insert needs no `RETURNING`.
 *
 * @throws {TypeError} on a malformed job
 */
export function insertRow(
  job: NewJob,
  now: Date,
): { args: SQLInputValue[]; stored: Job } {
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
  const payload = job.payloadJson ?? JSON.stringify(job.payload ?? null);
  const headers = JSON.stringify(job.headers ?? {});
  const stored: Job = {
    id: job.id,
    pylon: job.pylon,
    status: job.status,
    trigger: job.trigger,
    deliveryId: job.deliveryId ?? null,
    payload: job.payloadJson === undefined ? JSON.parse(payload) : job.payload,
    headers: { ...job.headers },
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
    dedupeKey: job.dedupeKey ?? null,
    repeats: 1,
    supersedeKey: job.supersedeKey ?? null,
    bodyDigest: job.bodyDigest ?? null,
    usage: null,
  };
  const values: Record<(typeof INSERT_COLUMNS)[number], SQLInputValue> = {
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
    "dedupe_key": stored.dedupeKey,
    "supersede_key": stored.supersedeKey,
    "body_digest": stored.bodyDigest,
  };
  return { args: INSERT_COLUMNS.map((column) => values[column]), stored };
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
  if (options.until) {
    where.push("created_at <= ?");
    args.push(epochMs(options.until));
  }
  if (options.beforeJob !== undefined) {
    // The same order as the ORDER BY below: (created_at, rowid) below the cursor's.
    where.push(`(created_at, rowid) < (SELECT created_at, rowid FROM jobs WHERE id = ?)`);
    args.push(options.beforeJob);
  }
  if (options.parent !== undefined) {
    where.push("parent_id = ?");
    args.push(options.parent);
  }
  if (options.trigger !== undefined) {
    options.trigger.forEach(assertTriggerKind);
    if (options.trigger.length === 0) return null;
    where.push(`trigger_kind IN (${options.trigger.map(() => "?").join(", ")})`);
    args.push(...options.trigger);
  }
  if (options.text !== undefined && options.text !== "") {
    if (options.text.length > MAX_SEARCH_CHARS) {
      throw new RangeError(
        `Cannot search jobs: the text is longer than ${MAX_SEARCH_CHARS} characters`,
      );
    }
    // Bound as a parameter; LIKE's wildcards in the text are escaped, so they match themselves.
    const like = options.text.replace(/[\\%_]/g, (c) => `\\${c}`);
    where.push(
      "(id LIKE ? ESCAPE '\\' OR pylon LIKE ? ESCAPE '\\' OR error LIKE ? ESCAPE '\\'" +
        " OR result LIKE ? ESCAPE '\\')",
    );
    args.push(`${like}%`, `%${like}%`, `%${like}%`, `%${like}%`);
  }
  return {
    sql: `SELECT ${JOB_COLUMNS_SQL} FROM jobs ${where.length ? "WHERE " + where.join(" AND ") : ""}
      ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    args: [...args, limit],
  };
}

/** @throws {TypeError} unless `kind` is a known trigger kind */
function assertTriggerKind(kind: string): asserts kind is TriggerKind {
  if (!(TRIGGER_KINDS as readonly string[]).includes(kind)) {
    throw new TypeError(`Unknown trigger kind "${kind}": use one of ${TRIGGER_KINDS.join(", ")}`);
  }
}

/** @throws {TypeError} unless `status` is a known job status */
export function assertStatus(status: string): asserts status is JobStatus {
  if (!(JOB_STATUSES as readonly string[]).includes(status)) {
    throw new TypeError(`Unknown job status "${status}": use one of ${JOB_STATUSES.join(", ")}`);
  }
}

/**
 * The columns of a job, in the order {@linkcode rowToJob} reads them. Job statements list them
 * instead of `*` and return rows as arrays: a 27-key object per row cost more than the row.
 */
const JOB_COLUMNS = [
  "id",
  "pylon",
  "status",
  "trigger_kind",
  "delivery_id",
  "payload",
  "headers",
  "created_at",
  "queued_at",
  "started_at",
  "finished_at",
  "deadline_at",
  "container_id",
  "exit_code",
  "attempt",
  "parent_id",
  "result",
  "error",
  "session_id",
  "prompt",
  "repo",
  "ref",
  "thread",
  "thread_key",
  "notified",
  "dedupe_key",
  "repeats",
  "supersede_key",
  "body_digest",
  // Tool calls waiting for a person (tool approval); counted, never stored twice.
  "(SELECT count(*) FROM tool_calls WHERE tool_calls.job_id = jobs.id AND decision IS NULL)",
  ...USAGE_COLUMNS,
] as const;

/** {@linkcode JOB_COLUMNS} as a SELECT list or RETURNING clause. */
export const JOB_COLUMNS_SQL: string = JOB_COLUMNS.join(", ");

/** The job in `row`: the values of {@linkcode JOB_COLUMNS_SQL}, in order. */
export function rowToJob(row: SQLOutputValue[]): Job {
  const [
    id,
    pylon,
    status,
    trigger,
    deliveryId,
    payload,
    headers,
    createdAt,
    queuedAt,
    startedAt,
    finishedAt,
    deadlineAt,
    containerId,
    exitCode,
    attempt,
    parentId,
    result,
    error,
    sessionId,
    prompt,
    repo,
    ref,
    thread,
    threadKey,
    notified,
    dedupeKey,
    repeats,
    supersedeKey,
    bodyDigest,
    toolCallsWaiting,
    ...usage
  ] = row;
  return {
    id: String(id),
    pylon: String(pylon),
    status: String(status) as JobStatus,
    trigger: String(trigger) as TriggerKind,
    deliveryId: textOrNull(deliveryId),
    payload: JSON.parse(String(payload)),
    headers: JSON.parse(String(headers)) as Record<string, string>,
    createdAt: new Date(Number(createdAt)),
    queuedAt: dateOrNull(queuedAt),
    startedAt: dateOrNull(startedAt),
    finishedAt: dateOrNull(finishedAt),
    deadlineAt: dateOrNull(deadlineAt),
    containerId: textOrNull(containerId),
    exitCode: intOrNull(exitCode),
    attempt: Number(attempt),
    parentId: textOrNull(parentId),
    result: textOrNull(result),
    error: textOrNull(error),
    sessionId: textOrNull(sessionId),
    prompt: textOrNull(prompt),
    repo: textOrNull(repo),
    ref: textOrNull(ref),
    thread: textOrNull(thread),
    threadKey: textOrNull(threadKey),
    notified: textOrNull(notified),
    dedupeKey: textOrNull(dedupeKey),
    repeats: Number(repeats),
    supersedeKey: textOrNull(supersedeKey),
    bodyDigest: textOrNull(bodyDigest),
    // Only when some wait: a job as inserted and as read back are the same object otherwise.
    ...(Number(toolCallsWaiting ?? 0) > 0 ? { toolCallsWaiting: Number(toolCallsWaiting) } : {}),
    usage: usageOf(usage),
  };
}

function textOrNull(value: SQLOutputValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

function intOrNull(value: SQLOutputValue | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function dateOrNull(value: SQLOutputValue | undefined): Date | null {
  const ms = intOrNull(value);
  return ms === null ? null : new Date(ms);
}
