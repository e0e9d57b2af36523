/**
 * The JSON shape of a job, shared by the control API and `pylon jobs --json`.
 *
 * @module
 */

import { NO_REDACTION, type Redactor } from "../log/mod.ts";
import type { Job, JobStatusChange, JobUsage } from "./types.ts";
import { totalTokens } from "./usage.ts";

/** Options of {@linkcode jobToJson}. */
export interface JobJsonOptions {
  /** Include the payload and the request headers. */
  payload?: boolean;
  /**
   * The pylon's redactor (`redactorFor(pylon)`): applied to the texts a `${VAR}` or an agent may
   * have put a secret in (result, error, dedupe and supersede keys, header values, e.g. a token
   * header a sender authenticates with). Results and errors are also stored redacted.
   */
  redactor?: Redactor | undefined;
}

/** A job as JSON (snake_case, ISO times); the payload only when asked for. */
export function jobToJson(job: Job, options: JobJsonOptions = {}): Record<string, unknown> {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  const r = options.redactor ?? NO_REDACTION;
  const text = (s: string | null) => (s === null ? null : r.redact(s));
  return {
    id: job.id,
    pylon: job.pylon,
    status: job.status,
    trigger: job.trigger,
    attempt: job.attempt,
    parent_id: job.parentId,
    delivery_id: job.deliveryId,
    repeats: job.repeats,
    dedupe_key: text(job.dedupeKey),
    supersede_key: text(job.supersedeKey),
    created_at: iso(job.createdAt),
    queued_at: iso(job.queuedAt),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    deadline_at: iso(job.deadlineAt),
    container_id: job.containerId,
    exit_code: job.exitCode,
    session_id: job.sessionId,
    result: text(job.result),
    error: text(job.error),
    ...usageToJson(job.usage),
    ...waitingToJson(job),
    ...(options.payload ? { payload: job.payload, headers: redactHeaders(job.headers, r) } : {}),
  };
}

/**
 * What a running job waits for: `waiting: "tool approval"` while tool calls wait for a person
 * (the job stays `running`, its deadline too), with their number; `null` and 0 otherwise.
 */
export function waitingToJson(job: Job): { waiting: string | null; "tool_calls_waiting": number } {
  const n = job.status === "running" ? job.toolCallsWaiting ?? 0 : 0;
  return { waiting: n > 0 ? "tool approval" : null, "tool_calls_waiting": n };
}

/**
 * A job's cost and usage as JSON fields (`cost_usd`, `cost_basis`, `usage`, `num_turns`,
 * `duration_api_ms`, `models`), null when the agent reported none. `cost_basis: "oauth"` marks
 * a dollar figure that is what a subscription's tokens would cost at API prices.
 */
export function usageToJson(usage: JobUsage | null): Record<string, unknown> {
  return {
    cost_usd: usage?.costUsd ?? null,
    cost_basis: usage?.costUsd == null ? null : usage.costBasis,
    usage: usage
      ? {
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        cache_read_input_tokens: usage.cacheReadTokens,
        cache_creation_input_tokens: usage.cacheCreationTokens,
        total_tokens: totalTokens(usage),
      }
      : null,
    num_turns: usage?.numTurns ?? null,
    duration_api_ms: usage?.durationApiMs ?? null,
    models: usage?.models ?? [],
  };
}

/**
 * A job's status history as JSON (`GET /api/jobs/<id>`): oldest first, ISO times, `reason`
 * only when there is one, redacted with the pylon's redactor like the job's error.
 */
export function historyToJson(
  history: readonly JobStatusChange[],
  redactor: Redactor = NO_REDACTION,
): Record<string, unknown>[] {
  return history.map((change) => ({
    status: change.status,
    from: change.from,
    at: change.at.toISOString(),
    ...(change.reason === null ? {} : { reason: redactor.redact(change.reason) }),
  }));
}

function redactHeaders(headers: Job["headers"], r: Redactor): Job["headers"] {
  if (!r.active || !headers) return headers;
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, r.redact(v)]));
}
