/**
 * Durable job history: one SQLite file per pylon (`data/<name>/jobs.db`) through Deno's
 * built-in `node:sqlite`, guarded status transitions, and a registry of the open stores.
 *
 * SQLite is the only source of truth for jobs; nothing here caches rows. Imports only `config/`
 * and `errors.ts`.
 *
 * @module
 */

export { BUSY_TIMEOUT_MS, openJobStore } from "./job_store.ts";
export { type Checkpoints, WalCheckpointer } from "./checkpointer.ts";
export { type LegacyMove, moveLegacyDatabases } from "./legacy.ts";
export type { OpenJobStoreOptions } from "./job_store.ts";
export { createStoreRegistry, listJobDbNames } from "./registry.ts";
export type { ListAcrossOptions, StoreRegistry, StoreRegistryOptions } from "./registry.ts";
export { JobNotFoundError, StoreError } from "./errors.ts";
export { MIGRATIONS, SCHEMA_VERSION } from "./migrations.ts";
export { isTerminalStatus, MAX_SEARCH_CHARS, TERMINAL_STATUSES, TRIGGER_KINDS } from "./types.ts";
export type {
  Clock,
  CostBasis,
  Job,
  JobPatch,
  JobStatusChange,
  JobStore,
  JobUsage,
  ListOptions,
  NewJob,
  RecoverableJobs,
  ToolCallDecision,
  ToolCallRecord,
  TriggerKind,
  UsageRecord,
} from "./types.ts";
export { historyToJson, jobToJson, usageToJson, waitingToJson } from "./json.ts";
export {
  conversationUsage,
  costText,
  formatTokens,
  formatUsd,
  sumUsage,
  totalTokens,
  usageParts,
} from "./usage.ts";
