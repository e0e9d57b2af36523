/**
 * The rendered prompt as a file (`PROMPT_FILE`, mounted read-only at `/pylon/prompt`): Linux caps
 * one environment string at 128 KiB, so a larger prompt cannot travel in `PROMPT` (issue 12,
 * item 10). The file is written by the daemon into the job's own folder, which no container
 * mounts writable, and replaced on every attempt.
 *
 * @module
 */

import { join } from "node:path";

/** Name of the prompt file inside the job's folder. */
export const PROMPT_FILE_NAME = "prompt";

/**
 * Writes `prompt` to `<jobDir>/prompt` (0600, owned by `owner` when given: the agent's uid when
 * the daemon runs as root); returns its path.
 */
export async function writePromptFile(
  jobDir: string,
  prompt: string,
  owner?: number,
): Promise<string> {
  const path = join(jobDir, PROMPT_FILE_NAME);
  await Deno.mkdir(jobDir, { recursive: true, mode: 0o700 });
  // A fresh file every time: never write through whatever an earlier attempt left there.
  await Deno.remove(path).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  using file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  const bytes = new TextEncoder().encode(prompt);
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
  // The job folder is the daemon's alone (never mounted writable): the path is the file just made.
  if (owner !== undefined) await Deno.chown(path, owner, owner);
  return path;
}
