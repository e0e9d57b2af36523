/**
 * The pylon home is private to the user who runs pylon: job payloads, results, agent state,
 * repository mirrors and `daemon.token` live there. Folders are 0700 and the files pylon creates
 * for itself 0600; a home made with looser modes (by pylon 0.1, or by hand) is tightened when the
 * daemon starts.
 *
 * Agents are not locked out by this: a bind mount is reached through the container's own path,
 * so the modes of the folders above a job's folder do not apply inside the container.
 *
 * @module
 */

import type { PylonPaths } from "./paths.ts";

/** The mode of every folder of the home. */
export const PRIVATE_DIR_MODE = 0o700;
/** The mode of the files pylon writes for itself (databases, lock, token). */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates the home's folders as 0700 and takes group and other access away from existing ones.
 * Returns the folders whose mode was changed.
 */
export async function ensurePrivateHome(paths: PylonPaths): Promise<string[]> {
  const tightened: string[] = [];
  for (const dir of [paths.root, paths.pylonsDir, paths.dataDir, paths.jobsDir, paths.reposDir]) {
    if (await ensurePrivateDir(dir)) tightened.push(dir);
  }
  return tightened;
}

/** Creates `dir` (and missing parents) as 0700, or tightens it; true when its mode changed. */
export async function ensurePrivateDir(dir: string): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    await Deno.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    return false;
  }
  if (info.mode === null || (info.mode & 0o077) === 0) return false;
  await Deno.chmod(dir, info.mode & 0o7700);
  return true;
}
