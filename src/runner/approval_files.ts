/**
 * The files of tool approval (issue 14 §4) for one job, on the host:
 *
 * - `jobs/<id>/approval/` (the daemon's; mounted read-only at `/pylon/approval`): the hook script
 *   (`pylon-approve.mjs`, from the embedded `agents/_shared/`), `config.json` (the rules and the
 *   timeout), the agent's managed config that runs the hook, and `decisions/`, which only the
 *   daemon writes. The managed config is, for Claude Code, `managed-settings.json` (mounted
 *   read-only over `/etc/claude-code/managed-settings.json`, where Claude Code reads managed
 *   settings on Linux); for OpenCode, `opencode-managed.json` (over `/etc/opencode/opencode.json`,
 *   OpenCode's managed config on Linux) naming the plugin `pylon-approve-opencode.mjs` (from the
 *   embedded `agents/opencode/`), which imports the hook script beside it;
 * - `jobs/<id>/tool-requests/` (the agent's; mounted read-write at `/pylon/tool-requests`): the
 *   hook's requests, read by the daemon with the safe reader.
 *
 * Nothing lives in the job's state folder, which the agent writes and follow-ups reuse. The hook's
 * own timeout is the approve timeout plus a margin, so the daemon's timeout decides first.
 *
 * Without host mounts (`docker.mounts: none`, `docker.backend: swarm`) the same folders exist on
 * the daemon's host, but the container gets only the hook, its config (which then names the
 * channel's URL and the job) and the managed settings, as root's read-only files
 * ({@linkcode channelApprovalFiles}): copied in before start through the Engine's archive API
 * ({@linkcode deliverApprovalFiles}) or mounted as Swarm secrets. The hook then sends its
 * requests over the job's channel (`src/tools/channel_calls.ts`), which puts them into the same
 * requests folder.
 *
 * @module
 */

import { join } from "node:path";
import type { ResolvedPylon } from "../config/mod.ts";
import { type DockerClient, tarBytes, type TarBytesEntry } from "../docker/mod.ts";
import { PylonError } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import { ensureAgentDir } from "./agent_dirs.ts";
import { EMBEDDED_AGENT_FILES } from "./embedded.ts";

/** Where things are inside the container. */
export const APPROVAL_PATHS = {
  dir: "/pylon/approval",
  requests: "/pylon/tool-requests",
  managedSettings: "/etc/claude-code/managed-settings.json",
  hook: "/pylon/approval/pylon-approve.mjs",
  opencodeConfig: "/etc/opencode/opencode.json",
  opencodePlugin: "/pylon/approval/pylon-approve-opencode.mjs",
} as const;

/** The agent types whose images run the approval hook. */
const APPROVING_TYPES = new Set(["claude", "opencode"]);

/**
 * The managed config of agent type `type` that makes its CLI run the hook: its file name in the
 * approval folder and where the container reads it.
 */
export function managedConfigOf(type: string): { file: string; target: string } {
  return type === "opencode"
    ? { file: "opencode-managed.json", target: APPROVAL_PATHS.opencodeConfig }
    : { file: "managed-settings.json", target: APPROVAL_PATHS.managedSettings };
}

/** OpenCode's managed config: the approval plugin, which no other config can remove. */
export function opencodeManagedJson(): string {
  return JSON.stringify({ plugin: [`file://${APPROVAL_PATHS.opencodePlugin}`] }, null, 2) + "\n";
}

/** Seconds the hook may run past `approve_timeout` (it gives up itself 60 s after it). */
const HOOK_MARGIN_S = 120;

/** A job's approval folders on the host. */
export interface ApprovalFolders {
  /** `jobs/<id>/approval` (read-only in the container). */
  dir: string;
  /** `jobs/<id>/approval/decisions`. */
  decisions: string;
  /** `jobs/<id>/tool-requests` (the agent's). */
  requests: string;
}

/** The approval folders of job `jobId` under `jobsDir` (whether or not they exist). */
export function approvalFolders(jobsDir: string, jobId: string): ApprovalFolders {
  const dir = join(jobsDir, jobId, "approval");
  return {
    dir,
    decisions: join(dir, "decisions"),
    requests: join(jobsDir, jobId, "tool-requests"),
  };
}

/** Whether a pylon's jobs ask before some tool calls. */
export function approvesTools(pylon: ResolvedPylon): boolean {
  return APPROVING_TYPES.has(pylon.agent.type) && pylon.agent.settings.approveTools.length > 0;
}

/** Claude Code's managed settings that run the hook before matching tools. */
export function managedSettingsJson(rules: readonly string[], timeoutMs: number): string {
  return JSON.stringify(
    {
      hooks: {
        PreToolUse: [{
          matcher: hookMatcher(rules),
          hooks: [{
            type: "command",
            command: `node ${APPROVAL_PATHS.hook}`,
            timeout: Math.ceil(timeoutMs / 1000) + HOOK_MARGIN_S,
            // A hook that cannot start, times out or crashes refuses the call.
            onFailure: "block",
          }],
        }],
      },
    },
    null,
    2,
  ) + "\n";
}

