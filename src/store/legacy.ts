/**
 * Homes made before 0.2 keep each job database in the pylon's config folder
 * (`pylons/<name>/jobs.db`), which the daemon watches for edits. The watcher opens and closes
 * the files it is told about, and closing any descriptor of a SQLite file drops the process's
 * POSIX locks on it: another process then took the daemon's WAL for abandoned and deleted it,
 * losing acknowledged jobs. This moves such files to `data/<name>/`.
 *
 * Call only while holding the home lock (no connection may be open on the files).
 *
 * @module
 */

import type { PylonPaths } from "../config/mod.ts";

/** What {@linkcode moveLegacyDatabases} did. */
export interface LegacyMove {
  /** Pylons whose database was moved to `data/<name>/`. */
  moved: string[];
  /** Pylons that have a database in both places; nothing was moved for them. */
  conflicts: string[];
}

/** The files of one database: the main file first, then its WAL and shared-memory index. */
const SUFFIXES = ["", "-wal", "-shm"];

/** Moves every `pylons/<name>/jobs.db` (with its `-wal` and `-shm`) to `data/<name>/`. */
export async function moveLegacyDatabases(paths: PylonPaths): Promise<LegacyMove> {
  const result: LegacyMove = { moved: [], conflicts: [] };
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(paths.pylonsDir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return result;
    throw e;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory) continue;
    const from = paths.legacyPylonDb(entry.name);
    // A folder this user cannot enter does not load either (it is reported); moved once readable.
    if (
      !await exists(from).catch((e) =>
        e instanceof Deno.errors.PermissionDenied ? false : Promise.reject(e)
      )
    ) {
      continue;
    }
    const to = paths.pylonDb(entry.name);
    if (await exists(to)) {
      result.conflicts.push(entry.name);
      continue;
    }
    await Deno.mkdir(paths.pylonDataDir(entry.name), { recursive: true });
    // The WAL first, the main file last: a crash in between leaves the main file where the
    // next start finds it again, and SQLite never sees a main file without its WAL.
    for (const suffix of [...SUFFIXES].reverse()) {
      try {
        await Deno.rename(from + suffix, to + suffix);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    result.moved.push(entry.name);
  }
  return result;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
