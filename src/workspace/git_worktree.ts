/**
 * The git-worktree workspace: `git worktree add --detach <jobDir>/workspace <commit>` in a
 * repository that already exists on the host. No fetch: keeping it current is the user's job.
 *
 * Mounts. The worktree's `.git` is a file naming `<repo .git>/worktrees/<name>` by absolute
 * path, and that folder names the shared `.git` through `commondir`. So the container gets, at
 * the same absolute paths:
 * - the repository's `.git`, read-only: objects, refs, config and hooks of the user's repository
 *   stay untouchable (no planted hook, no moved branch, no rewritten object);
 * - the worktree's own `.git/worktrees/<name>`, read-write, mounted inside the first: its HEAD,
 *   index and reflog, which `git status`, `checkout` of known commits and the like update.
 * That is the minimum for git to work in the worktree. Commands that create objects (`add`,
 * `commit`, `stash`) fail on the read-only object store, by design: the agent's changes stay as
 * edits in the worktree, where the user reviews and commits them.
 *
 * @module
 */

import { isAbsolute, join, resolve } from "node:path";
import { type GitCall, gitOk, pathExists, runGit } from "./_git.ts";
import { withLock } from "./_lock.ts";
import { writeMarker } from "./_marker.ts";
import { quote, remoteReason, stderrTail, WorkspaceError } from "./errors.ts";
import { validateRef } from "./ref.ts";
import { expandHome } from "./repo_url.ts";
import type { Logger } from "../log/mod.ts";
import type { PreparedWorkspace, WorkspaceDeps, WorkspaceSpec } from "./types.ts";

const UNSAFE_REGEXP = /\p{Cc}/u;

/** Adds a detached worktree of `spec.repo` at `spec.ref` (default HEAD) as `workspace`. */
export async function prepareGitWorktree(
  spec: WorkspaceSpec,
  paths: { workspace: string; jobDir: string },
  deps: WorkspaceDeps,
): Promise<PreparedWorkspace> {
  const repoDir = await repositoryDir(spec.repo, deps.home);
  const ref = spec.ref ? validateRef(spec.ref) : "HEAD";
  const call: GitCall = { git: deps.git, signal: deps.signal };
  const commonDir = await commonDirOf(call, repoDir, spec.repo ?? "");
  const resolved = await runGit(call, [
    "rev-parse",
    "--verify",
    "--end-of-options",
    `${ref}^{commit}`,
  ], repoDir);
  const sha = resolved.stdout.trim();
  if (resolved.code !== 0 || !/^[0-9a-f]{40}$/.test(sha)) {
    const tail = stderrTail(resolved.stderr);
    throw new WorkspaceError(
      `Cannot check out workspace.ref ${quote(ref)} of ${repoDir}: no branch, tag or commit of ` +
        `that name${tail ? ` (git: ${tail})` : ""}`,
      {
        field: "workspace.ref",
        gitStderr: tail || undefined,
        hint: "pylon does not fetch into a git-worktree repository; run `git fetch` there, or " +
          "check the payload workspace.ref was rendered from",
      },
    );
  }
  // Recorded first, so a crash half-way still lets removeWorkspace unregister the worktree.
  await writeMarker(paths.jobDir, {
    pylon: 1,
    type: "git-worktree",
    workspace: paths.workspace,
    commonDir,
  });
  await withLock(`worktree:${commonDir}`, async () => {
    await gitOk(
      call,
      ["worktree", "add", "--detach", "--quiet", "--", paths.workspace, sha],
      repoDir,
      (r) => {
        const tail = stderrTail(r.stderr);
        return new WorkspaceError(
          `Cannot add a worktree of ${repoDir} at ${paths.workspace}: git exited with code ${r.code}` +
            (tail ? ` (git: ${tail})` : ""),
          {
            gitStderr: tail || undefined,
            hint: "run `git worktree prune` in the repository and check its permissions",
          },
        );
      },
    );
  }, { signal: deps.signal });
  const adminDir = await adminDirOf(paths.workspace, commonDir);
  deps.log.info("workspace.worktree.added", { repo: repoDir, ref, commit: sha.slice(0, 12) });
  return {
    hostPath: paths.workspace,
    readOnly: false,
    extraMounts: [
      { hostPath: commonDir, containerPath: commonDir, readOnly: true },
      { hostPath: adminDir, containerPath: adminDir, readOnly: false },
    ],
    description: `git-worktree of ${repoDir} at ${ref} (${sha.slice(0, 12)})`,
    commit: sha,
  };
}

