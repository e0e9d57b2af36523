/**
 * The queue's engine: starts queued jobs in FIFO order across pylons while fewer than
 * `docker.max_concurrent` run. The order lives in SQLite (`queued_at`); this module only holds
 * what cannot be persisted: the running count and one AbortController per running job.
 *
 * @module
 */

import type { Budget, ResolvedPylon } from "../config/mod.ts";
import { shortId } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import type { Job, JobUsage, StoreRegistry } from "../store/mod.ts";
import { type BudgetBlock, budgetBlock, RUN_ANYWAY, SKIPPED_OVER_BUDGET } from "./budget.ts";
import type { JobRunner, RunContext, RunOutcome } from "./runner.ts";

/** What the dispatcher needs. */
export interface DispatcherDeps {
  stores: StoreRegistry;
  /** Absent: jobs are accepted and stay queued until a daemon with a runner starts. */
  runner: JobRunner | undefined;
  /** The live config of a pylon; `undefined` when it was removed or is broken. */
  pylonOf(name: string): ResolvedPylon | undefined;
  /**
   * Whether the pylon `name` exists but is not loaded right now (its config is broken): its
   * queued jobs wait, where those of a removed or disabled pylon fail.
   */
  isWaiting?(name: string): boolean;
  maxConcurrent(): number;
  /** The cap on all pylons together (`budget` at the top of config.yaml); absent: none. */
  globalBudget?(): Budget | undefined;
  log: Logger;
  clock: { now(): Date };
  /**
   * Told about every status change this dispatcher makes (channels announce them), and once
   * more when a claimed job's agent has started (see {@linkcode Dispatcher.preparing}).
   */
  onChange?: (job: Job) => void;
  /** Delays between attempts to record a finished job's outcome (ms); the last one repeats. */
  recordRetryMs?: readonly number[];
}

/** Default delays between attempts to record an outcome: a full disk rarely clears at once. */
const RECORD_RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];

/** Starts and tracks running jobs. */
export class Dispatcher {
  readonly #deps: DispatcherDeps;
  readonly #running = new Map<string, AbortController>();
  /** Running jobs per pylon, for `agent.max_concurrent`. */
  readonly #perPylon = new Map<string, number>();
  /** Jobs claimed (`running`) whose agent has not started yet (image, workspace, container). */
  readonly #preparing = new Set<string>();
  #pumping = false;
  #again = false;
  #stopped = false;
  #idle: Promise<void> = Promise.resolve();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #paused = false;
  /** Wakes the queue at the next budget window reset while jobs are held. */
  #resetTimer: ReturnType<typeof setTimeout> | undefined;
  /** The earliest reset of a budget that held a job in the current pass (epoch ms). */
  #nextReset: number | undefined;
  /** Aborted by {@linkcode stop}: ends the waits between attempts to record an outcome. */
  readonly #stopping = new AbortController();

  constructor(deps: DispatcherDeps) {
    this.#deps = deps;
  }

  /** Number of jobs this daemon is running. */
  get runningCount(): number {
    return this.#running.size;
  }

  /**
   * Whether `jobId` is `running` but its agent has not started yet: the runner still builds or
   * pulls the image, prepares the workspace or creates the container. Channels say "started"
   * only once it has (the dispatcher calls `onChange` again then); a job that fails before is
   * reported failed without ever being reported started.
   */
  preparing(jobId: string): boolean {
    return this.#preparing.has(jobId);
  }

  /** Whether this daemon runs `jobId` right now. */
  isRunning(jobId: string): boolean {
    return this.#running.has(jobId);
  }

