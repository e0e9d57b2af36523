/**
 * Prepares the host folders an agent writes to (`out`, `state`, `state/home`, a new workspace)
 * for the uid the agent runs as, when the daemon runs as root.
 *
 * Those folders are the agent's once a container has run with them: it may have replaced
 * `state/home` with a link to any host path, and a follow-up runs in the same state again. So
 * nothing here follows a link: paths are examined with `lstat`, a link or other non-folder the
 * agent left where a folder belongs is removed (the link, never its target) and replaced by a
 * new folder, ownership changes with `lchown`, and only where the owner is not the agent's
 * already (a folder pylon just made). A workspace an earlier job already used is never walked.
 *
 * @module
 */

import { lchown } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log/mod.ts";

/**
 * Makes `path` a real folder (its parent must exist) owned by `uid` when `uid` is given. A link,
 * file or FIFO in its place is replaced; returns what was there.
 */
export async function ensureAgentDir(
  path: string,
  options: { uid?: number | undefined; log?: Logger } = {},
): Promise<"folder" | "missing" | "replaced"> {
  let found: "folder" | "missing" | "replaced" = "folder";
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.lstat(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    found = "missing";
  }
  if (info && !info.isDirectory) {
    // The agent's doing (e.g. `ln -s /etc $HOME`): drop the link itself, not what it points to.
    await Deno.remove(path);
    options.log?.warn("agent_dir.replaced", {
      path,
      was: info.isSymlink ? "symlink" : info.isFile ? "file" : "other",
    });
    found = "replaced";
  }
  if (found !== "folder") {
    // Not recursive: a link planted in between makes this fail instead of being followed.
    await Deno.mkdir(path, { mode: 0o700 });
    info = await Deno.lstat(path);
  }
  if (options.uid !== undefined && (info!.uid !== options.uid || info!.gid !== options.uid)) {
    await lchown(path, options.uid, options.uid);
  }
  return found;
}

/**
 * Makes a job's own folder (`jobs/<id>`) private to the daemon's user: created 0700, and a folder
 * an older pylon made looser is tightened. The agent never gets this folder itself, only the
 * folders inside it that are mounted (`out`, `state`, the workspace), which the Engine resolves
 * as root, so the agent's uid needs no access to the folder around them.
 */
export async function ensureJobDir(jobDir: string): Promise<void> {
  await Deno.mkdir(jobDir, { recursive: true, mode: 0o700 });
  const info = await Deno.lstat(jobDir);
  if (!info.isDirectory) throw new Error(`${jobDir} is not a folder`);
  if (info.mode !== null && (info.mode & 0o077) !== 0) await Deno.chmod(jobDir, 0o700);
}

/**
 * Gives a tree that pylon has just made (a new clone or worktree: no agent has run in it yet) to
 * `uid`. Links are chowned themselves and never followed; only real folders are entered.
 */
export async function chownNewTree(path: string, uid: number): Promise<void> {
  const info = await Deno.lstat(path);
  await lchown(path, uid, uid);
  if (!info.isDirectory) return;
  for await (const entry of Deno.readDir(path)) {
    const child = join(path, entry.name);
    if (entry.isDirectory && !entry.isSymlink) await chownNewTree(child, uid);
    else await lchown(child, uid, uid);
  }
}
