/**
 * Files the daemon writes into a job's folder for its container: the rendered prompt
 * (`PROMPT_FILE`, mounted read-only at `/pylon/prompt`: Linux caps one environment string at
 * 128 KiB, so a larger prompt cannot travel in `PROMPT`, issue 12 item 10) and the MCP config
 * (`/pylon/mcp.json`: its tokens stay out of the environment). The job's own folder is never
 * mounted writable, and both files are replaced on every attempt.
 *
 * @module
 */

import { join } from "node:path";
import type { ResolvedPylon } from "../config/mod.ts";
import { mcpConfigText } from "./agent_args.ts";

/** Name of the prompt file inside the job's folder. */
export const PROMPT_FILE_NAME = "prompt";

/**
 * Writes `prompt` to `<jobDir>/prompt` (0600, owned by `owner` when given: the agent's uid when
 * the daemon runs as root); returns its path.
 */
export function writePromptFile(
  jobDir: string,
  prompt: string,
  owner?: number,
): Promise<string> {
  return writeJobFile(jobDir, PROMPT_FILE_NAME, prompt, owner);
}

/** Name of the MCP config file (`agent.mcp_servers`, secrets expanded) in the job's folder. */
export const MCP_CONFIG_FILE_NAME = "mcp.json";

/**
 * Writes `text` to `<jobDir>/<name>` the way the prompt is written (0600, fresh every attempt,
 * owned by `owner` when given); returns its path.
 */
export async function writeJobFile(
  jobDir: string,
  name: string,
  text: string,
  owner?: number,
): Promise<string> {
  const path = join(jobDir, name);
  await Deno.mkdir(jobDir, { recursive: true, mode: 0o700 });
  // A fresh file every time: never write through whatever an earlier attempt left there.
  await Deno.remove(path).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  using file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
  // The job folder is the daemon's alone (never mounted writable): the path is the file just made.
  if (owner !== undefined) await Deno.chown(path, owner, owner);
  return path;
}

/**
 * Writes the job's MCP config when its Claude Code or OpenCode agent has `mcp_servers` (the
 * file, not the environment, carries their tokens: `docker inspect` shows env; its shape is the
 * agent's, see `mcpConfigText`); returns its path, or `undefined` when there is none. A stale
 * file of an earlier attempt is removed.
 */
export async function writeMcpConfig(
  jobDir: string,
  pylon: ResolvedPylon,
  owner?: number,
): Promise<string | undefined> {
  const text = mcpConfigText(pylon.agent.type, pylon.agent.settings.mcpServers);
  if (text === undefined) {
    await Deno.remove(join(jobDir, MCP_CONFIG_FILE_NAME)).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    return undefined;
  }
  return await writeJobFile(jobDir, MCP_CONFIG_FILE_NAME, text, owner);
}
