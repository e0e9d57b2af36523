/**
 * Removing a job's folder, which its agent wrote into. An agent may leave folders of its own
 * without write permission (a killed OpenCode run leaves its config folder 0555, made so that
 * OpenCode skips a plugin install): a daemon that is not root cannot empty them. Root ignores
 * the modes; anyone else gets one more try, after the folders are made writable by their owner.
 *
 * @module
 */

import { join } from "node:path";

/** Removes `path` and everything under it; nothing to do when it does not exist. */
export async function removeTree(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
    return;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
  }
  await unlockFolders(path);
  await Deno.remove(path, { recursive: true });
}

/**
 * Adds the owner's rwx to `path` and every folder under it. Links are never followed: only
 * what `lstat` and the listing call folders is changed (the agent's container is gone by now,
 * so nothing swaps them meanwhile). Folders of other owners are left as they are.
 */
async function unlockFolders(path: string): Promise<void> {
  const info = await Deno.lstat(path).catch(() => null);
  if (!info?.isDirectory) return;
  await Deno.chmod(path, (info.mode! & 0o7777) | 0o700).catch(() => {});
  for await (const entry of Deno.readDir(path)) {
    if (entry.isDirectory) await unlockFolders(join(path, entry.name));
  }
}
