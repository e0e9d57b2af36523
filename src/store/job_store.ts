/**
 * `JobStore` over one SQLite file per pylon (`$PYLON_HOME/pylons/<name>/jobs.db`).
 *
 * Every method is one SQL statement or one transaction, so concurrent callers (and other
 * processes, such as `pylon jobs` while the daemon runs) never race on a read-modify-write.
 * Nothing is cached: SQLite is the only source of truth.
 *
 * @module
 */

import { dirname } from "node:path";
import { createClient, type InStatement, type InValue, type ResultSet } from "@libsql/client";
import { JOB_STATUSES, type JobStatus } from "../config/mod.ts";
import { shortId } from "../errors.ts";
import {
  assertStatus,
  epochMs,
  insertRow,
  listQuery,
  patchAssignments,
  rowToJob,
} from "./_rows.ts";
import { StoreError, storeError } from "./errors.ts";
import { migrate } from "./migrations.ts";
import {
  type Clock,
  isTerminalStatus,
  type Job,
  type JobPatch,
  type JobStore,
  type ListOptions,
  type NewJob,
  type RecoverableJobs,
  TERMINAL_STATUSES,
} from "./types.ts";

/** Options of {@linkcode openJobStore}. */
export interface OpenJobStoreOptions {
  /** The pylon whose jobs the file holds. */
  pylon: string;
  /** Source of "now" for timestamps. @default {the system clock} */
  clock?: Clock | undefined;
}

const SYSTEM_CLOCK: Clock = { now: () => new Date() };

/** Per-connection settings (the store keeps one connection, so they hold for every statement). */
const PRAGMAS = [
  "journal_mode = WAL",
  "synchronous = NORMAL",
  "busy_timeout = 5000",
  "foreign_keys = ON",
];

/**
 * Opens (creating it and its folder if needed) and migrates the job database at `path`;
 * `:memory:` gives a private in-memory database (unit tests).
 *
 * @throws {StoreError} when the file cannot be opened or was written by a newer pylon
 */
export async function openJobStore(path: string, options: OpenJobStoreOptions): Promise<JobStore> {
  const client = await connect(path);
  try {
    for (const pragma of PRAGMAS) {
      await client.execute(`PRAGMA ${pragma}`).catch((e) => {
        throw storeError(e, path, `set PRAGMA ${pragma}`);
      });
    }
    await migrate(client, path);
  } catch (e) {
    client.close();
    throw e;
  }
  return new SqliteJobStore(client, path, options.pylon, options.clock ?? SYSTEM_CLOCK);
}

async function connect(path: string): Promise<LibsqlClient> {
  const memory = path === ":memory:";
  try {
    if (!memory) await Deno.mkdir(dirname(path), { recursive: true });
    // One connection: libsql's native calls are synchronous anyway, so a pool would add no
    // throughput, only connections without our PRAGMAs.
    return createClient({ url: "file:" + path, concurrency: 1, timeout: 5000 });
  } catch (e) {
    throw storeError(e, path, "open the job database");
  }
}

type LibsqlClient = ReturnType<typeof createClient>;

class SqliteJobStore implements JobStore {
  readonly pylon: string;
  readonly path: string;
  #client: LibsqlClient;
  #clock: Clock;
  #closed = false;

  constructor(client: LibsqlClient, path: string, pylon: string, clock: Clock) {
    this.#client = client;
    this.path = path;
    this.pylon = pylon;
    this.#clock = clock;
  }

  async insert(job: NewJob): Promise<{ job: Job; created: boolean }> {
    if (job.pylon !== this.pylon) {
      throw new TypeError(`Cannot insert a job of pylon "${job.pylon}" into "${this.pylon}"`);
    }
    const { columns, args, stored } = insertRow(job, this.#clock.now());
    const op = `insert job ${shortId(job.id)}`;
    // No RETURNING (it makes libsql's insert ~2.5x slower): the row is known, and
    // rowsAffected says whether the delivery id was already taken.
    const sql = `INSERT INTO jobs (${columns.join(", ")})
      VALUES (${columns.map(() => "?").join(", ")})
      ON CONFLICT (delivery_id) WHERE delivery_id IS NOT NULL DO NOTHING`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const rs = await this.#run(op, { sql, args });
      if (rs.rowsAffected === 1 || stored.deliveryId === null) {
        return { job: stored, created: true };
      }
      const existing = await this.findByDeliveryId(stored.deliveryId);
      if (existing) return { job: existing, created: false };
      // The job holding the delivery id was pruned in between: insert again.
    }
    throw new StoreError(
      `Cannot insert job ${shortId(job.id)} in ${this.path}: its delivery id keeps conflicting`,
      { dbPath: this.path, hint: "this is a bug in pylon, please report it" },
    );
  }

  async get(id: string): Promise<Job | null> {
    return await this.#one(`read job ${shortId(id)}`, "SELECT * FROM jobs WHERE id = ?", [id]);
  }

