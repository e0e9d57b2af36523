/**
 * `<jobDir>/workspace.json`: what pylon prepared for a job, written before the first change and
 * completed when the workspace is ready. Removal and follow-ups trust this file, never the
 * workspace's content (which the agent controls: a `.git` file there could point anywhere).
 *
 * @module
 */

import { join } from "node:path";
import type { PreparedWorkspace, WorkspaceType } from "./types.ts";

/** Name of the record inside the job folder (outside the mounted workspace). */
export const MARKER_FILE = "workspace.json";

/** The record itself. */
export interface WorkspaceMarker {
  pylon: 1;
  type: WorkspaceType;
  /** The host folder that may need removing; null for local (never removed). */
  workspace: string | null;
  /** A worktree's repository git dir, to unregister the worktree from. */
  commonDir?: string | undefined;
  /** Set once the workspace is ready. */
  prepared?: PreparedWorkspace | undefined;
}

/** Writes the record of `jobDir` (creating the folder). */
export async function writeMarker(jobDir: string, marker: WorkspaceMarker): Promise<void> {
  await Deno.mkdir(jobDir, { recursive: true, mode: 0o700 });
  const tmp = join(jobDir, `.${MARKER_FILE}.tmp`);
  await Deno.writeTextFile(tmp, JSON.stringify(marker, null, 2) + "\n", { mode: 0o600 });
  await Deno.rename(tmp, join(jobDir, MARKER_FILE));
}

/** Reads the record of `jobDir`; undefined when missing or not one of ours. */
export async function readMarker(jobDir: string): Promise<WorkspaceMarker | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(jobDir, MARKER_FILE));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw e;
  }
  try {
    const data = JSON.parse(text) as WorkspaceMarker;
    return data?.pylon === 1 && typeof data.type === "string" ? data : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the record; a missing one is fine. */
export async function removeMarker(jobDir: string): Promise<void> {
  await Deno.remove(join(jobDir, MARKER_FILE)).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}
