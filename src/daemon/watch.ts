/**
 * Watches the pylon home for config edits with `Deno.watchFs`, debounced per pylon. Only
 * `pylons/<name>/pylon.yaml`, `pylons/<name>/.env`, pylon folders themselves, and the global
 * `config.yaml`/`.env` count; job databases and workspaces are ignored.
 *
 * Nothing the daemon writes at run time may live under a watched folder. The watcher (notify's
 * inotify thread) opens and closes files it reports on, and closing ANY descriptor of a SQLite
 * file drops all of the process's POSIX locks on it; with the job databases in `pylons/<name>/`
 * that let a `pylon jobs` next to the daemon take its WAL for abandoned and delete it, losing
 * acknowledged jobs. So databases live in `data/<name>/` (never watched: the root watch is not
 * recursive) and job logs in `jobs/`.
 *
 * Why folders and not the config files themselves: a `.env` created later would be missed,
 * editors that save by renaming end a file watch, and a watch cannot be re-armed reliably (Deno
 * 2.9 shares one inotify watch set among a process's watchers, and closing one removes the
 * shared kernel watches of the others). Each watcher checks only for its own files, with a
 * string prefix test instead of `path.relative()`, which resolved every path.
 *
 * @module
 */

import { sep } from "node:path";
import type { PylonPaths } from "../config/mod.ts";

/** Callbacks of {@linkcode watchConfig}. */
export interface WatchHandlers {
  /** A pylon's files changed (or its folder appeared or vanished). */
  pylonChanged(name: string): void | Promise<void>;
  /** `config.yaml` or the global `.env` changed. */
  globalChanged(file: string): void | Promise<void>;
  /** Errors from the handlers themselves. */
  onError(e: unknown): void;
  /**
   * A pylon folder cannot be read, so `pylons/` is watched folder by folder (see
   * {@linkcode watchConfig}); `unreadable` names the folders not watched yet.
   */
  onDegraded?(unreadable: string[]): void;
}

/** Starts watching; the returned function stops it. */
export async function watchConfig(
  paths: PylonPaths,
  handlers: WatchHandlers,
  options: { debounceMs?: number } = {},
): Promise<() => void> {
  const debounceMs = options.debounceMs ?? 100;
  await Deno.mkdir(paths.pylonsDir, { recursive: true });
  const pending = new Map<string, ReturnType<typeof setTimeout>>();
  const schedule = (key: string, fire: () => void | Promise<void>) => {
    clearTimeout(pending.get(key));
    pending.set(
      key,
      setTimeout(() => {
        pending.delete(key);
        Promise.resolve().then(fire).catch(handlers.onError);
      }, debounceMs),
    );
  };
  const watchers: Deno.FsWatcher[] = [];
  const onPylonPath = (path: string) => {
    const name = pylonOfPath(paths, path);
    if (name) {
      schedule(`pylon:${name}`, () => {
        if (perFolder) watchFolder(name);
        return handlers.pylonChanged(name);
      });
    }
  };
  // A recursive watch fails as a whole when one pylon folder cannot be read (`chmod 000`, another
  // owner). Then `pylons/` and each pylon folder get a watch of their own, never closed until
  // the daemon stops (closing one would drop the others' shared kernel watches, see above); a
  // folder that becomes readable is watched once it changes (a chmod is an event on `pylons/`).
  let perFolder = false;
  const watchedFolders = new Set<string>();
  const watchFolder = (name: string) => {
    if (watchedFolders.has(name)) return true;
    try {
      const w = Deno.watchFs(paths.pylonDir(name), { recursive: false });
      watchers.push(w);
      watchedFolders.add(name);
      void pump(w, handlers, onPylonPath);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotFound) {
        return false;
      }
      throw e;
    }
  };
  try {
    watchers.push(Deno.watchFs(paths.pylonsDir, { recursive: true }));
  } catch (e) {
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    perFolder = true;
    watchers.push(Deno.watchFs(paths.pylonsDir, { recursive: false }));
  }
  void pump(watchers[0]!, handlers, onPylonPath);
  if (perFolder) {
    const unreadable: string[] = [];
    for await (const entry of Deno.readDir(paths.pylonsDir)) {
      if (entry.isDirectory && !watchFolder(entry.name)) unreadable.push(entry.name);
    }
    handlers.onDegraded?.(unreadable.sort());
  }
  const rootWatcher = Deno.watchFs(paths.root, { recursive: false });
  watchers.push(rootWatcher);
  // Each pump looks only for its own files: Deno shares one inotify watch set among all of a
  // process's watchers and hands each watcher every event under its path, so the root watcher
  // sees the pylon folders' events too.
  void pump(rootWatcher, handlers, (path) => {
    if (path === paths.globalConfig || path === paths.globalEnv) {
      schedule("global", () => handlers.globalChanged(path));
    }
  });
  return function stopWatching() {
    for (const timer of pending.values()) clearTimeout(timer);
    pending.clear();
    for (const w of watchers) w.close();
  };
}

async function pump(
  watcher: Deno.FsWatcher,
  handlers: WatchHandlers,
  changed: (path: string) => void,
): Promise<void> {
  try {
    for await (const event of watcher) {
      for (const path of event.paths) changed(path);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.BadResource)) handlers.onError(e);
  }
}

/** The pylon a changed path belongs to, when the change can matter to its config. */
export function pylonOfPath(paths: PylonPaths, path: string): string | undefined {
  const prefix = paths.pylonsDir + sep;
  if (!path.startsWith(prefix)) return undefined;
  const parts = path.slice(prefix.length).split(sep);
  if (parts[0] === "") return undefined;
  if (parts.length === 1) return parts[0]; // the folder itself appeared, moved or vanished
  // pylon.yaml itself, or the temp file next to it through which an editor saves and renames.
  if (parts.length === 2 && (parts[1] === ".env" || parts[1]!.startsWith("pylon.yaml"))) {
    return parts[0];
  }
  return undefined;
}
