/**
 * The cached bare mirror of a repository, `reposDir/<key>.git`: created with `git clone --mirror`
 * the first time, brought up to date before each job with
 * `git fetch --prune <url> '+refs/*:refs/*'`. Callers hold the mirror's lock.
 *
 * The fetch always uses the job's own URL; its credentials, if any, reach git through a credential
 * helper (`_credentials.ts`), never its command line, and the mirror's config keeps the URL
 * without them. A fetch that started after a job asked for the mirror
 * already serves that job, so a burst of jobs on one repository fetches once, not once each.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import type { Logger } from "../log/mod.ts";
import { type GitCall, gitOk, pathExists, runGit } from "./_git.ts";
import { gitAuth } from "./_credentials.ts";
import { gitError } from "./errors.ts";
import { isSafeRefName } from "./ref.ts";
import type { RepoUrl } from "./repo_url.ts";

/** Mirror folder name: the first 16 hex digits of sha256 of the normalised URL. */
export async function mirrorKey(normalized: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(normalized));
  return [...new Uint8Array(digest).subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** What a sync needs. */
export interface SyncOptions extends GitCall {
  log: Logger;
  /** When the job asked for the mirror (ms since epoch); fetches started later count as fresh. */
  requestedAt: number;
  /** Also refresh the mirror's HEAD from the remote's default branch. */
  refreshHead: boolean;
}

const STAMP_FILE = "pylon-fetched.json";
const BROKEN_REGEXP = /not a git repository|bad object|corrupt|missing object|unable to read/i;

/** Creates or updates the mirror at `dir` so it holds every ref of `repo` as of now. */
export async function syncMirror(repo: RepoUrl, dir: string, o: SyncOptions): Promise<void> {
  if (await pathExists(join(dir, "HEAD"))) {
    const stamp = await readStamp(dir);
    // `>=`: git reads the remote's refs milliseconds after the fetch starts, so a fetch started
    // in the same millisecond as the request still sees everything pushed before it.
    const fresh = stamp?.url === repo.normalized && stamp.at >= o.requestedAt &&
      (!o.refreshHead || (stamp.headAt ?? 0) >= o.requestedAt);
    if (fresh) {
      o.log.debug("workspace.mirror.fresh", { repo: repo.display });
      return;
    }
    const started = Date.now();
    const auth = gitAuth(repo);
    // Settled, not all(): the lock must not be released while either git still runs.
    const [fetched, head] = await Promise.allSettled([
      runGit({ ...o, env: auth.env }, [
        ...auth.args,
        "-c",
        "gc.autoDetach=false",
        "-c",
        "maintenance.autoDetach=false",
        "fetch",
        "--quiet",
        "--prune",
        "--no-write-fetch-head",
        "--",
        repo.url,
        "+refs/*:refs/*",
      ], dir),
      o.refreshHead ? refreshHead(repo, dir, o) : Promise.resolve(false),
    ]);
    if (fetched.status === "rejected") throw fetched.reason;
    if (head.status === "rejected") throw head.reason;
    const fetch = fetched.value;
    const headDone = head.value;
    if (fetch.code === 0) {
      const previousHead = stamp?.url === repo.normalized ? stamp.headAt : undefined;
      await writeStamp(dir, {
        url: repo.normalized,
        at: started,
        headAt: headDone ? started : previousHead,
      });
      o.log.info("workspace.mirror.fetched", { repo: repo.display, ms: Date.now() - started });
      return;
    }
    if (!BROKEN_REGEXP.test(fetch.stderr)) {
      throw gitError(
        {
          action: `fetch ${repo.display}`,
          repo: repo.display,
          redact: repo.redact,
          field: "workspace.repo",
        },
        fetch.code,
        fetch.stderr,
      );
    }
    o.log.warn("workspace.mirror.broken", { repo: repo.display, mirror: dir });
    await Deno.remove(dir, { recursive: true });
  }
  await createMirror(repo, dir, o);
}

async function createMirror(repo: RepoUrl, dir: string, o: SyncOptions): Promise<void> {
  const started = Date.now();
  const tmp = `${dir}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  const auth = gitAuth(repo);
  try {
    await gitOk(
      { ...o, env: auth.env },
      [
        ...auth.args,
        "clone",
        "--mirror",
        "--quiet",
        "--config",
        "gc.autoDetach=false",
        "--config",
        "maintenance.autoDetach=false",
        "--",
        repo.url,
        tmp,
      ],
      undefined,
      (r) =>
        gitError(
          {
            action: `clone ${repo.display}`,
            repo: repo.display,
            redact: repo.redact,
            field: "workspace.repo",
          },
          r.code,
          r.stderr,
        ),
    );
    await writeStamp(tmp, { url: repo.normalized, at: started, headAt: started });
    await removeLeftovers(dir, tmp);
    await Deno.rename(tmp, dir);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  o.log.info("workspace.mirror.created", { repo: repo.display, ms: Date.now() - started });
}

/** Removes a mirror without HEAD and temp clones of processes that died (we hold the lock). */
async function removeLeftovers(dir: string, keep: string): Promise<void> {
  const prefix = `${basename(dir)}.tmp-`;
  for await (const entry of Deno.readDir(dirname(dir))) {
    const path = join(dirname(dir), entry.name);
    if (path === dir || (entry.name.startsWith(prefix) && path !== keep)) {
      await Deno.remove(path, { recursive: true });
    }
  }
}

/** Points the mirror's HEAD at the remote's current default branch (`git ls-remote --symref`). */
async function refreshHead(repo: RepoUrl, dir: string, o: SyncOptions): Promise<boolean> {
  const auth = gitAuth(repo);
  const result = await runGit({ ...o, env: auth.env }, [
    ...auth.args,
    "ls-remote",
    "--symref",
    "--",
    repo.url,
    "HEAD",
  ], dir);
  // A failure here is reported by the fetch running alongside; a dumb server has no symref.
  if (result.code !== 0) return false;
  const m = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(result.stdout);
  const branch = m?.[1];
  if (!branch || !isSafeRefName(branch)) return false;
  const set = await runGit(o, ["symbolic-ref", "HEAD", `refs/heads/${branch}`], dir);
  if (set.code !== 0) {
    // Runs alongside the fetch, so it must not throw; the old HEAD stays in use.
    o.log.warn("workspace.mirror.head_failed", { mirror: dir, stderr: set.stderr.trim() });
    return false;
  }
  return true;
}

/** When the mirror was last fetched (and its HEAD refreshed), from which URL. */
interface Stamp {
  url: string;
  at: number;
  headAt?: number | undefined;
}

async function readStamp(dir: string): Promise<Stamp | undefined> {
  try {
    const data = JSON.parse(await Deno.readTextFile(join(dir, STAMP_FILE)));
    return typeof data?.url === "string" && typeof data?.at === "number" ? data : undefined;
  } catch {
    return undefined; // missing or unreadable: treat the mirror as stale
  }
}

async function writeStamp(dir: string, stamp: Stamp): Promise<void> {
  await Deno.writeTextFile(join(dir, STAMP_FILE), JSON.stringify(stamp));
}
