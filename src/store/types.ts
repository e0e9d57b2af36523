/**
 * The job model: one row of a pylon's `jobs.db`, the fields a caller supplies to create one, and
 * the fields it may change later.
 *
 * @module
 */

import type { JobStatus } from "../config/mod.ts";

/** What started a job. */
export type TriggerKind = "webhook" | "cron" | "manual" | "retry" | "follow-up";

/** Every trigger kind, for validation. */
export const TRIGGER_KINDS: readonly TriggerKind[] = [
  "webhook",
  "cron",
  "manual",
  "retry",
  "follow-up",
];

/** Statuses a job never leaves on its own; only these are pruned. */
export const TERMINAL_STATUSES: readonly JobStatus[] = [
  "completed",
  "failed",
  "timed_out",
  "killed",
  "dismissed",
];

/** Whether `status` is one of {@linkcode TERMINAL_STATUSES}. */
export function isTerminalStatus(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * What a job's agent reported it used (result.json's `cost_usd`, `usage`, `num_turns`,
 * `duration_api_ms`, `models`); each figure is null when the agent did not report it.
 */
export interface JobUsage {
  /** In US dollars, as the agent computed it (see {@linkcode JobUsage.costBasis}). */
  costUsd: number | null;
  /**
   * How to read `costUsd`: `"api"` is what the provider bills for the tokens; `"oauth"` means a
   * subscription ran the job, so the figure is what the tokens would cost at API prices, not
   * what the subscriber pays. Null when the pylon's auth was unknown.
   */
  costBasis: CostBasis | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheCreationTokens: number | null;
  /** Model turns (Claude Code's `num_turns`, OpenCode's steps). */
  numTurns: number | null;
  /** Time spent waiting for the model's API, in milliseconds. */
  durationApiMs: number | null;
  /** The models the agent called. */
  models: string[];
}

/** How a job's dollar figure was computed: see {@linkcode JobUsage.costBasis}. */
export type CostBasis = "api" | "oauth";

/** One run of a pylon, as stored. */
export interface Job {
  /** uuid v4, supplied by the caller. */
  id: string;
  pylon: string;
  status: JobStatus;
  trigger: TriggerKind;
  /** e.g. `X-GitHub-Delivery`; unique per pylon when not null. */
  deliveryId: string | null;
  /** The JSON body that triggered the job. */
  payload: unknown;
  /** Lower-cased request headers worth keeping (the caller filters secrets out). */
  headers: Record<string, string>;
  createdAt: Date;
  /** When it (last) entered `queued`: the FIFO order key across pylons. */
  queuedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** When a running job must be killed; survives restarts. */
  deadlineAt: Date | null;
  containerId: string | null;
  exitCode: number | null;
  /** 1 for a first run; a retry has its parent's attempt + 1. */
  attempt: number;
  /** The job this one retries or follows up. */
  parentId: string | null;
  result: string | null;
  error: string | null;
  /** Agent session; follow-ups resume it. */
  sessionId: string | null;
  /** Rendered when the job starts. */
  prompt: string | null;
  repo: string | null;
  ref: string | null;
  /** Channel thread reference, opaque JSON text. */
  thread: string | null;
  /** `<channel key>|<thread>` of the job's first chat thread (all of them: `threadKeys`). */
  threadKey: string | null;
  /** The last job status announced on its channel (announcements still owed are retried). */
  notified: string | null;
  /** The rendered `trigger.dedupe` key, when the pylon has one. */
  dedupeKey: string | null;
  /** Events counted on this job (dedupe); 1 on insert. */
  repeats: number;
  /** The rendered `trigger.supersede` key: a newer job with the same key replaces this one while
   * it waits. */
  supersedeKey: string | null;
  /** SHA-256 (hex) of the request body that created the job, when it came with a delivery id. */
  bodyDigest: string | null;
  /** What the agent reported it used; null when it reported nothing (or has not finished). */
  usage: JobUsage | null;
  /** Tool calls waiting for a person's decision (tool approval); absent is 0. */
  toolCallsWaiting?: number;
}

