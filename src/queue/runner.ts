/**
 * What the queue needs from whoever runs a job (the Docker runner, ARCHITECTURE.md §4).
 *
 * @module
 */

import type { ResolvedPylon } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Job, JobUsage } from "../store/mod.ts";

/** How a job ended, as the runner saw it. */
export interface RunOutcome {
  status: "completed" | "failed" | "timed_out" | "killed";
  exitCode?: number | null;
  result?: string | null;
  error?: string | null;
  sessionId?: string | null;
  /**
   * What the agent reported it used (result.json); the dispatcher fills in `costBasis` from the
   * pylon's auth when the runner left it null.
   */
  usage?: JobUsage | null;
  /**
   * Drops what would let the runner find this outcome again (the finished container). The
   * dispatcher calls it once the outcome is recorded, never before: until then a retry, or the
   * next daemon's re-attach, can still read it. Not stored.
   */
  cleanup?: () => Promise<void>;
}

/** What a run gets besides the job. */
export interface RunContext {
  /** Aborted by `pylon kill` (the runner kills the container and reports `killed`). */
  signal: AbortSignal;
  log: Logger;
  /** Stores fields learnt while running (container id, rendered prompt…). */
  update(patch: Partial<Pick<Job, "containerId" | "prompt" | "repo" | "ref">>): Promise<void>;
  /**
   * The agent runs now (its container or Swarm task started). Until a runner calls it, the job
   * is `running` but channels do not say "started": preparing the image, the workspace or the
   * container can still fail. Calling it again does nothing.
   */
  started?(): Promise<void>;
}

/** Runs jobs. Implemented by the Docker runner; tests use scripted ones. */
export interface JobRunner {
  /** Runs one claimed job to its end. Rejections are recorded as `failed`. */
  run(job: Job, pylon: ResolvedPylon, ctx: RunContext): Promise<RunOutcome>;
  /** Releases what the runner holds (connections); running agents are left alone. */
  close?(): void;
  /** Whether jobs can start now (e.g. the Docker Engine answers); queued jobs wait otherwise. */
  available?(): Promise<boolean>;
  /** Retention: deletes the files (workspace, state, log) of jobs that were pruned. */
  removeJobFiles?(jobIds: readonly string[], log: Logger): Promise<void>;
  /**
   * Start-up: removes containers and workspaces of jobs that no longer exist; on Swarm also
   * the services, secrets and configs of finished jobs (`isFinished`: a terminal status).
   */
  pruneOrphans?(
    isKnown: (jobId: string) => Promise<boolean>,
    log: Logger,
    o?: { isFinished?: ((jobId: string) => Promise<boolean>) | undefined },
  ): Promise<void>;
  /** Start-up: makes sure each pylon's agent image is present (building or pulling it). */
  prepareImages?(pylons: readonly ResolvedPylon[], log: Logger): Promise<void>;
  /** Takes over a job left `running` by a previous daemon (its container may still run). */
  reattach?(job: Job, pylon: ResolvedPylon | undefined, ctx: RunContext): Promise<RunOutcome>;
}
