/**
 * The daemon: HTTP ingest, control API, metrics, cron, hot reload and lifecycle.
 *
 * @module
 */

export { runDaemon } from "./daemon.ts";
export type { DaemonOptions } from "./daemon.ts";
export { jobToJson } from "../store/mod.ts";
export { readDaemonToken } from "./token.ts";
export { signRequest } from "./signature.ts";
export { isLoopbackHost, unsignedExposure } from "./exposure.ts";
export { acquireHomeLock, type HomeLock, HomeLockedError, waitForHomeLock } from "./home_lock.ts";
export type { DestroyReport } from "./destroy_pylon.ts";
export {
  allJobIds,
  CANCELLED_REASON,
  existingFiles,
  KILLED_REASON,
  pylonFolderExists,
  pylonFolderProblem,
  removeJobFolders,
  removePylonFolders,
  UNFINISHED_STATUSES,
  UnfinishedJobsError,
  unfinishedJobsError,
} from "./pylon_folders.ts";
