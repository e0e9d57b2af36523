/**
 * `JobStore` over one SQLite file per pylon (`$PYLON_HOME/data/<name>/jobs.db`), through
 * Deno's built-in `node:sqlite`: no native addon to load (about 20 MiB less resident memory
 * than `@libsql/client`), and prepared statements are kept and reused, where libsql's client
 * prepared every statement again and built each row with `defineProperty` (together ~70 % of
 * the daemon's CPU under webhook load; bench/README.md).
 *
 * Every method is one SQL statement or one transaction, so concurrent callers (and other
 * processes, such as `pylon jobs` while the daemon runs) never race on a read-modify-write.
 * Writes to jobs are group-committed (`_group_commit.ts`): concurrent webhooks and status
 * changes share one COMMIT, and each call resolves only once its write is committed. Nothing
 * is cached but statements: SQLite is the only source of truth.
 *
 * @module
 */

import { dirname } from "node:path";
import {
  DatabaseSync,
  type SQLInputValue,
  type SQLOutputValue,
  type StatementSync,
} from "node:sqlite";
import {
  JOB_STATUSES,
  type JobStatus,
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
} from "../config/mod.ts";
import { shortId } from "../errors.ts";
import {
  assertStatus,
  epochMs,
  INSERT_JOB_SQL,
  insertRow,
  JOB_COLUMNS_SQL,
  listQuery,
  patchAssignments,
  rowToJob,
  type SqlRow,
  USAGE_COLUMNS,
  usageOf,
} from "./_rows.ts";
import { GroupCommit } from "./_group_commit.ts";
import { cutReason, HISTORY_SQL, recordChangeSql, rowToChange } from "./_history.ts";
import { type Checkpoints, FALLBACK_AUTOCHECKPOINT_PAGES } from "./checkpointer.ts";
import { StoreError, storeError } from "./errors.ts";
import {
  DECIDE_TOOL_CALL_SQL,
  INSERT_TOOL_CALL_SQL,
  PENDING_TOOL_CALLS_SQL,
  rowToToolCall,
  TOOL_CALLS_SQL,
  toolCallArgs,
} from "./_tool_calls.ts";
import { assertSchemaCurrent, migrate } from "./migrations.ts";
import {
  type Clock,
  isTerminalStatus,
  type Job,
  type JobPatch,
  type JobStatusChange,
  type JobStore,
  type JobUsage,
  type ListOptions,
  type NewJob,
  type RecoverableJobs,
  TERMINAL_STATUSES,
  type ToolCallDecision,
  type ToolCallRecord,
  type UsageRecord,
} from "./types.ts";

/** Options of {@linkcode openJobStore}. */
export interface OpenJobStoreOptions {
  /** The pylon whose jobs the file holds. */
  pylon: string;
  /** Source of "now" for timestamps. @default {the system clock} */
  clock?: Clock | undefined;
  /**
   * Open an existing file without ever writing to it (CLI reads beside a running daemon): no
   * folder or file is created, nothing is migrated, and writes fail. A read-only connection can
   * never checkpoint or delete the WAL that the daemon's connection is writing to.
   */
  readOnly?: boolean | undefined;
  /**
   * Runs the WAL checkpoints of the file off the event loop (the daemon's `WalCheckpointer`);
   * without one, SQLite checkpoints inside the COMMIT that passes its threshold.
   */
  checkpoints?: Checkpoints | undefined;
  /**
   * How long one statement waits for another connection's lock, blocking the event loop
   * meanwhile (ms). The daemon, the only writer, keeps it short; a waiting write transaction
   * is retried asynchronously instead (`_group_commit.ts`). @default {BUSY_TIMEOUT_MS}
   */
  busyTimeoutMs?: number | undefined;
}

const SYSTEM_CLOCK: Clock = { now: () => new Date() };

/** Per-connection settings (the store keeps one connection, so they hold for every statement). */
const PRAGMAS = [
  "journal_mode = WAL",
  "synchronous = NORMAL",
  "foreign_keys = ON",
];

