/**
 * The git-clone workspace: a cached bare mirror per repository, refreshed before each job, then a
 * local clone of it into `<jobDir>/workspace`.
 *
 * The local clone uses `--no-hardlinks`: git copies the mirror's object files instead of linking
 * them. Hard links would be faster still, but a linked pack file is the same inode as the
 * mirror's, and an agent can `chmod` and rewrite a file it can reach (the runner even hands the
 * workspace to the agent's user), which would poison the shared cache for every later job.
 * Alternates (`--reference`, `--shared`) are out too: they make the workspace depend on a mirror
 * path the container does not see. A copy is still local disk I/O: no transfer, no delta
 * resolution, so it stays far ahead of a network clone.
 *
 * The mirror is locked (in-process queue plus a `flock`ed lock file) while it is fetched and
 * read, so a fetch or `gc` never changes it under a reader. When the ref is already in the mirror,
 * the job does not wait for the fetch: it copies the mirror, then writes the files while the
 * fetch runs, and afterwards moves the workspace forward if the fetch brought a newer commit (or
 * starts over if the ref now names something else). A job therefore costs the longer of fetch
 * and checkout, not their sum, and still always starts from the remote's state at its start.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { type GitCall, gitOk, pathExists } from "./_git.ts";
import { agentCredentialJson, agentHelperConfig } from "./_credentials.ts";
import { advance, checkOut, copyMirror } from "./_local_clone.ts";
import { withLock } from "./_lock.ts";
import { mirrorKey, syncMirror } from "./_mirror.ts";
import { type Checkout, resolveRef } from "./_resolve.ts";
import { gitError, WorkspaceError } from "./errors.ts";
import { validateRef } from "./ref.ts";
import { parseRepoUrl, type RepoUrl } from "./repo_url.ts";
import type { ExtraMount, PreparedWorkspace, WorkspaceDeps, WorkspaceSpec } from "./types.ts";

/** Prepares `workspace` (which must not exist yet) as a clone of `spec.repo` at `spec.ref`. */
export async function prepareGitClone(
  spec: WorkspaceSpec,
  paths: { workspace: string; reposDir: string },
  deps: WorkspaceDeps,
): Promise<PreparedWorkspace> {
  if (!spec.repo) {
    throw new WorkspaceError("Cannot prepare a git-clone workspace: workspace.repo is not set", {
      field: "workspace.repo",
      hint: "set workspace.repo to the repository's URL in pylon.yaml",
    });
  }
  const repo = parseRepoUrl(spec.repo, deps.home);
  const ref = spec.ref ? validateRef(spec.ref) : undefined;
  const started = Date.now();
  await Deno.mkdir(paths.reposDir, { recursive: true });
  const key = await mirrorKey(repo.normalized);
  const mirror = join(paths.reposDir, `${key}.git`);
  const call: GitCall = { git: deps.git, signal: deps.signal };
  const workspace = paths.workspace;
  const sync = () =>
    syncMirror(repo, mirror, {
      ...call,
      log: deps.log,
      requestedAt: started,
      refreshHead: ref === undefined,
    });
  const { value: result, waitedMs } = await withLock(mirror, async () => {
    const before = await findRef(call, mirror, repo, ref);
    if (!before) {
      await sync();
      const checkout = await resolveRef(call, mirror, repo, ref);
      await copyMirror(call, mirror, workspace, checkout, repo);
      return { checkout, written: false };
    }
    await copyMirror(call, mirror, workspace, before, repo);
    // Settled, not all(): the lock must not be released while either git still runs.
    const [synced, written] = await Promise.allSettled([
      sync(),
      checkOut(call, workspace, before, repo),
    ]);
    if (synced.status === "rejected") throw synced.reason;
    if (written.status === "rejected") throw written.reason;
    const after = await resolveRef(call, mirror, repo, ref);
    if (sameCheckout(before, after)) return { checkout: after, written: true };
    if (
      (after.kind === "branch" || after.kind === "tag") && after.kind === before.kind &&
      after.name === before.name
    ) {
      await advance(call, mirror, workspace, after, repo);
      deps.log.debug("workspace.advanced", { repo: repo.display, ref: after.name });
      return { checkout: after, written: true };
    }
    deps.log.debug("workspace.recopied", { repo: repo.display, ref: labelOf(after) });
    await Deno.remove(workspace, { recursive: true });
    await copyMirror(call, mirror, workspace, after, repo);
    return { checkout: after, written: false };
  }, { lockFile: join(paths.reposDir, `${key}.lock`), signal: deps.signal });
  const checkout = result.checkout;
  // The copy no longer needs the mirror: write files without holding its lock.
  if (!result.written) await checkOut(call, workspace, checkout, repo);

  await gitOk(
    call,
    ["remote", "set-url", "--", "origin", repo.url],
    paths.workspace,
    (r) =>
      gitError(
        { action: `set the origin of ${paths.workspace}`, redact: repo.redact },
        r.code,
        r.stderr,
      ),
  );
  const extraMounts: ExtraMount[] = [];
  if (spec.push) {
    for (const [key, value] of agentHelperConfig(repo)) {
      await gitOk(call, ["config", "--add", key, value], workspace, (r) =>
        gitError(
          { action: `configure the credential helper of ${workspace}`, redact: repo.redact },
          r.code,
          r.stderr,
        ));
    }
    // The credential itself is served by the job's channel while the job runs (_credentials.ts).
    await removeLegacyCredentials(dirname(workspace));
    if (!repo.credentials) deps.log.warn("workspace.push.no_credentials", { repo: repo.display });
  }
  const label = labelOf(checkout);
  deps.log.info("workspace.cloned", {
    repo: repo.display,
    ref: label,
    commit: "sha" in checkout ? checkout.sha.slice(0, 12) : undefined,
    lock_wait_ms: waitedMs,
    ms: Date.now() - started,
  });
  const prepared: PreparedWorkspace = {
    hostPath: paths.workspace,
    readOnly: false,
    extraMounts,
    description: `git-clone of ${repo.display} at ${label}` +
      ("sha" in checkout ? ` (${checkout.sha.slice(0, 12)})` : ""),
  };
  if ("sha" in checkout) prepared.commit = checkout.sha;
  return prepared;
}

