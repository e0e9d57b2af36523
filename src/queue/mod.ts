/**
 * The job queue: FIFO across pylons, bounded concurrency, durable order in SQLite. Owns the
 * only in-memory job state (the AbortControllers of running jobs).
 *
 * @module
 */

export { Dispatcher } from "./dispatcher.ts";
export { QueueDepth } from "./depth.ts";
export {
  approveJob,
  budgetBlock,
  budgetWindow,
  RUN_ANYWAY,
  SKIPPED_OVER_BUDGET,
} from "./budget.ts";
export type { DispatcherDeps } from "./dispatcher.ts";
export type { JobRunner, RunContext, RunOutcome } from "./runner.ts";