/**
 * How long a statement waits for another connection's lock before failing (ms). Short: the
 * wait blocks the event loop (`DatabaseSync` is synchronous). The daemon is the only writer of
 * its home (the home lock), and readers in WAL mode hold no lock a writer waits on, except for
 * a moment while a connection opens; a write that still finds the database busy is retried
 * without blocking (`_group_commit.ts`).
 */
export const BUSY_TIMEOUT_MS = 50;

/** Statements kept prepared per store; the SQL of `update()` and `list()` varies with options. */
const STATEMENT_CACHE_SIZE = 64;

// No RETURNING: the row is known, and `changes` says whether the delivery id was already taken.
const INSERT_SQL = `${INSERT_JOB_SQL}
  ON CONFLICT (delivery_id) WHERE delivery_id IS NOT NULL DO NOTHING`;

/**
 * Opens (creating it and its folder if needed) and migrates the job database at `path`;
 * `:memory:` gives a private in-memory database (unit tests).
 *
 * @throws {StoreError} when the file cannot be opened or was written by a newer pylon
 */
export async function openJobStore(path: string, options: OpenJobStoreOptions): Promise<JobStore> {
  const timeout = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  if (options.readOnly) {
    const db = connectReadOnly(path, timeout);
    try {
      assertSchemaCurrent(db, path);
    } catch (e) {
      db.close();
      throw e;
    }
    return new SqliteJobStore(db, path, options.pylon, options.clock ?? SYSTEM_CLOCK);
  }
  const db = await connect(path, timeout);
  try {
    for (const pragma of PRAGMAS) {
      try {
        db.exec(`PRAGMA ${pragma}`);
      } catch (e) {
        throw storeError(e, path, `set PRAGMA ${pragma}`);
      }
    }
    migrate(db, path);
    if (options.checkpoints?.watch(path)) {
      db.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    }
  } catch (e) {
    db.close();
    await options.checkpoints?.unwatch(path);
    throw e;
  }
  return new SqliteJobStore(db, path, options.pylon, options.clock ?? SYSTEM_CLOCK, {
    checkpoints: options.checkpoints,
  });
}

async function connect(path: string, timeout: number): Promise<DatabaseSync> {
  const memory = path === ":memory:";
  try {
    if (!memory) {
      await Deno.mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
      // SQLite creates the file with the process's umask (often 0644), and its -wal and -shm
      // with the file's mode: create it private first (an empty file is an empty database).
      await Deno.writeFile(path, new Uint8Array(), { createNew: true, mode: PRIVATE_FILE_MODE })
        .catch((e) => {
          if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
        });
    }
    // One connection: SQLite calls are synchronous, so a pool would add no throughput.
    return new DatabaseSync(path, { timeout });
  } catch (e) {
    throw storeError(e, path, "open the job database");
  }
}

function connectReadOnly(path: string, timeout: number): DatabaseSync {
  try {
    return new DatabaseSync(path, { readOnly: true, timeout });
  } catch (e) {
    throw storeError(e, path, "open the job database (read-only)");
  }
}

/** `StatementSync.setReturnArrays()` exists in Deno 2.9; its type definitions lack it. */
type ArrayModeStatement = StatementSync & { setReturnArrays(enabled: boolean): void };

class SqliteJobStore implements JobStore {
  readonly pylon: string;
  readonly path: string;
  #db: DatabaseSync;
  #clock: Clock;
  #closed = false;
  #writes: GroupCommit;
  /** Prepared statements by SQL text, least recently used first. */
  #statements = new Map<string, StatementSync>();

  readonly #checkpoints: Checkpoints | undefined;

  constructor(
    db: DatabaseSync,
    path: string,
    pylon: string,
    clock: Clock,
    options: { checkpoints?: Checkpoints | undefined } = {},
  ) {
    this.#checkpoints = options.checkpoints;
    this.#db = db;
    this.#writes = new GroupCommit(db);
    this.path = path;
    this.pylon = pylon;
    this.#clock = clock;
  }