/** Unregisters the worktree at `workspace` from `commonDir` and deletes its folder. */
export async function removeWorktree(
  commonDir: string,
  workspace: string,
  deps: { git: GitCall["git"]; log: Logger; signal?: AbortSignal | undefined },
): Promise<void> {
  const call: GitCall = { git: deps.git, signal: deps.signal };
  if (!(await pathExists(commonDir))) return;
  await withLock(`worktree:${commonDir}`, async () => {
    const removed = await runGit(
      call,
      ["worktree", "remove", "--force", "--", workspace],
      commonDir,
    );
    if (removed.code !== 0 && (await pathExists(workspace))) {
      // e.g. a worktree with submodules, which git refuses to remove: delete, then prune.
      deps.log.debug("workspace.worktree.remove_failed", { stderr: stderrTail(removed.stderr) });
      await Deno.remove(workspace, { recursive: true });
    }
    const pruned = await runGit(call, ["worktree", "prune"], commonDir);
    if (pruned.code !== 0) {
      deps.log.warn("workspace.worktree.prune_failed", {
        repo: commonDir,
        stderr: stderrTail(pruned.stderr),
      });
    }
  }, { signal: deps.signal });
}

async function repositoryDir(value: string | undefined, home: string | undefined): Promise<string> {
  const fail = (problem: string) =>
    new WorkspaceError(`Cannot use workspace.repo ${quote(value ?? "")}: ${problem}`, {
      field: "workspace.repo",
      hint: "a git-worktree workspace needs the absolute path of a repository cloned on this " +
        "host (use git-clone for URLs)",
    });
  if (!value) throw fail("it is not set");
  if (UNSAFE_REGEXP.test(value)) throw fail("it contains a control character");
  const expanded = expandHome(value, home);
  if (!isAbsolute(expanded)) throw fail("it is not an absolute path");
  try {
    const real = await Deno.realPath(expanded);
    if (!(await Deno.stat(real)).isDirectory) throw fail("it is not a folder");
    return real;
  } catch (e) {
    if (e instanceof WorkspaceError) throw e;
    throw fail(e instanceof Deno.errors.NotFound ? "no such folder" : String(e));
  }
}

/** The repository's shared git dir; refuses a folder that is merely inside some repository. */
async function commonDirOf(call: GitCall, repoDir: string, shown: string): Promise<string> {
  const r = await runGit(call, [
    "rev-parse",
    "--path-format=absolute",
    "--git-common-dir",
    "--is-bare-repository",
    "--show-prefix",
  ], repoDir);
  const [common = "", bare = "", prefix = ""] = r.stdout.split("\n");
  const topLevel = bare === "true" ? resolve(common) === repoDir : prefix === "";
  if (r.code !== 0 && /dubious ownership/.test(r.stderr)) {
    const { reason, hint } = remoteReason(r.stderr);
    throw new WorkspaceError(`Cannot use workspace.repo ${quote(shown)}: ${reason}`, {
      field: "workspace.repo",
      gitStderr: stderrTail(r.stderr),
      hint,
    });
  }
  if (r.code !== 0 || !common || !topLevel) {
    const tail = stderrTail(r.stderr);
    throw new WorkspaceError(
      `Cannot use workspace.repo ${quote(shown)}: ${repoDir} is not the top folder of a git ` +
        `repository${tail ? ` (git: ${tail})` : ""}`,
      {
        field: "workspace.repo",
        gitStderr: tail || undefined,
        hint: "clone the repository there first, or point workspace.repo at its top folder",
      },
    );
  }
  return await Deno.realPath(common);
}

/** The worktree's private git dir, read from its `.git` file and checked to be ours. */
async function adminDirOf(workspace: string, commonDir: string): Promise<string> {
  const text = await Deno.readTextFile(join(workspace, ".git"));
  const gitdir = /^gitdir: (.+)$/m.exec(text)?.[1]?.trim() ?? "";
  const admin = await Deno.realPath(resolve(workspace, gitdir));
  if (!admin.startsWith(join(commonDir, "worktrees") + "/")) {
    throw new WorkspaceError(
      `Cannot use the worktree at ${workspace}: its .git points to ${admin}`,
      {
        hint: "this is likely a bug in pylon; please report it",
      },
    );
  }
  return admin;
}