/** One tool call the agent's approval hook asked about (`tool_calls`), and its decision. */
export interface ToolCallRecord {
  jobId: string;
  callId: string;
  tool: string;
  /** The `approve_tools` rule it matched. */
  rule: string;
  /** SHA-256 (hex) of the exact input JSON the hook holds. */
  digest: string;
  /** The input as shown (JSON text, redacted). */
  input: string;
  summary: string;
  requestedAt: Date;
  expiresAt: Date;
  /** null while it waits. */
  decision: string | null;
  decidedBy: string | null;
  decidedVia: string | null;
  decidedAt: Date | null;
  reason: string | null;
}

/** A decision as {@linkcode JobStore.decideToolCall} records it. */
export interface ToolCallDecision {
  decision: string;
  by: string;
  via: string;
  at: Date;
  reason: string;
}

/** One change of a job's status, as kept in its history. */
export interface JobStatusChange {
  /** The status it left; null when the job was created (or for rows from before history). */
  from: JobStatus | null;
  /** The status it entered. */
  status: JobStatus;
  at: Date;
  /** Why, when known: the job's error (cut short), the superseding job, the trigger. */
  reason: string | null;
}

/** What a caller supplies to create a job; the store fills in the rest. */
export type NewJob =
  & Pick<Job, "id" | "pylon" | "status" | "trigger" | "payload" | "headers">
  & Partial<
    Pick<
      Job,
      | "deliveryId"
      | "attempt"
      | "parentId"
      | "sessionId"
      | "thread"
      | "createdAt"
      | "dedupeKey"
      | "supersedeKey"
      | "bodyDigest"
    >
  >
  & {
    /**
     * The payload's JSON text as it arrived (a webhook's body), stored as is; `payload` must be
     * what it parses to, and is kept without the copy through JSON a payload otherwise gets.
     */
    payloadJson?: string | undefined;
  };

/** The fields a job may change after insert, besides its status. */
export type JobPatch = Partial<
  Pick<
    Job,
    | "containerId"
    | "exitCode"
    | "result"
    | "error"
    | "sessionId"
    | "prompt"
    | "repo"
    | "ref"
    | "thread"
    | "threadKey"
    | "notified"
    | "dedupeKey"
    | "supersedeKey"
    | "deadlineAt"
    | "startedAt"
    | "usage"
  >
>;

/** Options of {@linkcode JobStore.list}. */
export interface ListOptions {
  /** Only jobs in this status (or any of these). */
  status?: JobStatus | readonly JobStatus[] | undefined;
  /** At most this many jobs. @default {20} */
  limit?: number | undefined;
  /** Only jobs created strictly before this time (paging). */
  before?: Date | undefined;
  /** Only jobs created at or before this time (paging across pylons). */
  until?: Date | undefined;
  /**
   * Only jobs after this job of the store in newest-first order (a paging cursor): created
   * before it, or at the same millisecond and inserted before it. Unknown ids match nothing.
   */
  beforeJob?: string | undefined;
  /** Only the jobs that retry or follow up this job (`parentId`). */
  parent?: string | undefined;
  /** Only jobs started by one of these trigger kinds. */
  trigger?: readonly TriggerKind[] | undefined;
  /**
   * Only jobs whose id starts with this text, or whose pylon name, error or result contains it
   * (case-insensitive for ASCII; `%` and `_` match themselves). At most
   * {@linkcode MAX_SEARCH_CHARS} characters.
   */
  text?: string | undefined;
}

/** The longest `ListOptions.text` (a search, not a document). */
export const MAX_SEARCH_CHARS = 200;

/** One job's usage, as `JobStore.usageSince()` reads it. */
export interface UsageRecord {
  id: string;
  pylon: string;
  parentId: string | null;
  /** When it finished (or was created, when it has no finish time). */
  at: Date;
  usage: JobUsage;
}

/** Jobs the daemon must pick up again after a restart. */
export interface RecoverableJobs {
  /** In FIFO order. */
  queued: Job[];
  awaitingApproval: Job[];
  running: Job[];
}

/** Wall clock, injected so tests can pin "now". */
export interface Clock {
  now(): Date;
}

