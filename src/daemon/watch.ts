/**
 * Watches the pylon home for config edits with `Deno.watchFs`, debounced per pylon. Only
 * `pylons/<name>/pylon.yaml`, `pylons/<name>/.env`, pylon folders themselves, and the global
 * `config.yaml`/`.env` count; job databases and workspaces are ignored.
 *
 * @module
 */

import { basename, dirname, relative } from "node:path";
import type { PylonPaths } from "../config/mod.ts";

/** Callbacks of {@linkcode watchConfig}. */
export interface WatchHandlers {
  /** A pylon's files changed (or its folder appeared or vanished). */
  pylonChanged(name: string): void | Promise<void>;
  /** `config.yaml` or the global `.env` changed. */
  globalChanged(file: string): void | Promise<void>;
  /** Errors from the handlers themselves. */
  onError(e: unknown): void;
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
  const pylonWatcher = Deno.watchFs(paths.pylonsDir, { recursive: true });
  const rootWatcher = Deno.watchFs(paths.root, { recursive: false });
  const pump = async (watcher: Deno.FsWatcher) => {
    try {
      for await (const event of watcher) {
        for (const path of event.paths) {
          const name = pylonOfPath(paths, path);
          if (name) schedule(`pylon:${name}`, () => handlers.pylonChanged(name));
          else if (path === paths.globalConfig || path === paths.globalEnv) {
            schedule("global", () => handlers.globalChanged(path));
          }
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) handlers.onError(e);
    }
  };
  void pump(pylonWatcher);
  void pump(rootWatcher);
  return function stopWatching() {
    for (const timer of pending.values()) clearTimeout(timer);
    pending.clear();
    pylonWatcher.close();
    rootWatcher.close();
  };
}

/** The pylon a changed path belongs to, when the change can matter to its config. */
export function pylonOfPath(paths: PylonPaths, path: string): string | undefined {
  const rel = relative(paths.pylonsDir, path);
  if (rel === "" || rel.startsWith("..")) return undefined;
  const parts = rel.split("/");
  if (parts.length === 1) return parts[0]; // the folder itself appeared, moved or vanished
  if (parts.length === 2 && (parts[1] === "pylon.yaml" || parts[1] === ".env")) return parts[0];
  // Editors save through a temp file next to the original and rename it.
  if (
    parts.length === 2 && basename(dirname(path)) === parts[0] && /^pylon\.yaml/.test(parts[1]!)
  ) {
    return parts[0];
  }
  return undefined;
}
