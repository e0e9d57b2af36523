/**
 * `prepareWorkspace` and `removeWorkspace`: the single door through which the runner gets a
 * job's folder, whatever the workspace type. Only the host path of the result is shared with the
 * container (ARCHITECTURE.md §5), so a remote engine needs nothing else from this area.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { pathExists } from "./_git.ts";
import { readMarker, removeMarker, writeMarker } from "./_marker.ts";
import { PylonError } from "../errors.ts";
import { quote, WorkspaceError } from "./errors.ts";
import { prepareGitClone, removeLegacyCredentials } from "./git_clone.ts";
import { prepareGitWorktree, removeWorktree } from "./git_worktree.ts";
import type { GitRunner } from "./git_runner.ts";
import { prepareLocal, prepareNone } from "./local.ts";
import { validateRef } from "./ref.ts";
import { parseRepoUrl } from "./repo_url.ts";
import { checkPayloadRepo } from "./spec.ts";
import { hostPathContext } from "../host_paths.ts";
import type { Logger } from "../log/mod.ts";
import type { PreparedWorkspace, WorkspaceDeps, WorkspaceSpec, WorkspaceTarget } from "./types.ts";

/** Name of the workspace folder inside a job's folder. */
export const WORKSPACE_DIR = "workspace";

/**
 * Prepares the folder a job's agent works in: `<jobDir>/workspace` for git-clone, git-worktree
 * and none, the user's folder for local, or `target.reuse` as it is for a follow-up.
 *
 * `spec.repo` and `spec.ref` are checked before anything touches the disk or runs git; a `repo`
 * the payload picked must also be in `workspace.allowed_repos` and not on this machine.
 *
 * @throws {WorkspaceError} with git's message and the field at fault when it cannot be prepared
 */
export async function prepareWorkspace(
  spec: WorkspaceSpec,
  target: WorkspaceTarget,
  deps: WorkspaceDeps,
): Promise<PreparedWorkspace> {
  const home = deps.home ?? Deno.env.get("HOME");
  const d: WorkspaceDeps = {
    ...deps,
    home,
    hostPaths: deps.hostPaths ??
      await hostPathContext({ env: { ...Deno.env.toObject(), HOME: home } }),
  };
  checkPayloadRepo(spec);
  if (target.reuse) {
    const reused = await reuseWorkspace(target.reuse, d.log);
    if (reused) return await dropLegacyCredentials(reused);
  }
  if (spec.ref) validateRef(spec.ref);
  if (spec.type === "git-clone" && spec.repo) parseRepoUrl(spec.repo, d.home);
  const { jobDir } = target;
  if (spec.type === "local") {
    const prepared = await prepareLocal(spec, d);
    await writeMarker(jobDir, { pylon: 1, type: "local", workspace: null, prepared });
    return prepared;
  }
  const workspace = join(jobDir, WORKSPACE_DIR);
  if ((await readMarker(jobDir)) || (await pathExists(workspace))) {
    d.log.warn("workspace.leftover_removed", { path: workspace });
    await removeWorkspace(jobDir, d);
  }
  await writeMarker(jobDir, { pylon: 1, type: spec.type, workspace });
  let prepared: PreparedWorkspace;
  try {
    switch (spec.type) {
      case "none":
        prepared = await prepareNone(workspace);
        break;
      case "git-clone":
        prepared = await prepareGitClone(spec, { workspace, reposDir: target.reposDir }, d);
        break;
      case "git-worktree":
        prepared = await prepareGitWorktree(spec, { workspace, jobDir }, d);
        break;
      default:
        throw new WorkspaceError(`Cannot prepare a workspace of type ${quote(String(spec.type))}`, {
          hint: "workspace.type must be git-clone, git-worktree, local or none",
        });
    }
  } catch (e) {
    // A half-made workspace would only confuse a retry; the error that matters is `e`.
    await removeWorkspace(jobDir, { ...d, signal: undefined }).catch((cleanup) =>
      d.log.warn("workspace.cleanup_failed", { path: workspace, error: String(cleanup) })
    );
    if (e instanceof PylonError || (d.signal?.aborted && e === d.signal.reason)) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new WorkspaceError(`Cannot prepare the ${spec.type} workspace ${workspace}: ${why}`, {
      hint: "check free disk space and permissions under the pylon home folder",
      cause: e,
    });
  }
  const marker = await readMarker(jobDir);
  await writeMarker(jobDir, { ...(marker ?? { pylon: 1, type: spec.type, workspace }), prepared });
  return prepared;
}

/**
 * Removes a job's workspace: unregisters a worktree from its repository (`git worktree remove
 * --force`, then `prune`) and deletes `<jobDir>/workspace`. A local workspace's folder is the
 * user's and is never touched. Missing pieces are fine.
 *
 * @throws {WorkspaceError} when the folder cannot be deleted
 */
export async function removeWorkspace(
  jobDir: string,
  deps: { git: GitRunner; log: Logger; signal?: AbortSignal | undefined },
): Promise<void> {
  const marker = await readMarker(jobDir);
  const workspace = join(jobDir, WORKSPACE_DIR);
  if (marker?.type === "git-worktree" && marker.commonDir) {
    try {
      await removeWorktree(marker.commonDir, workspace, deps);
    } catch (e) {
      deps.log.warn("workspace.worktree.remove_failed", { path: workspace, error: String(e) });
    }
  }
  try {
    const info = await Deno.lstat(workspace);
    await Deno.remove(workspace, { recursive: info.isDirectory });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new WorkspaceError(
        `Cannot remove the workspace ${workspace}: ${(e as Error).message}`,
        {
          hint: "files the agent created may belong to another user; remove the folder with " +
            "sufficient rights (e.g. `sudo rm -rf` on it)",
          cause: e,
        },
      );
    }
  }
  await removeMarker(jobDir);
  if (marker) deps.log.debug("workspace.removed", { path: workspace, type: marker.type });
}

/**
 * A continued git-clone workspace: the credential file an older pylon mounted for a
 * `workspace.push` job is removed, and so is its mount (the channel serves the credential now).
 */
async function dropLegacyCredentials(reused: PreparedWorkspace): Promise<PreparedWorkspace> {
  if (!reused.hostPath) return reused;
  await removeLegacyCredentials(dirname(reused.hostPath));
  const extraMounts = reused.extraMounts.filter((m) => m.containerPath !== LEGACY_CREDENTIALS_PATH);
  return extraMounts.length === reused.extraMounts.length ? reused : { ...reused, extraMounts };
}

/** Where an older pylon mounted the agent's credential file. */
const LEGACY_CREDENTIALS_PATH = "/pylon/git-credentials";

/** The previous workspace at `path` when it still exists, with the mounts it was prepared with. */
async function reuseWorkspace(path: string, log: Logger): Promise<PreparedWorkspace | undefined> {
  try {
    if (!(await Deno.stat(path)).isDirectory) throw new Deno.errors.NotFound();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    log.warn("workspace.reuse_missing", { path });
    return undefined;
  }
  const prepared = (await readMarker(dirname(path)))?.prepared;
  const extraMounts = [];
  for (const m of prepared?.hostPath === path ? prepared.extraMounts : []) {
    if (await pathExists(m.hostPath)) extraMounts.push(m);
  }
  log.info("workspace.reused", { path });
  // No `commit`: the agent may have moved HEAD since, and git is never run in its folder here.
  return {
    hostPath: path,
    readOnly: false,
    extraMounts,
    description: `${prepared?.hostPath === path ? prepared.description : path}, continued`,
  };
}