/**
 * What the job's channel serves to the agent's credential helper for a `workspace.push` job
 * (`git-credential`, see `_credentials.ts`); undefined without push or without credentials in
 * the URL. The runner writes it next to the job's token and deletes it when the job ends.
 */
export function pushCredential(spec: WorkspaceSpec, home: string | undefined): string | undefined {
  if (!spec.push || spec.type !== "git-clone" || !spec.repo) return undefined;
  return agentCredentialJson(parseRepoUrl(spec.repo, home));
}

/**
 * Removes `<jobDir>/git-credentials`, the credential file an older pylon mounted for the agent
 * (a continued job's folder may still have one): no credential stays at rest for the agent.
 */
export async function removeLegacyCredentials(jobDir: string): Promise<void> {
  await Deno.remove(join(jobDir, "git-credentials")).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/** What `ref` names in the mirror as it is, before fetching; undefined when unknown yet. */
async function findRef(
  call: GitCall,
  mirror: string,
  repo: RepoUrl,
  ref: string | undefined,
): Promise<Checkout | undefined> {
  if (!(await pathExists(join(mirror, "HEAD")))) return undefined;
  try {
    const found = await resolveRef(call, mirror, repo, ref);
    return found.kind === "empty" ? undefined : found;
  } catch (e) {
    if (e instanceof WorkspaceError) return undefined; // not there yet: fetch first
    throw e;
  }
}

function sameCheckout(a: Checkout, b: Checkout): boolean {
  return a.kind === b.kind && labelOf(a) === labelOf(b) &&
    ("sha" in a ? a.sha : "") === ("sha" in b ? b.sha : "");
}

function labelOf(checkout: Checkout): string {
  switch (checkout.kind) {
    case "branch":
    case "tag":
      return checkout.name;
    case "detached":
      return checkout.label;
    case "empty":
      return "(empty repository)";
  }
}
