/**
 * Mutual exclusion for a repository's mirror: an in-process queue per key (jobs of this daemon
 * take turns, first come first served) plus an advisory `flock` on a lock file (another daemon or
 * `pylon` process on the same host waits too). The kernel drops the file lock when a process
 * dies, so a crash never leaves a stale lock behind.
 *
 * @module
 */

const queues = new Map<string, Promise<void>>();

const POLL_MS = 50;

/** Options of {@linkcode withLock}. */
export interface LockOptions {
  /** A file to `flock` as well (created when missing); omit for an in-process lock only. */
  lockFile?: string | undefined;
  /** Stops waiting (the function is then not called). */
  signal?: AbortSignal | undefined;
}

/** Runs `fn` while holding the lock `key`; returns its result and how long the wait took. */
export async function withLock<T>(
  key: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<{ value: T; waitedMs: number }> {
  const started = performance.now();
  const previous = queues.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => release = resolve);
  const tail = previous.then(() => mine);
  queues.set(key, tail);
  try {
    await untilDone(previous, options.signal);
    const file = options.lockFile ? await lockFile(options.lockFile, options.signal) : undefined;
    try {
      const waitedMs = Math.round(performance.now() - started);
      return { value: await fn(), waitedMs };
    } finally {
      file?.close(); // closing the descriptor releases the flock
    }
  } finally {
    release();
    if (queues.get(key) === tail) queues.delete(key);
  }
}

async function lockFile(path: string, signal: AbortSignal | undefined): Promise<Deno.FsFile> {
  const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o644 });
  try {
    while (!(await file.tryLock(true))) {
      signal?.throwIfAborted();
      await sleep(POLL_MS, signal);
    }
    return file;
  } catch (e) {
    file.close();
    throw e;
  }
}

function untilDone(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