  async findByPrefix(prefix: string, limit = 10): Promise<Job[]> {
    const p = prefix.toLowerCase();
    if (p === "") return [];
    // A range on the primary key instead of LIKE, which is case-insensitive and unindexed.
    return await this.#many(
      `find jobs by id prefix "${p}"`,
      "SELECT * FROM jobs WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
      [p, p + "\uffff", limit],
    );
  }

  async findByDeliveryId(deliveryId: string): Promise<Job | null> {
    return await this.#one(
      "find a job by delivery id",
      "SELECT * FROM jobs WHERE delivery_id = ?",
      [deliveryId],
    );
  }

  async findDedupe(key: string, since: Date): Promise<Job | null> {
    return await this.#one(
      "find a job by dedupe key",
      `SELECT * FROM jobs WHERE dedupe_key = ?
         AND (status IN ('awaiting_approval', 'queued', 'running') OR finished_at >= ?)
       ORDER BY created_at DESC, rowid DESC LIMIT 1`,
      [key, since.getTime()],
    );
  }

  async findByThreadKey(key: string): Promise<Job | null> {
    return await this.#one(
      "find a job by thread",
      "SELECT * FROM jobs WHERE thread_key = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
      [key],
    );
  }

  async transition(
    id: string,
    from: JobStatus | readonly JobStatus[],
    to: JobStatus,
    patch: JobPatch = {},
  ): Promise<Job | null> {
    const allowed: readonly JobStatus[] = typeof from === "string" ? [from] : from;
    for (const s of [...allowed, to]) assertStatus(s);
    if (allowed.length === 0) return null;
    const now = epochMs(this.#clock.now());
    const { sets, args } = patchAssignments(patch);
    const stamps: string[] = ["status = ?"];
    const stampArgs: InValue[] = [to];
    const stamp = (column: string) => {
      stamps.push(`${column} = ?`);
      stampArgs.push(now);
    };
    if (to === "queued") stamp("queued_at");
    if (to === "running" && patch.startedAt === undefined) stamp("started_at");
    // A job that leaves a terminal status (a caller allowed it) is unfinished again.
    if (isTerminalStatus(to)) stamp("finished_at");
    else stamps.push("finished_at = NULL");
    return await this.#one(
      `move job ${shortId(id)} to ${to}`,
      `UPDATE jobs SET ${[...stamps, ...sets].join(", ")}
        WHERE id = ? AND status IN (${allowed.map(() => "?").join(", ")}) RETURNING *`,
      [...stampArgs, ...args, id, ...allowed],
    );
  }

  async update(id: string, patch: JobPatch): Promise<Job | null> {
    const { sets, args } = patchAssignments(patch);
    if (sets.length === 0) return await this.get(id);
    return await this.#one(
      `update job ${shortId(id)}`,
      `UPDATE jobs SET ${sets.join(", ")} WHERE id = ? RETURNING *`,
      [...args, id],
    );
  }

  async incrementRepeats(id: string): Promise<Job | null> {
    return await this.#one(
      `count a repeat of job ${shortId(id)}`,
      "UPDATE jobs SET repeats = repeats + 1 WHERE id = ? RETURNING *",
      [id],
    );
  }

  async list(options: ListOptions = {}): Promise<Job[]> {
    const query = listQuery(options);
    return query ? await this.#many("list jobs", query.sql, query.args) : [];
  }

  async oldestQueued(): Promise<Job | null> {
    return await this.#one(
      "find the oldest queued job",
      "SELECT * FROM jobs WHERE status = 'queued' ORDER BY queued_at, rowid LIMIT 1",
      [],
    );
  }

  async countByStatus(): Promise<Record<JobStatus, number>> {
    const rs = await this.#run(
      "count jobs by status",
      "SELECT status, count(*) AS n FROM jobs GROUP BY status",
    );
    const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
    for (const row of rs.rows) {
      const status = String(row.status);
      if (Object.hasOwn(counts, status)) counts[status as JobStatus] = Number(row.n);
    }
    return counts;
  }

  async countQueued(): Promise<number> {
    const rs = await this.#run(
      "count queued jobs",
      "SELECT count(*) AS n FROM jobs WHERE status = 'queued'",
    );
    return Number(rs.rows[0]?.n ?? 0);
  }

  async recoverable(): Promise<RecoverableJobs> {
    const jobs = await this.#many(
      "read unfinished jobs",
      `SELECT * FROM jobs WHERE status IN ('queued', 'awaiting_approval', 'running')
        ORDER BY coalesce(queued_at, created_at), rowid`,
      [],
    );
    return {
      queued: jobs.filter((j) => j.status === "queued"),
      awaitingApproval: jobs.filter((j) => j.status === "awaiting_approval"),
      running: jobs.filter((j) => j.status === "running"),
    };
  }

  async prune(olderThan: Date): Promise<string[]> {
    const rs = await this.#run("prune old jobs", {
      sql: `DELETE FROM jobs WHERE status IN (${TERMINAL_STATUSES.map(() => "?").join(", ")})
        AND coalesce(finished_at, created_at) < ? RETURNING id`,
      args: [...TERMINAL_STATUSES, epochMs(olderThan)],
    });
    return rs.rows.map((r) => String(r.id));
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#client.close();
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #one(op: string, sql: string, args: InValue[]): Promise<Job | null> {
    const rs = await this.#run(op, { sql, args });
    return rs.rows.length === 0 ? null : rowToJob(rs.rows[0]!);
  }

  async #many(op: string, sql: string, args: InValue[]): Promise<Job[]> {
    return (await this.#run(op, { sql, args })).rows.map(rowToJob);
  }

  async #run(op: string, stmt: InStatement): Promise<ResultSet> {
    this.#assertOpen(op);
    try {
      return await this.#client.execute(stmt);
    } catch (e) {
      throw storeError(e, this.path, op);
    }
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
