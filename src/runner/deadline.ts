/**
 * A job's kill switch and deadline as one `AbortSignal`, in force from the moment the runner
 * takes the job: preparing the workspace, building an image and every Docker call before the
 * container runs carry it, so a hung Engine (or git) cannot outlive `pylon kill` or the job's
 * timeout (issue 12, item 11).
 *
 * @module
 */

import type { Job } from "../store/mod.ts";
import type { RunOutcome } from "../queue/mod.ts";

/** Thrown through the job's signal when its deadline passes. */
export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeadlineError";
  }
}

/** The job's signal: aborted by `kill` (its own reason) or at `job.deadlineAt`. */
export interface JobSignal extends Disposable {
  signal: AbortSignal;
}

/** Combines `kill` with the job's deadline, measured on `clock`. */
export function jobSignal(
  job: Pick<Job, "deadlineAt" | "startedAt">,
  kill: AbortSignal,
  clock: { now(): Date },
): JobSignal {
  if (!job.deadlineAt) return { signal: kill, [Symbol.dispose]() {} };
  const deadline = new AbortController();
  const ms = job.deadlineAt.getTime() - clock.now().getTime();
  const timer = setTimeout(() => deadline.abort(new DeadlineError(timeoutText(job))), ms);
  return {
    signal: AbortSignal.any([kill, deadline.signal]),
    [Symbol.dispose]: () => clearTimeout(timer),
  };
}

/** The outcome of a job stopped by its signal: timed out, or killed with the kill's reason. */
export function stoppedOutcome(signal: AbortSignal): RunOutcome {
  const reason: unknown = signal.reason;
  if (reason instanceof DeadlineError) {
    return { status: "timed_out", exitCode: 137, error: reason.message };
  }
  return {
    status: "killed",
    exitCode: 137,
    error: reason instanceof Error && reason.name !== "AbortError"
      ? reason.message
      : "killed by request",
  };
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts (it keeps running). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** `the agent ran past its timeout (900s) and was killed`. */
export function timeoutText(job: Pick<Job, "deadlineAt" | "startedAt">): string {
  const limit = job.deadlineAt && job.startedAt
    ? Math.round((job.deadlineAt.getTime() - job.startedAt.getTime()) / 1000)
    : undefined;
  return `the agent ran past its timeout${limit ? ` (${limit}s)` : ""} and was killed`;
}
