/**
 * `$PYLON_HOME/daemon.pid`: a running daemon's pid and address, so `pylon stop` can find a
 * daemon started in another terminal, and a second daemon on the same home is noticed.
 *
 * @module
 */

/** What the pid file records. */
export interface DaemonInfo {
  pid: number;
  host: string;
  port: number;
  startedAt: string;
}

/** Writes the pid file of this process. */
export async function writePidFile(path: string, info: DaemonInfo): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(info) + "\n", { mode: 0o644 });
}

/** Reads the pid file; `null` when absent or unreadable. */
export async function readPidFile(path: string): Promise<DaemonInfo | null> {
  try {
    const info = JSON.parse(await Deno.readTextFile(path));
    return typeof info?.pid === "number" ? info as DaemonInfo : null;
  } catch {
    return null;
  }
}

/** Removes the pid file if it still names `pid` (a newer daemon may have replaced it). */
export async function removePidFile(path: string, pid: number): Promise<void> {
  const info = await readPidFile(path);
  if (info?.pid !== pid) return;
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