  /** Looks for work; cheap to call often (calls coalesce). */
  wake(): void {
    // While the runner is unavailable, only the retry timer looks again (not every webhook).
    if (this.#stopped || !this.#deps.runner || this.#retryTimer) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    this.#idle = this.#pump().catch((e) => {
      this.#deps.log.error("queue.pump_failed", { error: errorText(e) });
    }).finally(() => {
      this.#pumping = false;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  /** Resolves when the current pump pass is done (tests). */
  settled(): Promise<void> {
    return this.#idle;
  }

  /** Asks the runner to kill a running job; false when it does not run here. */
  kill(jobId: string, reason = "killed by request"): boolean {
    const controller = this.#running.get(jobId);
    if (!controller) return false;
    controller.abort(new Error(reason));
    return true;
  }

  /** Stops starting jobs. Running agents are left alone: the next daemon re-attaches. */
  stop(): void {
    this.#stopped = true;
    this.#stopping.abort();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    clearTimeout(this.#resetTimer);
    this.#resetTimer = undefined;
  }

  /** Hands jobs left `running` by a previous daemon to the runner. */
  async reattach(jobs: Job[]): Promise<void> {
    const runner = this.#deps.runner;
    if (!runner?.reattach) return;
    for (const job of jobs) {
      this.#launch(job, (pylon, ctx) => runner.reattach!(job, pylon, ctx), { reattached: true });
    }
    await Promise.resolve();
  }

  async #pump(): Promise<void> {
    this.#nextReset = undefined;
    try {
      await this.#pumpJobs();
    } finally {
      this.#scheduleReset();
    }
  }

  async #pumpJobs(): Promise<void> {
    const { stores, runner, log } = this.#deps;
    while (!this.#stopped && runner && this.#running.size < this.#deps.maxConcurrent()) {
      if (runner.available && !(await runner.available())) {
        if (!this.#retryTimer) {
          if (!this.#paused) {
            log.warn("queue.paused", { reason: "the runner is unavailable", retry_every_s: 5 });
          }
          this.#paused = true;
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = undefined;
            this.wake();
          }, 5000);
        }
        return;
      }
      if (this.#paused) {
        this.#paused = false;
        log.info("queue.resumed");
      }
      await this.#releaseHeld();
      // A pylon that exists but cannot load now (a broken edit) keeps its jobs queued, and so
      // does one running its `agent.max_concurrent` jobs: the others' jobs go first meanwhile.
      const next = await stores.oldestQueuedAcross((name) =>
        (this.#deps.isWaiting?.(name) ?? false) || this.#atOwnLimit(name)
      );
      if (!next) return;
      const pylon = this.#deps.pylonOf(next.pylon);
      const store = stores.get(next.pylon);
      if (!store) return;
      const now = this.#deps.clock.now();
      if (!pylon) {
        await store.transition(next.id, "queued", "failed", {
          error: `pylon "${next.pylon}" is not loaded (removed, disabled or broken)`,
        });
        log.warn("job.unrunnable", { pylon: next.pylon, job: shortId(next.id) });
        continue;
      }
      // Approved over budget (pylon approve on a held job): starts once whatever the budget.
      const block = next.error === RUN_ANYWAY ? null : await this.#budgetBlock(pylon);
      if (block) {
        await this.#hold(next, block);
        continue;
      }
      const claimed = await store.transition(next.id, "queued", "running", {
        startedAt: now,
        deadlineAt: new Date(now.getTime() + pylon.agent.timeoutMs),
      });
      if (!claimed) continue; // someone else (kill, another pass) moved it first
      this.#deps.onChange?.(claimed);
      this.#launch(claimed, (p, ctx) => runner.run(claimed, p!, ctx));
    }
  }

  /** Whether `name` runs as many jobs as its `agent.max_concurrent` allows. */
  #atOwnLimit(name: string): boolean {
    const limit = this.#deps.pylonOf(name)?.agent.maxConcurrent;
    return limit !== undefined && (this.#perPylon.get(name) ?? 0) >= limit;
  }

  /** The first budget (the pylon's, then all pylons') whose window is at its cap, or null. */
  async #budgetBlock(pylon: ResolvedPylon): Promise<BudgetBlock | null> {
    const { stores } = this.#deps;
    const now = this.#deps.clock.now();
    const pylonOf = (name: string) => this.#deps.pylonOf(name);
    const own = stores.get(pylon.name);
    if (pylon.budget && own) {
      const block = await budgetBlock(pylon.budget, { stores: [own], pylonOf, now });
      if (block) return this.#noteReset(block);
    }
    const global = this.#deps.globalBudget?.();
    if (global) {
      const all = stores.names().map((n) => stores.get(n)).filter((s) => s !== undefined);
      const block = await budgetBlock(global, {
        stores: all,
        pylonOf,
        now,
        label: "all pylons' ",
      });
      if (block) return this.#noteReset(block);
    }
    return null;
  }

  #noteReset(block: BudgetBlock): BudgetBlock {
    const at = block.resetsAt.getTime();
    if (this.#nextReset === undefined || at < this.#nextReset) this.#nextReset = at;
    return block;
  }

  /**
   * Moves `job` from `queued` to `held` with the reason; a cron run is dismissed as skipped
   * instead, so runs over budget do not pile up.
   */
  async #hold(job: Job, block: BudgetBlock): Promise<void> {
    const store = this.#deps.stores.get(job.pylon);
    if (!store) return;
    const log = this.#deps.log.with({ pylon: job.pylon, job: shortId(job.id) });
    const moved = job.trigger === "cron"
      ? await store.transition(job.id, "queued", "dismissed", {
        error: `${SKIPPED_OVER_BUDGET} (${block.reason})`,
      })
      : await store.transition(job.id, "queued", "held", { error: block.reason });
    if (!moved) return;
    log.info(moved.status === "held" ? "job.held" : "job.skipped", { reason: block.reason });
    this.#deps.onChange?.(moved);
  }

  /**
   * Releases the oldest held job of each pylon whose budgets (its own and all pylons') are
   * under their caps again, back to `queued` where it keeps its place; one per pylon per call,
   * so the reservation of each job started counts before the next is released.
   */
  async #releaseHeld(): Promise<void> {
    const { stores } = this.#deps;
    for (const name of stores.names()) {
      const store = stores.get(name);
      const pylon = this.#deps.pylonOf(name);
      if (!store || !pylon) continue;
      // Newest first: on a tie the later entry is the older job.
      const held = await store.list({ status: "held", limit: 1000 });
      const oldest = held.reduce<Job | undefined>(
        (a, j) => !a || (j.queuedAt ?? j.createdAt) <= (a.queuedAt ?? a.createdAt) ? j : a,
        undefined,
      );
      if (!oldest || await this.#budgetBlock(pylon)) continue;
      const moved = await store.transition(oldest.id, "held", "queued", { error: null });
      if (!moved) continue;
      this.#deps.log.info("job.released", { pylon: name, job: shortId(moved.id) });
      this.#deps.onChange?.(moved);
    }
  }

  /** While a budget holds jobs, looks again when its window resets (at most hourly). */
  #scheduleReset(): void {
    clearTimeout(this.#resetTimer);
    this.#resetTimer = undefined;
    if (this.#stopped || this.#nextReset === undefined) return;
    const delay = this.#nextReset - this.#deps.clock.now().getTime();
    this.#resetTimer = setTimeout(() => {
      this.#resetTimer = undefined;
      this.wake();
    }, Math.min(Math.max(delay, 0) + 1000, 3_600_000));
  }

  #launch(
    job: Job,
    start: (pylon: ResolvedPylon | undefined, ctx: RunContext) => Promise<RunOutcome>,
    { reattached = false } = {},
  ): void {
    const { stores, log } = this.#deps;
    const controller = new AbortController();
    this.#running.set(job.id, controller);
    this.#perPylon.set(job.pylon, (this.#perPylon.get(job.pylon) ?? 0) + 1);
    const jobLog = log.with({ pylon: job.pylon, job: shortId(job.id) });
    const store = stores.get(job.pylon)!;
    // A re-attached job's agent started under an earlier daemon.
    if (!reattached) this.#preparing.add(job.id);
    const ctx: RunContext = {
      signal: controller.signal,
      log: jobLog,
      update: async (patch) => {
        await store.update(job.id, patch);
      },
      started: () => {
        // Synchronous, so it is told before the job's outcome is.
        if (this.#preparing.delete(job.id)) this.#deps.onChange?.(job);
        return Promise.resolve();
      },
    };
    const now = this.#deps.clock.now().getTime();
    // Durations count from the job's real start, which a re-attached job had under an earlier
    // daemon; `job.reattached` (not a second `job.started`) says this daemon took it over.
    const began = job.startedAt?.getTime() ?? now;
    if (reattached) {
      jobLog.info("job.reattached", { attempt: job.attempt, running_ms: Math.max(0, now - began) });
    } else {
      jobLog.info("job.started", { attempt: job.attempt, trigger: job.trigger });
    }
    (async () => {
      let outcome: RunOutcome;
      try {
        outcome = await start(this.#deps.pylonOf(job.pylon), ctx);
      } catch (e) {
        outcome = { status: "failed", error: errorText(e) };
      }
      this.#preparing.delete(job.id);
      const done = await this.#record(job, outcome, jobLog);
      if (done === undefined) return; // the next daemon re-attaches and records it
      if (done) this.#deps.onChange?.(done);
      // Only now may the runner drop the container that holds the outcome.
      await outcome.cleanup?.();
      const status = done?.status ?? outcome.status;
      jobLog.info("job.finished", {
        status,
        exit: outcome.exitCode ?? undefined,
        ms: this.#deps.clock.now().getTime() - began,
        // Why it did not complete, as recorded (the runner redacted it), cut to one line's worth.
        error: status === "completed" ? undefined : (done?.error ?? outcome.error)?.slice(0, 300),
      });
    })().catch((e) => jobLog.error("job.finish_failed", { error: errorText(e) })).finally(() => {
      this.#preparing.delete(job.id);
      this.#running.delete(job.id);
      const left = (this.#perPylon.get(job.pylon) ?? 1) - 1;
      if (left > 0) this.#perPylon.set(job.pylon, left);
      else this.#perPylon.delete(job.pylon);
      this.wake();
    });
  }

  /** `usage` labelled with how its dollars read: a subscription's (`oauth`) are API-price figures. */
  #withCostBasis(job: Job, usage: JobUsage): JobUsage {
    if (usage.costBasis) return usage;
    const auth = this.#deps.pylonOf(job.pylon)?.agent.auth;
    return { ...usage, costBasis: auth === "oauth" ? "oauth" : auth ? "api" : null };
  }

  /**
   * Records a finished job's outcome. A write the store refuses (a full disk, an I/O error) is
   * tried again with backoff while the job keeps its slot and the runner its container: an
   * outcome is never dropped. Resolves with the job (null: it had left `running` meanwhile),
   * or undefined when this daemon stops first; the job then stays `running` and the next
   * daemon re-attaches to the container and records the same outcome.
   */
  async #record(job: Job, outcome: RunOutcome, log: Logger): Promise<Job | null | undefined> {
    const delays = this.#deps.recordRetryMs ?? RECORD_RETRY_MS;
    for (let attempt = 1;; attempt++) {
      try {
        const store = this.#deps.stores.get(job.pylon);
        if (!store) throw new Error(`the job database of pylon "${job.pylon}" is closed`);
        const done = await store.transition(job.id, "running", outcome.status, {
          exitCode: outcome.exitCode ?? null,
          result: outcome.result ?? null,
          error: outcome.error ?? null,
          ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}),
          ...(outcome.usage ? { usage: this.#withCostBasis(job, outcome.usage) } : {}),
        });
        if (attempt > 1) log.info("job.recorded", { status: outcome.status, attempts: attempt });
        return done;
      } catch (e) {
        const fields = { status: outcome.status, exit: outcome.exitCode ?? undefined };
        if (this.#stopped) {
          log.error("job.record_deferred", {
            ...fields,
            error: errorText(e),
            note: "the job stays running; the next daemon re-attaches and records it",
          });
          return undefined;
        }
        const delay = delays[Math.min(attempt - 1, delays.length - 1)] ?? 30_000;
        log.error("job.record_failed", {
          ...fields,
          error: errorText(e),
          attempt,
          retry_in_s: Math.round(delay / 1000),
          note: "the outcome and the slot are kept until it is recorded",
        });
        await pause(delay, this.#stopping.signal);
      }
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
