/**
 * The SQL of a job's status history (`job_events`): every statement that changes a status
 * records the change in the same transaction, by an `INSERT ... SELECT` run just before the
 * `UPDATE` with the same guard, so a guarded change that loses writes no row. Private to
 * `store/`.
 *
 * A job's creation is not written: its row says it all (the status it was created in is the
 * `from` of its first change, or its status while it has none; the time is `created_at`; the
 * reason is its trigger and whose retry or follow-up it is), and the INSERT of that history row
 * cost as much as the job's own, on the path that acknowledges webhooks (issue 17). Jobs whose
 * creation was written by earlier versions keep that row, and get no second one.
 *
 * @module
 */

import type { SQLOutputValue } from "node:sqlite";
import type { JobStatus } from "../config/mod.ts";
import type { JobStatusChange } from "./types.ts";

/** Longest reason kept (characters); the full error stays on the job. */
export const REASON_MAX = 200;

/** `reason` cut to {@linkcode REASON_MAX} characters, or null when empty. */
export function cutReason(reason: string | null | undefined): string | null {
  if (reason === null || reason === undefined) return null;
  const text = reason.trim();
  if (text === "") return null;
  const chars = Array.from(text);
  return chars.length <= REASON_MAX ? text : chars.slice(0, REASON_MAX - 1).join("") + "…";
}

/**
 * Records a change of the jobs that `where` selects from their current status (arguments: to,
 * at, reason, then those of `where`).
 */
export function recordChangeSql(where: string): string {
  return `INSERT INTO job_events (job_id, from_status, to_status, at, reason)
    SELECT id, status, ?, ?, ? FROM jobs WHERE ${where}`;
}

/** The history of one job, oldest first, its creation included (argument: the job id). */
export const HISTORY_SQL = `SELECT NULL AS from_status,
    coalesce((SELECT from_status FROM job_events WHERE job_id = ?1 ORDER BY at, id LIMIT 1),
      status) AS to_status,
    created_at AS at,
    CASE WHEN parent_id IS NULL THEN trigger_kind
      ELSE trigger_kind || ' of ' || substr(parent_id, 1, 8) END AS reason,
    0 AS written, 0 AS id
  FROM jobs WHERE id = ?1
    AND NOT EXISTS (SELECT 1 FROM job_events WHERE job_id = ?1 AND from_status IS NULL)
  UNION ALL
  SELECT from_status, to_status, at, reason, 1 AS written, id FROM job_events WHERE job_id = ?1
  ORDER BY at, written, id`;

/** A `job_events` row (as read by {@linkcode HISTORY_SQL}) as a {@linkcode JobStatusChange}. */
export function rowToChange(row: Record<string, SQLOutputValue>): JobStatusChange {
  return {
    from: row.from_status === null ? null : String(row.from_status) as JobStatus,
    status: String(row.to_status) as JobStatus,
    at: new Date(Number(row.at)),
    reason: row.reason === null ? null : String(row.reason),
  };
}
