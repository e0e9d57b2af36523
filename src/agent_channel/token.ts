/**
 * Per-job tokens of the agent channel (`docker.mounts: none`). A token is 32 random bytes
 * (base64url); only its SHA-256 is kept, in `jobs/<id>/channel/access.json` (0600, the daemon's
 * own folder, never mounted), with an expiry (the job's deadline plus a margin) and the job whose
 * agent state the job reads and writes (a follow-up continues its conversation's). A file, not a
 * store row: the channel's routes only need the jobs folder, and a daemon restart finds the same
 * file, so re-attached jobs keep working. Revoking deletes the file.
 *
 * @module
 */

import { join } from "node:path";

/** What the daemon keeps of one job's token. */
export interface JobAccess {
  /** Hex SHA-256 of the token. */
  sha256: string;
  /** Milliseconds since the epoch after which the token is refused. */
  expiresAt: number;
  /** The job whose saved agent state this job restores and uploads. */
  stateJob: string;
}

/** Why a request was refused (for the log; the agent gets a plain 401). */
export type AccessRefusal = "malformed" | "unknown-job" | "wrong-token" | "expired";

/** Job ids are UUIDs (tests use other safe names): nothing that could leave the jobs folder. */
const JOB_ID_REGEXP = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Whether `id` may name a job folder. */
export function isJobId(id: string): boolean {
  return JOB_ID_REGEXP.test(id);
}

/** `jobs/<id>/channel`: the daemon's files of the job's channel. */
export function channelDir(jobsDir: string, jobId: string): string {
  if (!isJobId(jobId)) throw new TypeError(`Not a job id: ${JSON.stringify(jobId)}`);
  return join(jobsDir, jobId, "channel");
}

/** Hex SHA-256 of `text`. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Creates (or replaces: a retry) the token of `jobId`; returns the token itself. */
export async function issueJobToken(
  jobsDir: string,
  jobId: string,
  o: { expiresAt: number; stateJob: string },
): Promise<string> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const token = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
  const access: JobAccess = { sha256: await sha256Hex(token), ...o };
  const dir = channelDir(jobsDir, jobId);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, "access.json");
  await Deno.writeTextFile(`${file}.tmp`, JSON.stringify(access) + "\n", { mode: 0o600 });
  await Deno.rename(`${file}.tmp`, file);
  return token;
}

/**
 * Revokes the token of `jobId` (the job ended), and deletes the repository credential the
 * channel served to the job (`git-credential.json`): it stays at rest nowhere once the job has
 * ended. A missing file is fine.
 */
export async function revokeJobToken(jobsDir: string, jobId: string): Promise<void> {
  for (const name of ["access.json", "git-credential.json"]) {
    await Deno.remove(join(channelDir(jobsDir, jobId), name)).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
}

/** Checks `token` for `jobId` at `now` (ms); constant-time on the hashes. */
export async function verifyJobToken(
  jobsDir: string,
  jobId: string,
  token: string,
  now: number,
): Promise<{ ok: true; access: JobAccess } | { ok: false; why: AccessRefusal }> {
  if (!isJobId(jobId) || token.length < 16 || token.length > 256) {
    return { ok: false, why: "malformed" };
  }
  let access: JobAccess;
  try {
    access = JSON.parse(
      await Deno.readTextFile(join(channelDir(jobsDir, jobId), "access.json")),
    ) as JobAccess;
  } catch {
    return { ok: false, why: "unknown-job" };
  }
  if (!timingSafeEqual(await sha256Hex(token), String(access.sha256))) {
    return { ok: false, why: "wrong-token" };
  }
  if (!(now <= access.expiresAt)) return { ok: false, why: "expired" };
  if (!isJobId(access.stateJob)) return { ok: false, why: "unknown-job" };
  return { ok: true, access };
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
