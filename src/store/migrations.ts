/**
 * The schema of `jobs.db`, as an ordered list of steps. Each step runs in one write transaction
 * together with its `schema_version` bump, so a crash leaves the file at a whole version; a file
 * written by a newer pylon is refused rather than guessed at.
 *
 * Append new steps; never edit a released one.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { StoreError, storeError } from "./errors.ts";

/** The schema steps; step `i` takes the file from version `i` to `i + 1`. */
export const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE jobs (
      id           TEXT PRIMARY KEY NOT NULL,
      pylon        TEXT NOT NULL,
      status       TEXT NOT NULL,
      trigger_kind TEXT NOT NULL,
      delivery_id  TEXT,
      payload      TEXT NOT NULL,
      headers      TEXT NOT NULL DEFAULT '{}',
      created_at   INTEGER NOT NULL,
      queued_at    INTEGER,
      started_at   INTEGER,
      finished_at  INTEGER,
      deadline_at  INTEGER,
      container_id TEXT,
      exit_code    INTEGER,
      attempt      INTEGER NOT NULL DEFAULT 1,
      parent_id    TEXT REFERENCES jobs(id) ON DELETE SET NULL,
      result       TEXT,
      error        TEXT,
      session_id   TEXT,
      prompt       TEXT,
      repo         TEXT,
      ref          TEXT,
      thread       TEXT,
      repeats      INTEGER NOT NULL DEFAULT 1
    )`,
    // (status, queued_at) also serves every lookup by status alone (its prefix), so a separate
    // status index would only slow inserts down.
    "CREATE INDEX jobs_status_queued ON jobs (status, queued_at)",
    "CREATE INDEX jobs_created ON jobs (created_at)",
    "CREATE UNIQUE INDEX jobs_delivery ON jobs (delivery_id) WHERE delivery_id IS NOT NULL",
    // Deleting a parent must find its children without a table scan (ON DELETE SET NULL).
    "CREATE INDEX jobs_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL",
  ],
  [
    // Channels: which chat thread a job lives in (to route replies to it) and which of its
    // changes were already announced there (to retry what could not be posted).
    "ALTER TABLE jobs ADD COLUMN thread_key TEXT",
    "ALTER TABLE jobs ADD COLUMN notified TEXT",
    "CREATE INDEX jobs_thread_key ON jobs (thread_key, created_at) WHERE thread_key IS NOT NULL",
  ],
  [
    // trigger.dedupe: repeats of one alert are counted on one job.
    "ALTER TABLE jobs ADD COLUMN dedupe_key TEXT",
    "CREATE INDEX jobs_dedupe ON jobs (dedupe_key, created_at) WHERE dedupe_key IS NOT NULL",
  ],
  [
    // trigger.supersede: a newer event replaces the waiting jobs of the same key.
    "ALTER TABLE jobs ADD COLUMN supersede_key TEXT",
    "CREATE INDEX jobs_supersede ON jobs (supersede_key, status) WHERE supersede_key IS NOT NULL",
  ],
  [
    // A job reported to several chat channels has a thread in each; replies in any find it.
    `CREATE TABLE job_threads (
      thread_key TEXT NOT NULL,
      job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (thread_key, job_id)
    ) WITHOUT ROWID`,
    "CREATE INDEX job_threads_job ON job_threads (job_id)",
    `INSERT INTO job_threads (thread_key, job_id, created_at)
      SELECT thread_key, id, created_at FROM jobs WHERE thread_key IS NOT NULL`,
  ],
  [
    // A delivery id seen again with a different body is a sender's bug (409), not a redelivery.
    "ALTER TABLE jobs ADD COLUMN body_digest TEXT",
  ],
  [
    // Status history (the dashboard's timeline): one row per status change, written in the
    // transaction that changes the status; deleting (pruning) a job deletes its rows.
    `CREATE TABLE job_events (
      id          INTEGER PRIMARY KEY,
      job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      from_status TEXT,
      to_status   TEXT NOT NULL,
      at          INTEGER NOT NULL,
      reason      TEXT
    )`,
    "CREATE INDEX job_events_job ON job_events (job_id, at, id)",
    // Jobs from before: what their timestamps tell (the status they were created in is lost).
    `INSERT INTO job_events (job_id, from_status, to_status, at, reason)
      SELECT id, NULL, 'running', started_at, 'recorded before status history was kept'
      FROM jobs WHERE started_at IS NOT NULL AND status <> 'running'`,
    `INSERT INTO job_events (job_id, from_status, to_status, at, reason)
      SELECT id, CASE WHEN started_at IS NOT NULL AND status <> 'running' THEN 'running' END,
        status, coalesce(finished_at, started_at, queued_at, created_at),
        'recorded before status history was kept'
      FROM jobs`,
  ],
  [
    // Cost and usage as the agent reported them (result.json); cost_basis says whether the
    // dollars are billed ("api") or what a subscription's tokens would cost at API prices
    // ("oauth"). Columns, not JSON: `pylon cost` and /metrics sum them in SQL.
    "ALTER TABLE jobs ADD COLUMN cost_usd REAL",
    "ALTER TABLE jobs ADD COLUMN cost_basis TEXT",
    "ALTER TABLE jobs ADD COLUMN input_tokens INTEGER",
    "ALTER TABLE jobs ADD COLUMN output_tokens INTEGER",
    "ALTER TABLE jobs ADD COLUMN cache_read_tokens INTEGER",
    "ALTER TABLE jobs ADD COLUMN cache_creation_tokens INTEGER",
    "ALTER TABLE jobs ADD COLUMN num_turns INTEGER",
    "ALTER TABLE jobs ADD COLUMN duration_api_ms INTEGER",
    "ALTER TABLE jobs ADD COLUMN models TEXT",
  ],
  [
    // Tool approval (issue 14 §4): each call the agent's hook asked about, and who decided it
    // from where (the audit). A call with no decision yet is waiting; its requested_at is when
    // the daemon first saw it, so a restart does not restart its timeout.
    `CREATE TABLE tool_calls (
      job_id       TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      call_id      TEXT NOT NULL,
      tool         TEXT NOT NULL,
      rule         TEXT NOT NULL,
      digest       TEXT NOT NULL,
      input        TEXT NOT NULL,
      summary      TEXT NOT NULL,
      requested_at INTEGER NOT NULL,
      expires_at   INTEGER NOT NULL,
      decision     TEXT,
      decided_by   TEXT,
      decided_via  TEXT,
      decided_at   INTEGER,
      reason       TEXT,
      PRIMARY KEY (job_id, call_id)
    ) WITHOUT ROWID`,
  ],
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database `db` up to {@linkcode SCHEMA_VERSION}.
 *
 * @throws {StoreError} when the file was written by a newer pylon, or a step fails
 */
export function migrate(
  db: DatabaseSync,
  dbPath: string,
  steps: readonly (readonly string[])[] = MIGRATIONS,
): void {
  try {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  } catch (e) {
    throw storeError(e, dbPath, "create the schema_version table");
  }
  while (!applyNextStep(db, dbPath, steps));
}

/**
 * Checks, without writing, that a file opened read-only has the schema this pylon reads.
 *
 * @throws {StoreError} when the file is older (the daemon upgrades it when it opens it) or newer
 */
export function assertSchemaCurrent(
  db: DatabaseSync,
  dbPath: string,
  steps: readonly (readonly string[])[] = MIGRATIONS,
): void {
  let version: number;
  try {
    const hasTable = db.prepare(
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
    ).get();
    const row = hasTable ? db.prepare("SELECT version FROM schema_version").get() : undefined;
    version = row === undefined ? 0 : Number(row.version);
  } catch (e) {
    throw storeError(e, dbPath, "read the schema version");
  }
  if (version > steps.length) {
    throw new StoreError(
      `Cannot open ${dbPath}: it was written by a newer pylon (schema version ${version}, ` +
        `this pylon knows up to ${steps.length}); upgrade pylon`,
      { dbPath, hint: "install the newer pylon release that wrote this file" },
    );
  }
  if (version < steps.length) {
    throw new StoreError(
      `Cannot read ${dbPath}: its schema (version ${version}) is older than this pylon's ` +
        `(${steps.length}) and the running daemon has not upgraded it`,
      { dbPath, hint: "restart the daemon (`pylon restart`): it upgrades the file on start" },
    );
  }
}