/** A matcher (an anchored regex) of the tool names the rules name: the hook runs only for them. */
export function hookMatcher(rules: readonly string[]): string {
  const names = new Set<string>();
  for (const rule of rules) {
    const name = rule.trim().replace(/\(.*$/s, "");
    const escaped = name.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*");
    names.add(
      name.startsWith("mcp__") && !name.slice(5).includes("__") ? `${escaped}(__.*)?` : escaped,
    );
  }
  return `^(${[...names].join("|")})$`;
}

/**
 * Writes a job's approval files (a retry or re-run rewrites them) and makes its requests folder
 * for the agent's uid. Undefined when the pylon approves nothing.
 */
export async function writeApprovalFiles(
  jobsDir: string,
  jobId: string,
  pylon: ResolvedPylon,
  options: {
    uid?: number | undefined;
    log?: Logger;
    /** No host mounts: the hook asks the channel at `url` for job `job`. */
    channel?: { url: string; job: string } | undefined;
  } = {},
): Promise<ApprovalFolders | undefined> {
  if (!approvesTools(pylon)) return undefined;
  const folders = approvalFolders(jobsDir, jobId);
  const { approveTools, approveTimeoutMs } = pylon.agent.settings;
  await Deno.mkdir(folders.decisions, { recursive: true, mode: 0o755 });
  await Deno.chmod(folders.dir, 0o755);
  await Deno.chmod(folders.decisions, 0o755);
  const type = pylon.agent.type;
  const embedded = (name: string) => {
    const file = EMBEDDED_AGENT_FILES[type]?.find((f) => f.path === name);
    if (!file) throw new Error(`Cannot find the embedded ${name} (rebuild pylon)`);
    return file.content;
  };
  const write = (name: string, text: string) =>
    Deno.writeTextFile(join(folders.dir, name), text, { mode: 0o644 })
      .then(() => Deno.chmod(join(folders.dir, name), 0o644));
  await write("pylon-approve.mjs", embedded("pylon-approve.mjs"));
  await write(
    "config.json",
    JSON.stringify({
      rules: approveTools,
      "timeout_ms": approveTimeoutMs,
      ...(options.channel ? { channel: options.channel } : {}),
    }) + "\n",
  );
  // A re-run after the pylon changed its agent type keeps only this type's managed config.
  for (const other of ["claude", "opencode"].filter((t) => t !== type)) {
    await Deno.remove(join(folders.dir, managedConfigOf(other).file)).catch(() => {});
  }
  if (type === "opencode") {
    await write("pylon-approve-opencode.mjs", embedded("pylon-approve-opencode.mjs"));
    await write(managedConfigOf(type).file, opencodeManagedJson());
  } else {
    await Deno.remove(join(folders.dir, "pylon-approve-opencode.mjs")).catch(() => {});
    await write(managedConfigOf(type).file, managedSettingsJson(approveTools, approveTimeoutMs));
  }
  await ensureAgentDir(folders.requests, {
    uid: options.uid,
    ...options.log ? { log: options.log } : {},
  });
  return folders;
}

/** One of the files a container without host mounts gets (root's, read-only). */
export interface ChannelApprovalFile {
  /** Absolute path in the container. */
  path: string;
  content: string;
}

/**
 * The hook, its config and the agent's managed config (for OpenCode also its plugin), from a job's
 * approval folder as {@linkcode writeApprovalFiles} left it.
 */
export async function channelApprovalFiles(
  folders: ApprovalFolders,
): Promise<ChannelApprovalFile[]> {
  const read = (name: string) => Deno.readTextFile(join(folders.dir, name));
  const files = [
    { path: APPROVAL_PATHS.hook, content: await read("pylon-approve.mjs") },
    { path: `${APPROVAL_PATHS.dir}/config.json`, content: await read("config.json") },
  ];
  const opencode = managedConfigOf("opencode");
  const plugin = await read("pylon-approve-opencode.mjs").catch(() => undefined);
  if (plugin !== undefined) {
    files.push(
      { path: APPROVAL_PATHS.opencodePlugin, content: plugin },
      { path: opencode.target, content: await read(opencode.file) },
    );
  } else {
    files.push({
      path: APPROVAL_PATHS.managedSettings,
      content: await read("managed-settings.json"),
    });
  }
  return files;
}

/**
 * Copies `files` into the created (not yet started) container `containerId` as root's files
 * (0644, folders 0755) through the Engine's archive API: the agent's uid can read them, not
 * change, move or replace them.
 * @throws {PylonError} when the Docker client cannot copy files into containers
 */
export async function deliverApprovalFiles(
  docker: DockerClient,
  containerId: string,
  files: readonly ChannelApprovalFile[],
  o: { signal?: AbortSignal | undefined } = {},
): Promise<void> {
  if (!docker.putArchive) {
    throw new PylonError(
      "Cannot copy the tool approval hook into the job's container: this Docker client " +
        "cannot copy files into containers",
      { hint: "set docker.mounts: host in config.yaml, or remove agent.approve_tools" },
    );
  }
  const entries: TarBytesEntry[] = [];
  const dirs = new Set<string>();
  for (const f of files) {
    const rel = f.path.replace(/^\/+/, "");
    const dir = rel.slice(0, rel.lastIndexOf("/"));
    if (!dirs.has(dir)) {
      dirs.add(dir);
      entries.push({ type: "dir", path: dir, mode: 0o755, uid: 0, gid: 0 });
    }
    entries.push({ type: "file", path: rel, data: f.content, mode: 0o644, uid: 0, gid: 0 });
  }
  await docker.putArchive(containerId, "/", tarBytes(entries), { signal: o.signal });
}
