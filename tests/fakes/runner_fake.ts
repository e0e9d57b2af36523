/**
 * A scripted {@linkcode JobRunner} for daemon tests (the Docker runner has its own tests against
 * the real Engine). It records which jobs ran and can hold a job until released or killed.
 */

import type { JobRunner, RunOutcome } from "../../src/queue/mod.ts";
import type { Job } from "../../src/store/mod.ts";

/** A runner whose jobs finish when the test says so (or at once). */
export interface ScriptedRunner extends JobRunner {
  ran: Job[];
  /** Jobs currently inside `run`. */
  active: Set<string>;
  /** Makes new runs wait until `release()`. */
  hold(): void;
  release(): void;
}

/** Creates a runner that completes every job with `result: "done <id8>"`. */
export function createScriptedRunner(): ScriptedRunner {
  let gate: PromiseWithResolvers<void> | undefined;
  const runner: ScriptedRunner = {
    ran: [],
    active: new Set(),
    hold() {
      gate = Promise.withResolvers<void>();
    },
    release() {
      gate?.resolve();
      gate = undefined;
    },
    async run(job, _pylon, ctx): Promise<RunOutcome> {
      runner.ran.push(job);
      runner.active.add(job.id);
      // The agent runs at once (a held job's agent is working until released).
      await ctx.started?.();
      try {
        if (gate) {
          const killed = new Promise<"killed">((resolve) =>
            ctx.signal.addEventListener("abort", () => resolve("killed"), { once: true })
          );
          if (await Promise.race([gate.promise.then(() => "go" as const), killed]) === "killed") {
            const reason = ctx.signal.reason;
            return {
              status: "killed",
              error: reason instanceof Error ? reason.message : "killed by request",
            };
          }
        }
        return { status: "completed", exitCode: 0, result: `done ${job.id.slice(0, 8)}` };
      } finally {
        runner.active.delete(job.id);
      }
    },
  };
  return runner;
}
