/**
 * One writer per pylon home: `$PYLON_HOME/daemon.lock`, held with an exclusive `flock`
 * (`Deno.FsFile.tryLock`) by the running daemon, or by a CLI command that writes to a job
 * database while no daemon runs.
 *
 * Why `flock` and not a pid file or a POSIX record lock: the kernel releases a `flock` when
 * its holder dies (`kill -9` included), so a stale file never blocks a start; and a `flock`
 * belongs to the open file description, so no other descriptor the process opens and closes on
 * the same file can drop it. POSIX record locks (`fcntl`, what SQLite uses) are dropped by the
 * close of ANY descriptor of the file in the process — the cause of lost jobs before 0.2.
 *
 * @module
 */

import { ensurePrivateDir, PRIVATE_FILE_MODE, type PylonPaths } from "../config/mod.ts";
import { PylonError } from "../errors.ts";
import { type DaemonInfo, readPidFile } from "./pidfile.ts";

/** A held home lock; releasing it (or the process dying) lets another writer in. */
export interface HomeLock extends AsyncDisposable {
  /** Releases the lock; idempotent. */
  release(): void;
}

/** Thrown when another process holds the home lock. */
export class HomeLockedError extends PylonError {
  /** The running daemon, when its pid file names one. */
  readonly daemon: DaemonInfo | null;

  constructor(message: string, daemon: DaemonInfo | null, hint: string) {
    super(message, { hint });
    this.name = "HomeLockedError";
    this.daemon = daemon;
  }
}

/**
 * Takes the home lock without waiting.
 *
 * @throws {HomeLockedError} naming the running daemon's pid and address when another process
 *   holds the lock
 */
export async function acquireHomeLock(
  paths: PylonPaths,
  holder: "daemon" | "cli",
): Promise<HomeLock> {
  await ensurePrivateDir(paths.root);
  const file = await Deno.open(paths.homeLock, {
    read: true,
    write: true,
    create: true,
    mode: PRIVATE_FILE_MODE,
  });
  let locked = false;
  try {
    locked = await file.tryLock(true);
  } finally {
    if (!locked) file.close();
  }
  if (!locked) throw await lockedError(paths, holder);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    file.close(); // closing the only descriptor of this open file releases the flock
  };
  return {
    release,
    [Symbol.asyncDispose]: () => Promise.resolve(release()),
  };
}

/** How long a writer waits for the home lock held by someone else (ms). */
export const HOME_LOCK_WAIT_MS = 2_000;

/**
 * Takes the home lock, waiting up to `waitMs` for another holder: a CLI command holds it only
 * for a moment (a starting daemon waits for one; one command waits for another).
 *
 * @throws {HomeLockedError} when it is still held after `waitMs`
 */
export async function waitForHomeLock(
  paths: PylonPaths,
  holder: "daemon" | "cli",
  waitMs = HOME_LOCK_WAIT_MS,
): Promise<HomeLock> {
  const until = performance.now() + waitMs;
  for (;;) {
    try {
      return await acquireHomeLock(paths, holder);
    } catch (e) {
      if (!(e instanceof HomeLockedError) || performance.now() >= until) throw e;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function lockedError(paths: PylonPaths, holder: "daemon" | "cli"): Promise<HomeLockedError> {
  const info = await readPidFile(paths.daemonPid);
  const who = info
    ? `the daemon (pid ${info.pid}, listening on ${info.host}:${info.port})`
    : "another pylon process (a daemon starting up, or a command writing to a job database)";
  if (holder === "daemon") {
    return new HomeLockedError(
      `Cannot start: ${who} already runs on ${paths.root}`,
      info,
      info
        ? "stop it first (`pylon stop`), or give this one its own home: PYLON_HOME=/other/folder pylon start"
        : "wait a moment and try again, or give this daemon its own home: PYLON_HOME=/other/folder",
    );
  }
  return new HomeLockedError(
    `Cannot change the job database: ${who} holds ${paths.homeLock}`,
    info,
    "try again in a moment; if a daemon is starting, the command will go through it",
  );
}