/** The durable job history of one pylon. SQLite is the only source of truth: nothing is cached. */
export interface JobStore extends AsyncDisposable {
  /** The pylon whose jobs this store holds. */
  readonly pylon: string;
  /** The database file. */
  readonly path: string;
  /** Inserts a job; a known `deliveryId` returns the existing job with `created: false`. */
  insert(job: NewJob): Promise<{ job: Job; created: boolean }>;
  /** The job with this id, or null. */
  get(id: string): Promise<Job | null>;
  /** Jobs whose id starts with `prefix` (case-insensitive), at most `limit` (default 10). */
  findByPrefix(prefix: string, limit?: number): Promise<Job[]>;
  /** The job created for this delivery id, or null. */
  findByDeliveryId(deliveryId: string): Promise<Job | null>;
  /**
   * The newest job with `dedupe_key = key` that is waiting, running, or finished after `since`.
   */
  findDedupe(key: string, since: Date): Promise<Job | null>;
  /** The newest job in the chat thread `key` (any of its {@linkcode JobStore.threadKeys}). */
  findByThreadKey(key: string): Promise<Job | null>;
  /** Records chat threads of a job (one per chat channel), so replies there find it. */
  addThreadKeys(id: string, keys: readonly string[]): Promise<void>;
  /** The chat threads of a job, oldest first. */
  threadKeys(id: string): Promise<string[]>;
  /**
   * Moves a job from one of `from` to `to` in one guarded UPDATE; null when it was not in `from`.
   * Its history records `reason` when given (who decided, from where), else the patch's error.
   */
  transition(
    id: string,
    from: JobStatus | readonly JobStatus[],
    to: JobStatus,
    patch?: JobPatch,
    reason?: string,
  ): Promise<Job | null>;
  /** The status changes of a job, oldest first (empty for an unknown job). */
  history(id: string): Promise<JobStatusChange[]>;
  /** Records a tool call that waits; false when the job already has one with this call id. */
  recordToolCall(
    call: Omit<ToolCallRecord, "decision" | "decidedBy" | "decidedVia" | "decidedAt" | "reason">,
  ): Promise<boolean>;
  /** Decides a waiting call in one guarded UPDATE; null when it is unknown or decided already. */
  decideToolCall(
    jobId: string,
    callId: string,
    decision: ToolCallDecision,
  ): Promise<ToolCallRecord | null>;
  /** A job's tool calls, oldest first; only the waiting ones with `pending`. */
  toolCalls(jobId: string, options?: { pending?: boolean }): Promise<ToolCallRecord[]>;
  /** Changes non-status fields; null when the job does not exist. */
  update(id: string, patch: JobPatch): Promise<Job | null>;
  /**
   * Changes non-status fields without reading the job back (what a writer that needs no answer
   * uses on a hot path); false when the job does not exist.
   */
  patch(id: string, patch: JobPatch): Promise<boolean>;
  /**
   * Dismisses the jobs with `supersede_key = key`, other than `byId`, that are still queued or
   * awaiting approval (running ones finish), recording `reason` as their error.
   * Returns the dismissed jobs.
   */
  supersede(key: string, byId: string, reason: string): Promise<Job[]>;
  /** Adds one to `repeats`; null when the job does not exist. */
  incrementRepeats(id: string): Promise<Job | null>;
  /** Jobs newest first. */
  list(options?: ListOptions): Promise<Job[]>;
  /** The queued job that has waited longest, or null. */
  oldestQueued(): Promise<Job | null>;
  /**
   * How many jobs are in each status (every status present); with `finishedSince`, only the
   * jobs that finished at or after it.
   */
  countByStatus(options?: { finishedSince?: Date }): Promise<Record<JobStatus, number>>;
  /** How many jobs are queued. */
  countQueued(): Promise<number>;
  /** The sum of every kept job's usage (SQL sums, for `/metrics`); null when none has any. */
  usageTotals(): Promise<JobUsage | null>;
  /** The jobs with usage that finished at or after `since` (all when null), oldest first. */
  usageSince(since: Date | null): Promise<UsageRecord[]>;
  /** Non-terminal jobs, for recovery after a restart. */
  recoverable(): Promise<RecoverableJobs>;
  /** Deletes terminal jobs finished before `olderThan`; returns their ids. */
  prune(olderThan: Date): Promise<string[]>;
  /** Closes the database; later calls throw. Idempotent. */
  close(): Promise<void>;
}
