/**
 * The steps that turn a mirror into a job's workspace: copy (`git clone --no-hardlinks
 * --no-checkout`), write the files, and move an already written workspace to a newer commit of
 * the same branch or tag.
 *
 * @module
 */

import { type GitCall, gitOk } from "./_git.ts";
import type { Checkout } from "./_resolve.ts";
import { gitError, type WorkspaceError } from "./errors.ts";
import type { RepoUrl } from "./repo_url.ts";

/** Copies the mirror into `workspace` without writing files; HEAD is set for `checkout`. */
export async function copyMirror(
  call: GitCall,
  mirror: string,
  workspace: string,
  checkout: Checkout,
  repo: RepoUrl,
): Promise<void> {
  const args = ["clone", "--quiet", "--no-hardlinks", "--no-checkout"];
  if (checkout.kind === "branch" || checkout.kind === "tag") args.push(`--branch=${checkout.name}`);
  await gitOk(call, [...args, "--", mirror, workspace], undefined, localFailure(workspace, repo));
}

/** Writes the working tree and index: HEAD as cloned, or the detached commit. */
export async function checkOut(
  call: GitCall,
  workspace: string,
  checkout: Checkout,
  repo: RepoUrl,
): Promise<void> {
  if (checkout.kind === "empty") return;
  const args = checkout.kind === "detached"
    ? ["checkout", "--quiet", "--detach", checkout.sha]
    : ["reset", "--quiet", "--hard"];
  await gitOk(call, args, workspace, localFailure(workspace, repo));
}

/**
 * Brings a written workspace of branch or tag `to.name` forward to `to.sha`, after the mirror's
 * fetch moved it: fetches the new objects from the mirror, then rewrites only what changed.
 */
export async function advance(
  call: GitCall,
  mirror: string,
  workspace: string,
  to: Checkout & { kind: "branch" | "tag" },
  repo: RepoUrl,
): Promise<void> {
  const fail = localFailure(workspace, repo);
  await gitOk(
    call,
    [
      "fetch",
      "--quiet",
      "--prune",
      "--no-write-fetch-head",
      "--",
      mirror,
      "+refs/heads/*:refs/remotes/origin/*",
      "+refs/tags/*:refs/tags/*",
    ],
    workspace,
    fail,
  );
  const args = to.kind === "branch"
    ? ["reset", "--quiet", "--hard", to.sha]
    : ["checkout", "--quiet", "--detach", to.sha];
  await gitOk(call, args, workspace, fail);
}

function localFailure(workspace: string, repo: RepoUrl) {
  return (r: { code: number; stderr: string }): WorkspaceError =>
    gitError(
      {
        action: `create the workspace ${workspace} from the cache of ${repo.display}`,
        reason: `git exited with code ${r.code}`,
        hint: "check free disk space and permissions under the pylon home folder",
        redact: repo.redact,
      },
      r.code,
      r.stderr,
    );
}
