/**
 * Where pylon keeps its files. Every path is derived from one root, `PYLON_HOME`
 * (default `~/.pylon`), so tests and several instances on one host never collide.
 *
 * @module
 */

import { join } from "node:path";

/** The file layout under one pylon home folder. */
export interface PylonPaths {
  /** The root folder (`PYLON_HOME`). */
  readonly root: string;
  /** `config.yaml`, the machine-level config. */
  readonly globalConfig: string;
  /** The global `.env` file. */
  readonly globalEnv: string;
  /** Folder holding one sub-folder per pylon. */
  readonly pylonsDir: string;
  /** Per-job folders and logs. */
  readonly jobsDir: string;
  /** Cached git mirrors. */
  readonly reposDir: string;
  /** The bearer token of the daemon's control API. */
  readonly daemonToken: string;
  /** Written by a running daemon: its pid and address. */
  readonly daemonPid: string;
  /** Held (flock) by the one daemon of this home, or by a CLI command writing without one. */
  readonly homeLock: string;
  /**
   * Folder of the job databases, one sub-folder per pylon. Kept outside `pylons/`, which the
   * daemon watches: the file watcher opens and closes changed files, and closing any
   * descriptor of a SQLite file drops the process's POSIX locks on it.
   */
  readonly dataDir: string;
  /** Folder of one pylon. */
  pylonDir(name: string): string;
  /** `pylon.yaml` of one pylon. */
  pylonConfig(name: string): string;
  /** `.env` of one pylon. */
  pylonEnv(name: string): string;
  /** Data folder of one pylon (its job database). */
  pylonDataDir(name: string): string;
  /** `jobs.db` of one pylon, under {@linkcode dataDir}. */
  pylonDb(name: string): string;
  /** Where `jobs.db` lived before 0.2 (`pylons/<name>/jobs.db`); moved on start. */
  legacyPylonDb(name: string): string;
}

/** Builds the layout under `root`; does no I/O. */
export function createPylonPaths(root: string): PylonPaths {
  const pylonsDir = join(root, "pylons");
  const dataDir = join(root, "data");
  return {
    root,
    globalConfig: join(root, "config.yaml"),
    globalEnv: join(root, ".env"),
    pylonsDir,
    jobsDir: join(root, "jobs"),
    reposDir: join(root, "repos"),
    daemonToken: join(root, "daemon.token"),
    daemonPid: join(root, "daemon.pid"),
    homeLock: join(root, "daemon.lock"),
    dataDir,
    pylonDir: (name) => join(pylonsDir, name),
    pylonConfig: (name) => join(pylonsDir, name, "pylon.yaml"),
    pylonEnv: (name) => join(pylonsDir, name, ".env"),
    pylonDataDir: (name) => join(dataDir, name),
    pylonDb: (name) => join(dataDir, name, "jobs.db"),
    legacyPylonDb: (name) => join(pylonsDir, name, "jobs.db"),
  };
}

/**
 * Resolves the pylon home from the environment: `PYLON_HOME`, else `$HOME/.pylon`.
 *
 * @throws {Error} when neither `PYLON_HOME` nor `HOME` is set
 */
export function resolvePylonHome(env: Record<string, string | undefined>): string {
  const explicit = env.PYLON_HOME;
  if (explicit) return explicit;
  const home = env.HOME ?? env.USERPROFILE;
  if (!home) {
    throw new Error("Cannot find the pylon home folder: neither PYLON_HOME nor HOME is set");
  }
  return join(home, ".pylon");
}

/** Shows a path the way users think of it: the home folder as `~`. */
export function displayPath(path: string, home: string | undefined): string {
  if (home && (path === home || path.startsWith(home + "/"))) return "~" + path.slice(home.length);
  return path;
}
