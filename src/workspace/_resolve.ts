/**
 * Turns `workspace.ref` into what to check out of a mirror: a branch, a tag, or a detached
 * commit. Branches win over tags of the same name (as `git clone --branch` does); a full
 * `refs/…` name, a commit sha (4–40 hex digits) and whatever else git resolves to a commit in the
 * mirror (`pull/42/head` → `refs/pull/42/head`) work too. An empty ref means the remote's
 * default branch, read from the mirror's HEAD (kept current by the sync), never a fixed `main`.
 *
 * @module
 */

import { type GitCall, gitOk, runGit } from "./_git.ts";
import { gitError, quote, stderrTail, WorkspaceError } from "./errors.ts";
import type { RepoUrl } from "./repo_url.ts";

/** What to check out. */
export type Checkout =
  | { kind: "branch" | "tag"; name: string; sha: string }
  | { kind: "detached"; label: string; sha: string }
  | { kind: "empty" };

/** Resolves `ref` (validated, or undefined for the default branch) inside the mirror `dir`. */
export async function resolveRef(
  call: GitCall,
  dir: string,
  repo: RepoUrl,
  ref: string | undefined,
): Promise<Checkout> {
  if (ref === undefined) return await resolveDefault(call, dir, repo);
  const wanted = ref.startsWith("refs/") ? [ref] : [`refs/heads/${ref}`, `refs/tags/${ref}`];
  const out = await gitOk(
    call,
    ["for-each-ref", "--format=%(refname)", "--", ...wanted],
    dir,
    (r) =>
      gitError(
        { action: `read the refs of ${repo.display}`, repo: repo.display, redact: repo.redact },
        r.code,
        r.stderr,
      ),
  );
  const present = new Set(out.split("\n"));
  const found = wanted.find((name) => present.has(name));
  if (found) {
    const sha = await commitOf(call, dir, found);
    if (sha) {
      if (found.startsWith("refs/heads/")) return { kind: "branch", name: found.slice(11), sha };
      if (found.startsWith("refs/tags/")) return { kind: "tag", name: found.slice(10), sha };
      return { kind: "detached", label: found, sha };
    }
  }
  const last = await runGit(
    call,
    ["rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`],
    dir,
  );
  const sha = last.stdout.trim();
  if (last.code === 0 && /^[0-9a-f]{40}$/.test(sha)) {
    return { kind: "detached", label: ref, sha };
  }
  const tail = stderrTail(last.stderr);
  throw new WorkspaceError(
    `Cannot check out workspace.ref ${quote(ref)} of ${repo.display}: no branch, tag or commit ` +
      `of that name${tail ? ` (git: ${repo.redact(tail)})` : ""}`,
    {
      field: "workspace.ref",
      gitStderr: tail || undefined,
      hint: `check that it exists (\`git ls-remote ${repo.display}\` lists branches and tags); ` +
        "when workspace.ref is a template, check the payload it was rendered from",
    },
  );
}

async function resolveDefault(call: GitCall, dir: string, repo: RepoUrl): Promise<Checkout> {
  const head = await runGit(call, ["symbolic-ref", "--quiet", "HEAD"], dir);
  const target = head.stdout.trim();
  if (head.code === 0 && target.startsWith("refs/heads/")) {
    const sha = await commitOf(call, dir, target);
    if (sha) return { kind: "branch", name: target.slice(11), sha };
  } else {
    const sha = await commitOf(call, dir, "HEAD");
    if (sha) return { kind: "detached", label: "HEAD", sha };
  }
  const any = await runGit(call, ["for-each-ref", "--count=1", "--format=%(refname)"], dir);
  if (any.code === 0 && any.stdout.trim() === "") return { kind: "empty" };
  throw new WorkspaceError(
    `Cannot check out the default branch of ${repo.display}: its HEAD (${target || "detached"}) ` +
      "points at no commit",
    {
      field: "workspace.ref",
      hint: "set workspace.ref to a branch or tag that exists, or fix the default branch " +
        "on the server",
    },
  );
}

/** The commit `name` points at, or undefined. */
async function commitOf(call: GitCall, dir: string, name: string): Promise<string | undefined> {
  const r = await runGit(call, [
    "rev-parse",
    "--verify",
    "--quiet",
    "--end-of-options",
    `${name}^{commit}`,
  ], dir);
  const sha = r.stdout.trim();
  return r.code === 0 && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
}
