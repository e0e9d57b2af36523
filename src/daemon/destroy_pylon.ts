/**
 * The work behind `DELETE /api/pylons/<name>`: stops a pylon's unfinished jobs through the
 * dispatcher, takes the pylon out of service, closes its job database and deletes its folders
 * and its jobs' files.
 *
 * The order matters. Jobs are stopped while the pylon is still active, so its channels hear
 * "killed" and their progress timers end. Then the pylon leaves the live table (no webhook,
 * cron run or manual trigger reaches it any more) and its config folder is deleted, so a hot
 * reload finds nothing to bring back. Jobs that slipped in meanwhile are stopped too. Only then
 * is the store closed and the data deleted: no running job writes to a closed database.
 *
 * @module
 */

import { pylonNameProblem, type PylonPaths } from "../config/mod.ts";
import { shortId } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import type { Dispatcher } from "../queue/mod.ts";
import type { Job, JobStore, StoreRegistry } from "../store/mod.ts";
import type { PylonTable } from "./pylon_table.ts";
import {
  allJobIds,
  CANCELLED_REASON,
  existingFiles,
  KILLED_REASON,
  pylonFolderExists,
  removeIfPresent,
  removeJobFolders,
  UNFINISHED_STATUSES,
  UnfinishedJobsError,
  unfinishedJobsError,
} from "./pylon_folders.ts";

/** What {@linkcode destroyPylon} needs, and whether to kill unfinished jobs. */
export interface DestroyPylonOptions {
  /** Kill running jobs and cancel waiting ones; without it, unfinished jobs refuse the destroy. */
  force: boolean;
  paths: PylonPaths;
  table: PylonTable;
  stores: StoreRegistry;
  dispatcher: Dispatcher;
  log: Logger;
  /** The runner's cleanup of job files (it also unregisters git worktrees). */
  removeJobFiles?: ((ids: readonly string[], log: Logger) => Promise<void>) | undefined;
  /** Waits for the chat announcements of these jobs, then drops their timers. */
  settleNotices?: ((ids: readonly string[]) => Promise<void>) | undefined;
  /** Told about each job this destroy cancels or records as killed. */
  onChange?: ((job: Job) => void) | undefined;
  /** How long killed jobs may take to end (ms). @default {60_000} */
  stopTimeoutMs?: number | undefined;
}

/** What a destroy did. */
export interface DestroyReport {
  pylon: string;
  /** Ids of the running jobs it killed. */
  killed: string[];
  /** Ids of the waiting jobs it cancelled. */
  cancelled: string[];
  /** How many job records were deleted. */
  jobs: number;
  /** The folders deleted (`pylons/<name>/`, `data/<name>/`). */
  removed: string[];
}

/** How often a job that is `running` but not under the dispatcher is looked at again. */
const CLAIM_GRACE_ROUNDS = 4;
const POLL_MS = 50;

/**
 * Destroys pylon `name` (any folder name under `pylons/`, valid pylon name or not); null when
 * there is no such pylon.
 *
 * @throws {UnfinishedJobsError} without `force` when jobs have not ended, or when killed jobs
 *   do not end in time
 */
export async function destroyPylon(
  name: string,
  o: DestroyPylonOptions,
): Promise<DestroyReport | null> {
  const known = o.table.get(name) !== undefined || o.stores.has(name) ||
    await pylonFolderExists(o.paths, name);
  if (!known) return null;
  const wasOpen = o.stores.has(name);
  const store = await storeOf(name, o);
  if (store && !o.force) {
    const open = await store.list({ status: UNFINISHED_STATUSES, limit: 100 });
    if (open.length > 0) {
      if (!wasOpen) await o.stores.close(name); // opened for this check only
      throw unfinishedJobsError(name, open);
    }
  }
  const stopped: Stopped = { killed: new Set(), cancelled: new Set() };
  const deadline = performance.now() + (o.stopTimeoutMs ?? 60_000);
  if (store) {
    await stopJobs(name, store, o, stopped, deadline);
    await o.settleNotices?.([...stopped.killed, ...stopped.cancelled]);
  }
  if (o.table.remove(name)) o.log.info("pylon.removed", { pylon: name, reason: "destroyed" });
  const removed: string[] = [];
  if (await removeIfPresent(o.paths.pylonDir(name))) removed.push(o.paths.pylonDir(name));
  let ids: string[] = [];
  if (store) {
    await stopJobs(name, store, o, stopped, deadline);
    ids = await allJobIds(store);
    await o.settleNotices?.(ids);
    await o.stores.close(name);
  }
  if (o.removeJobFiles) await o.removeJobFiles(ids, o.log);
  else {
    for (const problem of await removeJobFolders(o.paths.jobsDir, ids)) {
      o.log.warn("job.files_remove_failed", { pylon: name, error: problem });
    }
  }
  if (await removeIfPresent(o.paths.pylonDataDir(name))) removed.push(o.paths.pylonDataDir(name));
  const report: DestroyReport = {
    pylon: name,
    killed: [...stopped.killed],
    cancelled: [...stopped.cancelled],
    jobs: ids.length,
    removed,
  };
  o.log.info("pylon.destroyed", {
    pylon: name,
    killed: report.killed.length,
    cancelled: report.cancelled.length,
    jobs: report.jobs,
  });
  return report;
}

interface Stopped {
  killed: Set<string>;
  cancelled: Set<string>;
}

/** The pylon's store: the open one, or its database opened now; none for a folder only. */
async function storeOf(name: string, o: DestroyPylonOptions): Promise<JobStore | undefined> {
  const open = o.stores.get(name);
  if (open) return open;
  // The registry opens valid names only; the daemon never made a database for another name.
  if (pylonNameProblem(name) !== undefined) return undefined;
  if ((await existingFiles([o.paths.pylonDb(name)])).length === 0) return undefined;
  return await o.stores.open(name);
}

/** Cancels waiting jobs and kills running ones, until none is left and every kill has ended. */
async function stopJobs(
  name: string,
  store: JobStore,
  o: DestroyPylonOptions,
  stopped: Stopped,
  deadline: number,
): Promise<void> {
  for (let round = 0;; round++) {
    const open = await store.list({ status: UNFINISHED_STATUSES, limit: 1000 });
    const ending = [...stopped.killed].filter((id) => o.dispatcher.isRunning(id));
    if (open.length === 0 && ending.length === 0) return;
    for (const job of open) {
      if (job.status !== "running") {
        const moved = await store.transition(
          job.id,
          ["queued", "held", "awaiting_approval"],
          "killed",
          {
            error: CANCELLED_REASON,
          },
        );
        if (moved) {
          stopped.cancelled.add(job.id);
          o.onChange?.(moved);
        }
      } else if (o.dispatcher.kill(job.id, KILLED_REASON)) {
        stopped.killed.add(job.id); // the runner kills its container and records `killed`
      } else if (round >= CLAIM_GRACE_ROUNDS) {
        // Not run by this daemon (no runner, or never re-attached), so nothing else will
        // record its end. The grace rounds cover a job between its claim and its start.
        const moved = await store.transition(job.id, "running", "killed", { error: KILLED_REASON });
        if (moved) {
          stopped.killed.add(job.id);
          o.onChange?.(moved);
        }
      }
    }
    if (performance.now() > deadline) {
      const ids = [...new Set([...open.map((j) => j.id), ...ending])].map(shortId).join(", ");
      throw new UnfinishedJobsError(
        `Cannot destroy pylon "${name}": job ${ids} did not stop in time`,
        open,
        `try again; if it keeps running, stop its container: docker ps --filter label=pylon.pylon=${name}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