/** Applies the first missing step under a write lock; true when nothing was left to do. */
function applyNextStep(
  db: DatabaseSync,
  dbPath: string,
  steps: readonly (readonly string[])[],
): boolean {
  try {
    // BEGIN IMMEDIATE: two processes opening the same file cannot both apply a step.
    db.exec("BEGIN IMMEDIATE");
  } catch (e) {
    throw storeError(e, dbPath, "start a schema migration");
  }
  try {
    const row = db.prepare("SELECT version FROM schema_version").get();
    const version = row === undefined ? 0 : Number(row.version);
    if (version > steps.length) {
      throw new StoreError(
        `Cannot open ${dbPath}: it was written by a newer pylon (schema version ${version}, ` +
          `this pylon knows up to ${steps.length}); upgrade pylon`,
        { dbPath, hint: "install the newer pylon release that wrote this file" },
      );
    }
    if (version === steps.length) {
      db.exec("ROLLBACK");
      return true;
    }
    for (const sql of steps[version]!) db.exec(sql);
    if (row === undefined) {
      db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(version + 1);
    } else {
      db.prepare("UPDATE schema_version SET version = ?").run(version + 1);
    }
    db.exec("COMMIT");
    return false;
  } catch (e) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw storeError(e, dbPath, "migrate the job database");
  }
}
