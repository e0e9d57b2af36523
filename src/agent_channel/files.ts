/**
 * Where the agent channel keeps a job's files in the daemon's jobs folder (never mounted):
 * `jobs/<id>/channel/{access.json, bundle.json, git-credential.json, state.tar}`, and the two
 * files of the container contract the rest of the daemon already reads, `jobs/<id>/out/
 * result.json` and `events.ndjson` (the channel writes them where a bind mount would have).
 *
 * @module
 */

import { join } from "node:path";
import { channelDir } from "./token.ts";

/** The job bundle the init step fetches first (`GET /agent/v1/jobs/<id>/bundle`). */
export interface JobBundle {
  version: 1;
  /** Files to write before the agent starts: the prompt, the MCP config, OAuth files. */
  files: { path: string; mode: number; content_base64: string }[];
  /** The repository to clone into `/workspace` (`workspace.type: git-clone`), else null. */
  repo: {
    url: string;
    ref: string | null;
    credential: boolean;
    /** `workspace.push`: the init step names its credential helper in the workspace's config. */
    push?: boolean;
  } | null;
  /** Whether a saved agent state is restored first (a follow-up, a retry). */
  "restore_state": boolean;
}

/** The daemon's paths of one job's channel files. */
export function channelFiles(jobsDir: string, jobId: string): {
  bundle: string;
  gitCredential: string;
  outDir: string;
  result: string;
  events: string;
} {
  const dir = channelDir(jobsDir, jobId);
  const outDir = join(jobsDir, jobId, "out");
  return {
    bundle: join(dir, "bundle.json"),
    gitCredential: join(dir, "git-credential.json"),
    outDir,
    result: join(outDir, "result.json"),
    events: join(outDir, "events.ndjson"),
  };
}

/** The saved agent state of `stateJob` (the conversation's first job). */
export function stateArchive(jobsDir: string, stateJob: string): string {
  return join(channelDir(jobsDir, stateJob), "state.tar");
}

/** Writes `text` to `path` (0600) through a temporary file: a reader never sees half of it. */
export async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data, { mode: 0o600 });
    else await Deno.writeFile(tmp, data, { mode: 0o600 });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
