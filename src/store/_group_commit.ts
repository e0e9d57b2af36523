/**
 * Group commit for one SQLite connection. Each COMMIT in WAL mode costs about as much as the
 * INSERT it ends, so writes queued in the same turn of the event loop (concurrent webhooks) run
 * in one transaction; each caller's promise settles only after that COMMIT has returned, so a
 * write acknowledged to a caller is durable exactly as if it had committed alone.
 *
 * A batch that finds another connection holding the write lock is not waited for inside
 * SQLite (that wait would block the event loop): it is retried on a timer, with backoff, for up
 * to {@linkcode BUSY_DEADLINE_MS}.
 *
 * A batch first runs its writes one after the other with nothing between them (a SAVEPOINT and
 * its RELEASE per write cost about a fifth of an INSERT, for a failure that almost never
 * happens). Only when a write throws is the batch rolled back and run again with each write
 * inside its own SAVEPOINT: the write that fails (a constraint, a bad row) is rolled back alone
 * and rejects only its caller. Writes are plain statements on the connection, so running one
 * twice after a rollback does the same thing. Should SQLite abandon the whole transaction (a full
 * disk, an I/O error) or the COMMIT fail, every write of the batch runs again in its own
 * transaction, so each caller gets its own outcome. Private to `store/`.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";

interface QueuedWrite {
  write(): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** How long a batch waits for another connection's write lock before its writes fail (ms). */
export const BUSY_DEADLINE_MS = 10_000;
/** Longest pause between two attempts to take the write lock (ms). */
const BUSY_RETRY_MAX_MS = 100;

/** SQLITE_BUSY (5) and its extended codes: another connection holds a conflicting lock. */
function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" ? (code & 0xff) === 5 : /database is locked/.test(String(error));
}

/** Batches synchronous write functions on `db` into shared transactions. */
export class GroupCommit {
  readonly #db: DatabaseSync;
  /** Transaction control, prepared once: `exec()` would parse it again on every write. */
  readonly #sql: Record<"begin" | "commit" | "savepoint" | "release" | "undo", StatementSync>;
  #queue: QueuedWrite[] = [];
  /** The retry of a batch that found the database locked. */
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** When the waiting batch first found the database locked (`performance.now()`). */
  #busySince: number | undefined;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#sql = {
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      savepoint: db.prepare("SAVEPOINT write"),
      release: db.prepare("RELEASE write"),
      undo: db.prepare("ROLLBACK TO write"),
    };
  }

  /**
   * Queues `write` (synchronous statements on the connection) for the next batch; resolves with
   * its result once the batch is committed, or rejects with what it threw.
   */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      // After the I/O callbacks of this turn: every request that reached its write by then
      // shares the transaction, at no added wait when the daemon is idle.
      if (this.#queue.length === 1 && this.#retry === undefined) setImmediate(() => this.flush());
    });
  }

  /**
   * Commits what is queued now. When another connection holds the write lock, the batch waits
   * for a later turn (the event loop keeps running) until {@linkcode BUSY_DEADLINE_MS}; with
   * `final` (before the connection closes) it is tried once, now.
   */
  flush(final = false): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    try {
      this.#sql.begin.run();
    } catch (error) {
      if (!final && isBusy(error) && this.#waitForLock(batch)) return;
      this.#busySince = undefined;
      for (const queued of batch) queued.reject(error);
      return;
    }
    this.#busySince = undefined;
    const outcomes = batch.length === 1 ? [this.#alone(batch[0]!, true)] : this.#together(batch);
    batch.forEach((queued, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) queued.resolve(outcome.value);
      else queued.reject(outcome.error);
    });
  }

  /** Puts `batch` back in front and retries later; false once the lock waited too long. */
  #waitForLock(batch: QueuedWrite[]): boolean {
    const now = performance.now();
    this.#busySince ??= now;
    const waited = now - this.#busySince;
    if (waited >= BUSY_DEADLINE_MS) return false;
    this.#queue = [...batch, ...this.#queue];
    const delay = Math.min(BUSY_RETRY_MAX_MS, Math.max(1, waited / 4));
    this.#retry = setTimeout(() => this.flush(), delay);
    return true;
  }

  /** One write in its own transaction (already begun when `begun`). */
  #alone(queued: QueuedWrite, begun = false): Outcome {
    if (!begun) {
      try {
        this.#sql.begin.run();
      } catch (error) {
        return { ok: false, error };
      }
    }
    try {
      const value = queued.write();
      this.#sql.commit.run();
      return { ok: true, value };
    } catch (error) {
      this.#rollback();
      return { ok: false, error };
    }
  }

  /**
   * Several writes in one transaction (already begun), with nothing between them; when one
   * throws, the batch is rolled back and run again by {@linkcode GroupCommit.#guarded}.
   */
  #together(batch: QueuedWrite[]): Outcome[] {
    const outcomes: Outcome[] = [];
    try {
      for (const queued of batch) {
        outcomes.push({ ok: true, value: queued.write() });
        // A write that ended the transaction (SQLite abandons it on a full disk) must not let
        // the next ones run outside it, each committing alone.
        if (!this.#db.isTransaction) return this.#oneByOne(batch);
      }
    } catch {
      this.#rollback();
      try {
        this.#sql.begin.run();
      } catch {
        return batch.map((queued) => this.#alone(queued));
      }
      return this.#guarded(batch);
    }
    try {
      this.#sql.commit.run();
    } catch {
      return this.#oneByOne(batch);
    }
    return outcomes;
  }

  /** Several writes in one transaction (already begun), each behind a savepoint. */
  #guarded(batch: QueuedWrite[]): Outcome[] {
    const outcomes: Outcome[] = [];
    for (const queued of batch) {
      try {
        this.#sql.savepoint.run();
      } catch {
        return this.#oneByOne(batch);
      }
      try {
        const value = queued.write();
        this.#sql.release.run();
        outcomes.push({ ok: true, value });
      } catch (error) {
        try {
          this.#sql.undo.run();
          this.#sql.release.run();
        } catch {
          // SQLite abandoned the whole transaction (the savepoint is gone with it).
          return this.#oneByOne(batch);
        }
        outcomes.push({ ok: false, error });
      }
    }
    try {
      this.#sql.commit.run();
    } catch {
      this.#rollback();
      return this.#oneByOne(batch);
    }
    return outcomes;
  }

  /** The fallback when a shared transaction was lost: nothing of it is committed. */
  #oneByOne(batch: QueuedWrite[]): Outcome[] {
    this.#rollback();
    return batch.map((queued) => this.#alone(queued));
  }

  #rollback(): void {
    if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
  }
}