  async insert(job: NewJob): Promise<{ job: Job; created: boolean }> {
    if (job.pylon !== this.pylon) {
      throw new TypeError(`Cannot insert a job of pylon "${job.pylon}" into "${this.pylon}"`);
    }
    const { args, stored } = insertRow(job, this.#clock.now());
    const op = `insert job ${shortId(job.id)}`;
    return await this.#write(op, () => {
      // Its creation needs no history row: HISTORY_SQL reads it from the job's own.
      const { changes } = this.#statement(INSERT_SQL, "objects").run(...args);
      if (changes === 1 || stored.deliveryId === null) return { job: stored, created: true };
      // Inside the write transaction, so the job holding the delivery id is still there.
      const [existing] = this.#jobs(
        op,
        `SELECT ${JOB_COLUMNS_SQL} FROM jobs WHERE delivery_id = ?`,
        [stored.deliveryId],
      );
      return { job: existing!, created: false };
    });
  }

  get(id: string): Promise<Job | null> {
    return settle(() =>
      this.#one(`read job ${shortId(id)}`, `SELECT ${JOB_COLUMNS_SQL} FROM jobs WHERE id = ?`, [id])
    );
  }

  findByPrefix(prefix: string, limit = 10): Promise<Job[]> {
    return settle(() => {
      const p = prefix.toLowerCase();
      if (p === "") return [];
      // A range on the primary key instead of LIKE, which is case-insensitive and unindexed.
      return this.#jobs(
        `find jobs by id prefix "${p}"`,
        `SELECT ${JOB_COLUMNS_SQL} FROM jobs WHERE id >= ? AND id < ? ORDER BY id LIMIT ?`,
        [p, p + "\uffff", limit],
      );
    });
  }

  findByDeliveryId(deliveryId: string): Promise<Job | null> {
    return settle(() =>
      this.#one(
        "find a job by delivery id",
        `SELECT ${JOB_COLUMNS_SQL} FROM jobs WHERE delivery_id = ?`,
        [deliveryId],
      )
    );
  }

  findDedupe(key: string, since: Date): Promise<Job | null> {
    return settle(() =>
      this.#one(
        "find a job by dedupe key",
        `SELECT ${JOB_COLUMNS_SQL} FROM jobs WHERE dedupe_key = ?
           AND (status IN ('awaiting_approval', 'queued', 'held', 'running') OR finished_at >= ?)
         ORDER BY created_at DESC, rowid DESC LIMIT 1`,
        [key, since.getTime()],
      )
    );
  }

  findByThreadKey(key: string): Promise<Job | null> {
    return settle(() =>
      this.#one(
        "find a job by thread",
        `SELECT ${JOB_COLUMNS_SQL} FROM jobs WHERE id IN
          (SELECT job_id FROM job_threads WHERE thread_key = ?)
          ORDER BY created_at DESC, rowid DESC LIMIT 1`,
        [key],
      )
    );
  }

  async addThreadKeys(id: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const op = `record the threads of job ${shortId(id)}`;
    const now = epochMs(this.#clock.now());
    await this.#write(op, () => {
      const insert = this.#statement(
        `INSERT OR IGNORE INTO job_threads (thread_key, job_id, created_at) VALUES (?, ?, ?)`,
        "objects",
      );
      for (const key of keys) insert.run(key, id, now);
    });
  }

  threadKeys(id: string): Promise<string[]> {
    return settle(() =>
      this.#rows(
        `read the threads of job ${shortId(id)}`,
        "SELECT thread_key FROM job_threads WHERE job_id = ? ORDER BY created_at, thread_key",
        [id],
      ).map((r) => String(r.thread_key))
    );
  }

  async transition(
    id: string,
    from: JobStatus | readonly JobStatus[],
    to: JobStatus,
    patch: JobPatch = {},
    reason?: string,
  ): Promise<Job | null> {
    const allowed: readonly JobStatus[] = typeof from === "string" ? [from] : from;
    for (const s of [...allowed, to]) assertStatus(s);
    if (allowed.length === 0) return null;
    const now = epochMs(this.#clock.now());
    const { sets, args } = patchAssignments(patch);
    const stamps: string[] = ["status = ?"];
    const stampArgs: SQLInputValue[] = [to];
    const stamp = (column: string) => {
      stamps.push(`${column} = ?`);
      stampArgs.push(now);
    };
    // A held job released keeps its place in the FIFO order.
    if (to === "queued" && !allowed.every((s) => s === "held")) stamp("queued_at");
    if (to === "running" && patch.startedAt === undefined) stamp("started_at");
    // A job that leaves a terminal status (a caller allowed it) is unfinished again.
    if (isTerminalStatus(to)) stamp("finished_at");
    else stamps.push("finished_at = NULL");
    const guard = `id = ? AND status IN (${allowed.map(() => "?").join(", ")})`;
    const sql = `UPDATE jobs SET ${[...stamps, ...sets].join(", ")}
      WHERE ${guard} RETURNING ${JOB_COLUMNS_SQL}`;
    const op = `move job ${shortId(id)} to ${to}`;
    return await this.#write(op, () => {
      // Before the UPDATE, under the same guard: it sees the status being left, and a
      // transition that loses the race records nothing.
      this.#statement(recordChangeSql(guard), "objects")
        .run(to, now, cutReason(reason ?? patch.error), id, ...allowed);
      return this.#one(op, sql, [...stampArgs, ...args, id, ...allowed]);
    });
  }

  history(id: string): Promise<JobStatusChange[]> {
    return settle(() =>
      this.#rows(`read the status history of job ${shortId(id)}`, HISTORY_SQL, [id])
        .map(rowToChange)
    );
  }

  async recordToolCall(
    call: Parameters<JobStore["recordToolCall"]>[0],
  ): Promise<boolean> {
    const op = `record a tool call of job ${shortId(call.jobId)}`;
    return await this.#write(
      op,
      () =>
        this.#statement(INSERT_TOOL_CALL_SQL, "objects").run(...toolCallArgs(call)).changes === 1,
    );
  }

  async decideToolCall(
    jobId: string,
    callId: string,
    d: ToolCallDecision,
  ): Promise<ToolCallRecord | null> {
    const op = `decide tool call ${callId} of job ${shortId(jobId)}`;
    return await this.#write(op, () => {
      const rows = this.#statement(DECIDE_TOOL_CALL_SQL, "objects")
        .all(d.decision, d.by, d.via, epochMs(d.at), cutReason(d.reason), jobId, callId);
      return rows[0] ? rowToToolCall(rows[0] as SqlRow) : null;
    });
  }

  toolCalls(jobId: string, options: { pending?: boolean } = {}): Promise<ToolCallRecord[]> {
    return settle(() =>
      this.#rows(
        `read the tool calls of job ${shortId(jobId)}`,
        options.pending ? PENDING_TOOL_CALLS_SQL : TOOL_CALLS_SQL,
        [jobId],
      ).map(rowToToolCall)
    );
  }

  async patch(id: string, patch: JobPatch): Promise<boolean> {
    const { sets, args } = patchAssignments(patch);
    if (sets.length === 0) return (await this.get(id)) !== null;
    const sql = `UPDATE jobs SET ${sets.join(", ")} WHERE id = ?`;
    const op = `update job ${shortId(id)}`;
    return await this.#write(
      op,
      () => this.#statement(sql, "objects").run(...args, id).changes === 1,
    );
  }

  async update(id: string, patch: JobPatch): Promise<Job | null> {
    const { sets, args } = patchAssignments(patch);
    if (sets.length === 0) return await this.get(id);
    const sql = `UPDATE jobs SET ${sets.join(", ")} WHERE id = ? RETURNING ${JOB_COLUMNS_SQL}`;
    const op = `update job ${shortId(id)}`;
    return await this.#write(op, () => this.#one(op, sql, [...args, id]));
  }

  supersede(key: string, byId: string, reason: string): Promise<Job[]> {
    const op = `supersede the waiting jobs of key ${JSON.stringify(key.slice(0, 60))}`;
    const now = epochMs(this.#clock.now());
    const guard =
      "supersede_key = ? AND id <> ? AND status IN ('queued', 'held', 'awaiting_approval')";
    return this.#write(op, () => {
      this.#statement(recordChangeSql(guard), "objects")
        .run("dismissed", now, cutReason(reason), key, byId);
      return this.#jobs(
        op,
        `UPDATE jobs SET status = 'dismissed', finished_at = ?, error = ?
          WHERE ${guard} RETURNING ${JOB_COLUMNS_SQL}`,
        [now, reason, key, byId],
      );
    });
  }

  incrementRepeats(id: string): Promise<Job | null> {
    const op = `count a repeat of job ${shortId(id)}`;
    return this.#write(
      op,
      () =>
        this.#one(
          op,
          `UPDATE jobs SET repeats = repeats + 1 WHERE id = ? RETURNING ${JOB_COLUMNS_SQL}`,
          [id],
        ),
    );
  }

  list(options: ListOptions = {}): Promise<Job[]> {
    return settle(() => {
      const query = listQuery(options);
      return query ? this.#jobs("list jobs", query.sql, query.args) : [];
    });
  }

  oldestQueued(): Promise<Job | null> {
    return settle(() =>
      this.#one(
        "find the oldest queued job",
        `SELECT ${JOB_COLUMNS_SQL} FROM jobs WHERE status = 'queued'
          ORDER BY queued_at, rowid LIMIT 1`,
        [],
      )
    );
  }

  countByStatus(options: { finishedSince?: Date } = {}): Promise<Record<JobStatus, number>> {
    return settle(() => {
      const since = options.finishedSince;
      const rows = this.#rows(
        "count jobs by status",
        since
          ? "SELECT status, count(*) AS n FROM jobs WHERE finished_at >= ? GROUP BY status"
          : "SELECT status, count(*) AS n FROM jobs GROUP BY status",
        since ? [epochMs(since)] : [],
      );
      const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<
        JobStatus,
        number
      >;
      for (const row of rows) {
        const status = String(row.status);
        if (Object.hasOwn(counts, status)) counts[status as JobStatus] = Number(row.n);
      }
      return counts;
    });
  }

  usageTotals(): Promise<JobUsage | null> {
    return settle(() => {
      const [row] = this.#rows(
        "sum the jobs' usage",
        `SELECT sum(cost_usd) AS cost_usd,
            CASE WHEN count(cost_usd) = 0 THEN NULL
              WHEN max(cost_basis = 'oauth') THEN 'oauth' ELSE max(cost_basis) END AS cost_basis,
            sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
            sum(cache_read_tokens) AS cache_read_tokens,
            sum(cache_creation_tokens) AS cache_creation_tokens,
            sum(num_turns) AS num_turns, sum(duration_api_ms) AS duration_api_ms,
            NULL AS models
          FROM jobs`,
        [],
      );
      return row ? usageOf(USAGE_COLUMNS.map((c) => row[c] ?? null)) : null;
    });
  }

  usageSince(since: Date | null): Promise<UsageRecord[]> {
    return settle(() => {
      const any = USAGE_COLUMNS.map((c) => `${c} IS NOT NULL`).join(" OR ");
      const rows = this.#rows(
        "read the jobs' usage",
        `SELECT id, pylon, parent_id, coalesce(finished_at, created_at) AS at,
            ${USAGE_COLUMNS.join(", ")}
          FROM jobs WHERE (${any}) AND coalesce(finished_at, created_at) >= ?
          ORDER BY at, rowid`,
        [since ? epochMs(since) : 0],
      );
      return rows.map((row) => ({
        id: String(row.id),
        pylon: String(row.pylon),
        parentId: row.parent_id == null ? null : String(row.parent_id),
        at: new Date(Number(row.at)),
        usage: usageOf(USAGE_COLUMNS.map((c) => row[c] ?? null))!,
      }));
    });
  }

  countQueued(): Promise<number> {
    return settle(() => {
      const rows = this.#rows(
        "count queued jobs",
        // Held jobs wait like queued ones, so they count toward docker.max_queue.
        "SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'held')",
        [],
      );
      return Number(rows[0]?.n ?? 0);
    });
  }

  recoverable(): Promise<RecoverableJobs> {
    return settle(() => {
      const jobs = this.#jobs(
        "read unfinished jobs",
        `SELECT ${JOB_COLUMNS_SQL} FROM jobs
          WHERE status IN ('queued', 'awaiting_approval', 'running')
          ORDER BY coalesce(queued_at, created_at), rowid`,
        [],
      );
      return {
        queued: jobs.filter((j) => j.status === "queued"),
        awaitingApproval: jobs.filter((j) => j.status === "awaiting_approval"),
        running: jobs.filter((j) => j.status === "running"),
      };
    });
  }

  prune(olderThan: Date): Promise<string[]> {
    return settle(() => {
      const rows = this.#rows(
        "prune old jobs",
        `DELETE FROM jobs WHERE status IN (${TERMINAL_STATUSES.map(() => "?").join(", ")})
          AND coalesce(finished_at, created_at) < ? RETURNING id`,
        [...TERMINAL_STATUSES, epochMs(olderThan)],
      );
      return rows.map((r) => String(r.id));
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#writes.flush(true);
    this.#closed = true;
    this.#statements.clear();
    // The worker's connection first: the last connection to close checkpoints and removes the
    // WAL, and that must be this one, which knows the file is done with.
    await this.#checkpoints?.unwatch(this.path);
    this.#db.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Runs `write` in the next group commit; resolves once it is committed. */
  async #write<T>(op: string, write: () => T): Promise<T> {
    this.#assertOpen(op);
    try {
      return await this.#writes.run(write);
    } catch (e) {
      throw storeError(e, this.path, op);
    }
  }

  #one(op: string, sql: string, args: SQLInputValue[]): Job | null {
    return this.#jobs(op, sql, args)[0] ?? null;
  }

  /** Runs a statement that returns {@linkcode JOB_COLUMNS_SQL}. */
  #jobs(op: string, sql: string, args: SQLInputValue[]): Job[] {
    this.#assertOpen(op);
    try {
      return (this.#statement(sql, "arrays").all(...args) as unknown as SQLOutputValue[][])
        .map(rowToJob);
    } catch (e) {
      throw storeError(e, this.path, op);
    }
  }

  #rows(op: string, sql: string, args: SQLInputValue[]): SqlRow[] {
    this.#assertOpen(op);
    try {
      return this.#statement(sql, "objects").all(...args) as SqlRow[];
    } catch (e) {
      throw storeError(e, this.path, op);
    }
  }

  /** The prepared statement of `sql`, kept for next time (each SQL text has one row shape). */
  #statement(sql: string, rows: "objects" | "arrays"): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement) {
      this.#statements.delete(sql);
    } else {
      statement = this.#db.prepare(sql);
      (statement as ArrayModeStatement).setReturnArrays(rows === "arrays");
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        this.#statements.delete(this.#statements.keys().next().value!);
      }
    }
    this.#statements.set(sql, statement);
    return statement;
  }

  #assertOpen(op: string): void {
    if (this.#closed) {
      throw new StoreError(`Cannot ${op} in ${this.path}: the job store is closed`, {
        dbPath: this.path,
        hint: "this is a bug in pylon, please report it",
      });
    }
  }
}

/**
 * Runs `read` now and hands back its result or error as a promise: SQLite answers
 * synchronously, the `JobStore` interface is asynchronous (a remote store would not be).
 */
function settle<T>(read: () => T): Promise<T> {
  try {
    return Promise.resolve(read());
  } catch (e) {
    return Promise.reject(e);
  }
}
