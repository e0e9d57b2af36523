/**
 * How CLI commands open the job databases, safely beside a running daemon.
 *
 * - Reads: when no process holds the home lock, the command takes it for its duration (so it
 *   may move a pre-0.2 database and upgrade a schema); otherwise a daemon owns the files, and
 *   they are opened read-only. A read-only connection never writes, checkpoints or deletes the
 *   WAL the daemon is writing to.
 * - Writes: commands go through the daemon's API when it runs (the caller checks); without
 *   one, they take the home lock first, so a daemon starting meanwhile waits for them, and a
 *   running one is never written beside.
 *
 * @module
 */

import {
  createStoreRegistry,
  type Job,
  listJobDbNames,
  moveLegacyDatabases,
  StoreError,
  type StoreRegistry,
} from "../store/mod.ts";
import { acquireHomeLock, type HomeLock, HomeLockedError, waitForHomeLock } from "../daemon/mod.ts";
import { assertPylonName } from "../config/mod.ts";
import type { CommandContext } from "./command.ts";
import { assertPylonExists } from "./shared.ts";

/** The job stores a command opened; dispose to close them and release the lock. */
export interface CliStores extends AsyncDisposable {
  stores: StoreRegistry;
  /** True when a daemon holds the home and the files were opened read-only. */
  readOnly: boolean;
}

/**
 * A CLI read waits this long for a lock held by the daemon's connection (ms). It blocks only
 * the CLI: a read-only connection holds nothing the daemon's writes wait for.
 */
const READ_BUSY_TIMEOUT_MS = 5_000;

/** Opens every job database for reading; see the module notes. */
export function openStoresForReading(ctx: CommandContext): Promise<CliStores> {
  return openStores(ctx, "read");
}

/**
 * Opens every job database for writing while no daemon runs.
 *
 * @throws {HomeLockedError} when a daemon (or another command) holds the home
 */
export function openStoresForWriting(ctx: CommandContext): Promise<CliStores> {
  return openStores(ctx, "write");
}

async function openStores(ctx: CommandContext, mode: "read" | "write"): Promise<CliStores> {
  let lock: HomeLock | null = null;
  try {
    // A reader takes the lock if it is free (then no daemon runs); a writer waits a moment for
    // another command holding it.
    lock = mode === "write"
      ? await waitForHomeLock(ctx.paths, "cli")
      : await acquireHomeLock(ctx.paths, "cli");
  } catch (e) {
    if (mode === "write" || !(e instanceof HomeLockedError)) throw e;
  }
  const readOnly = lock === null;
  const stores = createStoreRegistry(ctx.paths, {
    clock: ctx.clock,
    readOnly,
    ...(readOnly ? { busyTimeoutMs: READ_BUSY_TIMEOUT_MS } : {}),
  });
  const close = async () => {
    try {
      await stores.closeAll();
    } finally {
      lock?.release();
    }
  };
  try {
    if (lock) await moveLegacyDatabases(ctx.paths);
    for (const name of await listJobDbNames(ctx.paths)) {
      try {
        await stores.open(name);
      } catch (e) {
        // A database the daemon created a moment ago may not have its tables yet.
        if (!readOnly || !(e instanceof StoreError)) throw e;
        ctx.io.err(`Warning: skipped the jobs of pylon "${name}": ${e.message}\n`);
      }
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { stores, readOnly, [Symbol.asyncDispose]: close };
}

/**
 * The job with this id or unique prefix, read beside the daemon as {@linkcode openStoresForReading}.
 *
 * @throws {JobNotFoundError} when no job matches
 */
export async function findJob(ctx: CommandContext, idOrPrefix: string): Promise<Job> {
  await using open = await openStoresForReading(ctx);
  return await open.stores.findJob(idOrPrefix);
}

/** {@linkcode CliStores} narrowed to the pylons a command reports on. */
export interface PylonStores extends CliStores {
  /** Every pylon with a database, or only `name` (none when it has no jobs yet). */
  pylons: string[];
}

/**
 * Opens every job database for reading, narrowed to the pylon `name` when given.
 *
 * @throws {UsageError} when `name` is not a valid pylon name
 * @throws {PylonError} when the pylon `name` does not exist
 */
export async function openStoresForPylon(
  ctx: CommandContext,
  name: string | undefined,
): Promise<PylonStores> {
  if (name !== undefined) assertPylonName(name);
  const open = await openStoresForReading(ctx);
  const names = open.stores.names();
  if (name === undefined) return { ...open, pylons: names };
  try {
    if (!names.includes(name)) await assertPylonExists(ctx, name);
  } catch (e) {
    await open[Symbol.asyncDispose]();
    throw e;
  }
  return { ...open, pylons: names.filter((n) => n === name) };
}
