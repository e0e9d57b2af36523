/**
 * The JSON shape of a job, shared by the control API and `pylon jobs --json`.
 *
 * @module
 */

import type { Job } from "./types.ts";

/** A job as JSON (snake_case, ISO times); the payload only when asked for. */
export function jobToJson(job: Job, options: { payload?: boolean } = {}): Record<string, unknown> {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: job.id,
    pylon: job.pylon,
    status: job.status,
    trigger: job.trigger,
    attempt: job.attempt,
    parent_id: job.parentId,
    delivery_id: job.deliveryId,
    repeats: job.repeats,
    dedupe_key: job.dedupeKey,
    supersede_key: job.supersedeKey,
    created_at: iso(job.createdAt),
    queued_at: iso(job.queuedAt),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    deadline_at: iso(job.deadlineAt),
    container_id: job.containerId,
    exit_code: job.exitCode,
    session_id: job.sessionId,
    result: job.result,
    error: job.error,
    ...(options.payload ? { payload: job.payload, headers: job.headers } : {}),
  };
}
