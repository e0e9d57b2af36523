/**
 * The SQL of `tool_calls` (tool approval, issue 14 §4): the calls an agent's hook asked about
 * and who decided them from where. Private to `store/`.
 *
 * @module
 */

import type { SQLInputValue, SQLOutputValue } from "node:sqlite";
import type { ToolCallRecord } from "./types.ts";

const COLUMNS = `job_id, call_id, tool, rule, digest, input, summary, requested_at, expires_at,
  decision, decided_by, decided_via, decided_at, reason`;

/** Inserts a waiting call unless the job has one with its id. */
export const INSERT_TOOL_CALL_SQL = `INSERT OR IGNORE INTO tool_calls
  (job_id, call_id, tool, rule, digest, input, summary, requested_at, expires_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Decides a call that waits (arguments: decision, by, via, at, reason, job id, call id). */
export const DECIDE_TOOL_CALL_SQL = `UPDATE tool_calls
  SET decision = ?, decided_by = ?, decided_via = ?, decided_at = ?, reason = ?
  WHERE job_id = ? AND call_id = ? AND decision IS NULL RETURNING ${COLUMNS}`;

/** A job's calls, oldest first (argument: job id). */
export const TOOL_CALLS_SQL = `SELECT ${COLUMNS} FROM tool_calls WHERE job_id = ?
  ORDER BY requested_at, call_id`;

/** A job's waiting calls, oldest first (argument: job id). */
export const PENDING_TOOL_CALLS_SQL = `SELECT ${COLUMNS} FROM tool_calls
  WHERE job_id = ? AND decision IS NULL ORDER BY requested_at, call_id`;

/** The insert's arguments. */
export function toolCallArgs(
  c: Omit<ToolCallRecord, "decision" | "decidedBy" | "decidedVia" | "decidedAt" | "reason">,
): SQLInputValue[] {
  return [
    c.jobId,
    c.callId,
    c.tool,
    c.rule,
    c.digest,
    c.input,
    c.summary,
    c.requestedAt.getTime(),
    c.expiresAt.getTime(),
  ];
}

/** A row of {@linkcode COLUMNS} as a record. */
export function rowToToolCall(row: Record<string, SQLOutputValue>): ToolCallRecord {
  const text = (
    v: SQLOutputValue | undefined,
  ) => (v === null || v === undefined ? null : String(v));
  return {
    jobId: String(row.job_id),
    callId: String(row.call_id),
    tool: String(row.tool),
    rule: String(row.rule),
    digest: String(row.digest),
    input: String(row.input),
    summary: String(row.summary),
    requestedAt: new Date(Number(row.requested_at)),
    expiresAt: new Date(Number(row.expires_at)),
    decision: text(row.decision),
    decidedBy: text(row.decided_by),
    decidedVia: text(row.decided_via),
    decidedAt: row.decided_at === null ? null : new Date(Number(row.decided_at)),
    reason: text(row.reason),
  };
}
