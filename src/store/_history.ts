/**
 * The SQL of a job's status history (`job_events`): every statement that changes a status
 * records the change in the same transaction, by an `INSERT ... SELECT` run just before the
 * `UPDATE` with the same guard, so a guarded change that loses writes no row. Private to
 * `store/`.
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

/** Records the creation of job `?` (arguments: id, status, at, reason). */
export const RECORD_INSERT_SQL =
  "INSERT INTO job_events (job_id, from_status, to_status, at, reason) VALUES (?, NULL, ?, ?, ?)";

/**
 * Records a change of the jobs that `where` selects from their current status (arguments: to,
 * at, reason, then those of `where`).
 */
export function recordChangeSql(where: string): string {
  return `INSERT INTO job_events (job_id, from_status, to_status, at, reason)
    SELECT id, status, ?, ?, ? FROM jobs WHERE ${where}`;
}

/** The history of one job, oldest first (argument: the job id). */
export const HISTORY_SQL = `SELECT from_status, to_status, at, reason FROM job_events
  WHERE job_id = ? ORDER BY at, id`;

/** A `job_events` row (as read by {@linkcode HISTORY_SQL}) as a {@linkcode JobStatusChange}. */
export function rowToChange(row: Record<string, SQLOutputValue>): JobStatusChange {
  return {
    from: row.from_status === null ? null : String(row.from_status) as JobStatus,
    status: String(row.to_status) as JobStatus,
    at: new Date(Number(row.at)),
    reason: row.reason === null ? null : String(row.reason),
  };
}
