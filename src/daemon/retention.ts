/**
 * Retention: jobs finished more than `jobs.retain_days` ago are deleted together with their
 * log file and workspace folder.
 *
 * @module
 */

import { join } from "node:path";
import type { PylonPaths } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { StoreRegistry } from "../store/mod.ts";
import { removeTree } from "../runner/remove_tree.ts";

/** Prunes every store; `retainDays` 0 keeps everything. Returns how many jobs went. */
export async function pruneExpiredJobs(
  stores: StoreRegistry,
  paths: PylonPaths,
  retainDays: number,
  now: Date,
  log: Logger,
  removeFiles?: (ids: readonly string[], log: Logger) => Promise<void>,
): Promise<number> {
  if (retainDays <= 0) return 0;
  const cutoff = new Date(now.getTime() - retainDays * 86_400_000);
  let total = 0;
  for (const name of stores.names()) {
    const ids = await stores.get(name)!.prune(cutoff);
    if (removeFiles) await removeFiles(ids, log);
    else {
      for (const id of ids) {
        await removeTree(join(paths.jobsDir, id));
        await removeTree(join(paths.jobsDir, `${id}.log`));
      }
    }
    total += ids.length;
  }
  if (total > 0) log.info("jobs.pruned", { count: total, older_than_days: retainDays });
  return total;
}
