/**
 * The queue's engine: starts queued jobs in FIFO order across pylons while fewer than
 * `docker.max_concurrent` run. The order lives in SQLite (`queued_at`); this module only holds
 * what cannot be persisted: the running count and one AbortController per running job.
 *
 * @module
 */

import type { ResolvedPylon } from "../config/mod.ts";
import { shortId } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import type { Job, JobUsage, StoreRegistry } from "../store/mod.ts";
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
  log: Logger;
  clock: { now(): Date };
  /** Told about every status change this dispatcher makes (channels announce them). */
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
  #pumping = false;
  #again = false;
  #stopped = false;
  #idle: Promise<void> = Promise.resolve();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #paused = false;
  /** Aborted by {@linkcode stop}: ends the waits between attempts to record an outcome. */
  readonly #stopping = new AbortController();

  constructor(deps: DispatcherDeps) {
    this.#deps = deps;
  }

  /** Number of jobs this daemon is running. */
  get runningCount(): number {
    return this.#running.size;
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
      // A pylon that exists but cannot load now (a broken edit) keeps its jobs queued.
      const next = await stores.oldestQueuedAcross((name) => this.#deps.isWaiting?.(name) ?? false);
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
      const claimed = await store.transition(next.id, "queued", "running", {
        startedAt: now,
        deadlineAt: new Date(now.getTime() + pylon.agent.timeoutMs),
      });
      if (!claimed) continue; // someone else (kill, another pass) moved it first
      this.#deps.onChange?.(claimed);
      this.#launch(claimed, (p, ctx) => runner.run(claimed, p!, ctx));
    }
  }

  #launch(
    job: Job,
    start: (pylon: ResolvedPylon | undefined, ctx: RunContext) => Promise<RunOutcome>,
    { reattached = false } = {},
  ): void {
    const { stores, log } = this.#deps;
    const controller = new AbortController();
    this.#running.set(job.id, controller);
    const jobLog = log.with({ pylon: job.pylon, job: shortId(job.id) });
    const store = stores.get(job.pylon)!;
    const ctx: RunContext = {
      signal: controller.signal,
      log: jobLog,
      update: async (patch) => {
        await store.update(job.id, patch);
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
      const done = await this.#record(job, outcome, jobLog);
      if (done === undefined) return; // the next daemon re-attaches and records it
      if (done) this.#deps.onChange?.(done);
      // Only now may the runner drop the container that holds the outcome.
      await outcome.cleanup?.();
      jobLog.info("job.finished", {
        status: done?.status ?? outcome.status,
        exit: outcome.exitCode ?? undefined,
        ms: this.#deps.clock.now().getTime() - began,
      });
    })().catch((e) => jobLog.error("job.finish_failed", { error: errorText(e) })).finally(() => {
      this.#running.delete(job.id);
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
