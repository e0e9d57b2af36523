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
import type { Job, StoreRegistry } from "../store/mod.ts";
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
}

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
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /** Hands jobs left `running` by a previous daemon to the runner. */
  async reattach(jobs: Job[]): Promise<void> {
    const runner = this.#deps.runner;
    if (!runner?.reattach) return;
    for (const job of jobs) {
      this.#launch(job, (pylon, ctx) => runner.reattach!(job, pylon, ctx));
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
    jobLog.info("job.started", { attempt: job.attempt, trigger: job.trigger });
    const began = this.#deps.clock.now().getTime();
    (async () => {
      let outcome: RunOutcome;
      try {
        outcome = await start(this.#deps.pylonOf(job.pylon), ctx);
      } catch (e) {
        outcome = { status: "failed", error: errorText(e) };
      }
      const done = await store.transition(job.id, "running", outcome.status, {
        exitCode: outcome.exitCode ?? null,
        result: outcome.result ?? null,
        error: outcome.error ?? null,
        ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}),
      });
      if (done) this.#deps.onChange?.(done);
      jobLog.info("job.finished", {
        status: done?.status ?? outcome.status,
        exit: outcome.exitCode ?? undefined,
        ms: this.#deps.clock.now().getTime() - began,
      });
    })().catch((e) => jobLog.error("job.record_failed", { error: errorText(e) })).finally(() => {
      this.#running.delete(job.id);
      this.wake();
    });
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
