/**
 * What `pylon destroy` removes, shared by the daemon's `DELETE /api/pylons/<name>` and the CLI
 * when no daemon runs: a pylon's config folder (`pylons/<name>/`), its data folder
 * (`data/<name>/`, the job database) and its jobs' folders and logs under `jobs/`.
 *
 * @module
 */

import { join } from "node:path";
import type { JobStatus, PylonPaths } from "../config/mod.ts";
import { PylonError, shortId } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import type { Job, JobStore } from "../store/mod.ts";

/** Statuses of a job that has not ended yet: destroy refuses them without force. */
export const UNFINISHED_STATUSES: readonly JobStatus[] = [
  "running",
  "queued",
  "held",
  "awaiting_approval",
];

/** The error recorded on a running job that a destroy killed. */
export const KILLED_REASON = "killed: its pylon was destroyed";

/** The error recorded on a waiting job that a destroy cancelled. */
export const CANCELLED_REASON = "killed before it started: its pylon was destroyed";

/**
 * Why `name` cannot name a folder directly under `pylons/`, or `undefined` when it can. Looser
 * than a pylon name on purpose: a folder the daemon skips (`My Pylon`) can still be destroyed.
 */
export function pylonFolderProblem(name: string): string | undefined {
  if (name.trim() === "") return "the name is empty";
  if (name === "." || name === "..") return `"${name}" is not a pylon folder`;
  if (/[/\\\0]/.test(name)) return "the name must not contain / or \\";
  if (new TextEncoder().encode(name).length > 255) return "the name is longer than 255 bytes";
  return undefined;
}

/** A pylon still has jobs that have not ended (or did not stop in time). */
export class UnfinishedJobsError extends PylonError {
  /** The jobs in question. */
  readonly jobs: readonly Job[];

  constructor(message: string, jobs: readonly Job[], hint: string) {
    super(message, { hint });
    this.name = "UnfinishedJobsError";
    this.jobs = jobs;
  }
}

/** The refusal of a destroy without force: names each unfinished job and the flag. */
export function unfinishedJobsError(pylon: string, jobs: readonly Job[]): UnfinishedJobsError {
  const list = jobs.map((j) => `${shortId(j.id)} (${j.status})`).join(", ");
  return new UnfinishedJobsError(
    `Cannot destroy pylon "${pylon}": it has unfinished jobs: ${list}`,
    jobs,
    `wait until they end, or run \`pylon destroy ${pylon} --force\` to kill them`,
  );
}

/** Ids of every job in `store`, read a page at a time. */
export async function allJobIds(store: JobStore): Promise<string[]> {
  const ids = new Set<string>();
  let before: Date | undefined;
  for (;;) {
    const page = await store.list({ limit: 500, ...(before ? { before } : {}) });
    const fresh = page.filter((j) => !ids.has(j.id));
    for (const job of fresh) ids.add(job.id);
    if (page.length < 500 || fresh.length === 0) return [...ids];
    // One millisecond past the oldest, so jobs created in the same millisecond are not skipped.
    before = new Date(page.at(-1)!.createdAt.getTime() + 1);
  }
}

/**
 * Deletes each job's folder (workspace, output) and log; returns what could not be deleted
 * (files an agent made may belong to another user), one line each. `removeWorkspace` is the
 * workspace cleanup that also unregisters a git worktree; the runner's `removeJobFiles` does
 * the same when a daemon runs.
 */
export async function removeJobFolders(
  jobsDir: string,
  ids: readonly string[],
  options: { removeWorkspace?: (jobDir: string) => Promise<void> } = {},
): Promise<string[]> {
  const failed: string[] = [];
  for (const id of ids) {
    const jobDir = join(jobsDir, id);
    try {
      await options.removeWorkspace?.(jobDir);
      await removeIfPresent(jobDir);
      await removeIfPresent(`${jobDir}.log`);
    } catch (e) {
      failed.push(`${jobDir}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return failed;
}

/** Deletes `pylons/<name>/` and `data/<name>/`; returns the ones that existed. */
export async function removePylonFolders(
  paths: PylonPaths,
  name: string,
  log?: Logger,
): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of [paths.pylonDir(name), paths.pylonDataDir(name)]) {
    if (await removeIfPresent(dir)) {
      removed.push(dir);
      log?.debug("pylon.folder_removed", { pylon: name, path: dir });
    }
  }
  return removed;
}

/** Whether a folder (or file, or link) exists directly under `pylons/` or `data/`. */
export async function pylonFolderExists(paths: PylonPaths, name: string): Promise<boolean> {
  for (const dir of [paths.pylonDir(name), paths.pylonDataDir(name)]) {
    try {
      if ((await Deno.lstat(dir)).isFile) continue;
      return true;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return false;
}

/** Those of `paths` that are files. */
export async function existingFiles(paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) {
    try {
      if ((await Deno.stat(path)).isFile) found.push(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return found;
}

/** Deletes a folder (recursively) or file; false when there was nothing to delete. */
export async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await Deno.remove(path, { recursive: true });
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
