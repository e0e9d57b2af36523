/**
 * Jobs without host mounts (`docker.mounts: none`, issue 18 part 1): nothing of the daemon's
 * host is bind-mounted into the job's container. The runner writes the job's bundle (prompt,
 * MCP config, OAuth files, what to clone) and its repository credential into the daemon's
 * `jobs/<id>/channel/`, issues a per-job token, and hands the token to the container through a
 * {@linkcode TokenDelivery} before it starts. The image's init step (`agents/_shared/pylon-init.mjs`)
 * then fetches the bundle over the channel (`/agent/v1`), clones, restores the agent state, runs
 * the agent and sends back tool events, `result.json` and the state.
 *
 * Design note (why a daemon endpoint, not the Engine's archive API): `GET/PUT
 * /containers/{id}/archive` needs the daemon to reach the engine that runs the container, which
 * Swarm tasks on other nodes do not offer, and it cannot carry anything while the job runs (tool
 * events, approvals, later the model gateway and git credentials of issue 19). One authenticated
 * HTTP channel serves the Engine backend, remote engines and Swarm alike; only the token's
 * delivery differs (archive here, a Swarm secret there).
 *
 * @module
 */

import { join } from "node:path";
import type { ResolvedPylon } from "../config/mod.ts";
import type { DockerClient } from "../docker/mod.ts";
import { tarBytes } from "../docker/mod.ts";
import { PylonError } from "../errors.ts";
import {
  channelFiles,
  issueJobToken,
  type JobBundle,
  writeAtomically,
} from "../agent_channel/mod.ts";
import { agentCredentialJson, parseRepoUrl, refProblem } from "../workspace/mod.ts";
import { mcpConfigText } from "./agent_args.ts";
import { CONTAINER_PATHS, NO_MOUNT_TOKEN_PATH } from "./container_spec.ts";

/** Where things are in a no-mounts container. */
export const NO_MOUNT_PATHS = {
  /** The token file (put there before start; the init step removes it). */
  tokenDir: "/.pylon-agent",
  token: NO_MOUNT_TOKEN_PATH,
  init: "/usr/local/lib/pylon/pylon-init.mjs",
  entrypoint: "/usr/local/bin/pylon-entrypoint",
} as const;

/** How long past the job's deadline its token still works (the last uploads). */
const TOKEN_GRACE_MS = 10 * 60_000;
/** The longest a token lives for a job without a deadline. */
const TOKEN_MAX_MS = 7 * 24 * 3600_000;

/**
 * Hands a job's channel token to its container before it starts, without it showing in
 * `docker inspect` (environment, command, labels). The Engine backend copies a file in with
 * `PUT /containers/{id}/archive`; the Swarm backend will make it a Swarm secret.
 */
export interface TokenDelivery {
  deliver(
    containerId: string,
    token: string,
    o: { uid: number; gid: number; signal?: AbortSignal | undefined },
  ): Promise<void>;
}

/** {@linkcode TokenDelivery} through the Engine's archive API. */
export function archiveTokenDelivery(docker: DockerClient): TokenDelivery {
  return {
    async deliver(containerId, token, o) {
      if (!docker.putArchive) {
        throw new PylonError(
          "Cannot hand the job token to its container: this Docker client " +
            "cannot copy files into containers",
          { hint: "set docker.mounts: host in config.yaml" },
        );
      }
      const dir = NO_MOUNT_PATHS.tokenDir.slice(1);
      const tar = tarBytes([
        { type: "dir", path: dir, mode: 0o700, uid: o.uid, gid: o.gid },
        { type: "file", path: `${dir}/token`, data: token, mode: 0o400, uid: o.uid, gid: o.gid },
      ]);
      await docker.putArchive(containerId, "/", tar, { signal: o.signal });
    },
  };
}

/**
 * Why `pylon` cannot run without host mounts, naming the file, the field and the fix; undefined
 * when it can. (`docker.ca_certificates` no longer matters: the CA bundle travels as a bundle
 * file or a Swarm config, for custom images too.)
 */
export function noMountsProblem(pylon: ResolvedPylon): string | undefined {
  const file = `pylons/${pylon.name}/pylon.yaml`;
  const mode = "config.yaml has docker.mounts: none (no bind mount of the daemon's folders)";
  const ws = pylon.config.workspace;
  if (ws.type === "local" || ws.type === "git-worktree") {
    return `${file}: workspace.type ${ws.type} needs the daemon's host, and ${mode}; ` +
      "fix: use workspace.type: git-clone (cloned inside the job) or none, or set " +
      "docker.mounts: host";
  }
  if (pylon.agent.volumes.length > 0) {
    return `${file}: agent.volumes are host paths, and ${mode}; fix: remove agent.volumes ` +
      "(bake the files into a custom image), or set docker.mounts: host";
  }
  if (pylon.agent.network === "none") {
    return `${file}: agent.network: none leaves the job no way to reach the daemon's channel ` +
      `when ${mode}; fix: use bridge or host, or set docker.mounts: host`;
  }
  if (ws.type === "git-clone" && ws.repo && /^(file:|\/|~)/i.test(ws.repo.trim())) {
    return `${file}: workspace.repo is on the daemon's host, and ${mode}; fix: use a remote ` +
      "repository URL (https://, ssh://), or set docker.mounts: host";
  }
  return undefined;
}

/** What {@linkcode prepareChannelJob} needs. */
export interface ChannelJobInput {
  jobsDir: string;
  jobId: string;
  /** The job whose agent state this one restores and saves (the conversation's first). */
  stateJob: string;
  /** Whether a saved state is restored (a follow-up, a retry). */
  restoreState: boolean;
  pylon: ResolvedPylon;
  prompt: string;
  repo: string | undefined;
  ref: string | undefined;
  /** OAuth files to copy in (contents, read on the daemon's host). */
  oauth: { credentials?: string | undefined; json?: string | undefined };
  /**
   * Whether the MCP config and OAuth files stay out of the bundle: the Swarm backend makes them
   * Swarm secrets ({@linkcode channelSecretFiles}).
   */
  secretFilesApart?: boolean | undefined;
  /** The concatenated `docker.ca_certificates` (Engine backend: a bundle file at `/pylon/ca.pem`). */
  ca?: string | undefined;
  home: string | undefined;
  /** When the token stops working (ms since the epoch); the job's deadline or none. */
  deadlineMs: number | null;
  now: number;
}

/**
 * Writes the job's bundle and repository credential and issues its token; returns the token.
 * @throws {PylonError} for a repository or ref the mode cannot use
 */
export async function prepareChannelJob(input: ChannelJobInput): Promise<string> {
  const files: JobBundle["files"] = [];
  const add = (path: string, text: string, mode = 0o600) =>
    files.push({ path, mode, content_base64: base64(text) });
  add(CONTAINER_PATHS.prompt, input.prompt);
  if (!input.secretFilesApart) {
    for (const f of channelSecretFiles(input.pylon, input.oauth)) add(f.path, f.text);
  }
  // Public certificates, read by the agent's runtime (NODE_EXTRA_CA_CERTS).
  if (input.ca !== undefined) add(CONTAINER_PATHS.ca, input.ca, 0o444);

  let repo: JobBundle["repo"] = null;
  let credential: string | undefined;
  if (input.pylon.config.workspace.type === "git-clone" && input.repo) {
    const parsed = parseRepoUrl(input.repo, input.home);
    if (/^file:/i.test(parsed.url) || parsed.url.startsWith("/")) {
      throw new PylonError(
        `Cannot clone ${parsed.display} inside the job: it is on the ` +
          "daemon's host",
        {
          hint: `use a remote URL in workspace.repo of pylons/${input.pylon.name}/pylon.yaml, ` +
            "or set docker.mounts: host in config.yaml",
        },
      );
    }
    const problem = input.ref ? refProblem(input.ref) : undefined;
    if (problem) {
      throw new PylonError(`Cannot use workspace.ref ${JSON.stringify(input.ref)}: ${problem}`, {
        hint: `fix workspace.ref in pylons/${input.pylon.name}/pylon.yaml`,
      });
    }
    repo = {
      url: parsed.url,
      ref: input.ref ?? null,
      credential: Boolean(parsed.credentials),
      push: Boolean(input.pylon.config.workspace.push),
    };
    // The repository's origin and path: the helper answers for nothing else (issue 19, item 4).
    credential = agentCredentialJson(parsed);
  }
  const bundle: JobBundle = { version: 1, files, repo, "restore_state": input.restoreState };
  const paths = channelFiles(input.jobsDir, input.jobId);
  const expiresAt = input.deadlineMs === null
    ? input.now + TOKEN_MAX_MS
    : input.deadlineMs + TOKEN_GRACE_MS;
  const token = await issueJobToken(input.jobsDir, input.jobId, {
    expiresAt,
    stateJob: input.stateJob,
  });
  await writeAtomically(paths.bundle, JSON.stringify(bundle) + "\n");
  if (credential) await writeAtomically(paths.gitCredential, credential);
  else await Deno.remove(paths.gitCredential).catch(() => {});
  // Leftovers of an earlier attempt must not pass for this run's result.
  await Deno.mkdir(paths.outDir, { recursive: true, mode: 0o700 });
  await Deno.remove(join(paths.outDir, "result.json")).catch(() => {});
  return token;
}

/**
 * The job's files that hold secrets, where the agent expects them: the MCP config (values from
 * the pylon's `.env`) and the OAuth files. In the bundle on the Engine backend, Swarm secrets on
 * the Swarm backend.
 */
export function channelSecretFiles(
  pylon: ResolvedPylon,
  oauth: ChannelJobInput["oauth"],
): { path: string; text: string }[] {
  const files: { path: string; text: string }[] = [];
  const agent = pylon.agent;
  const mcp = mcpConfigText(agent.type, agent.settings.mcpServers);
  if (mcp !== undefined) files.push({ path: CONTAINER_PATHS.mcpConfig, text: mcp });
  if (oauth.credentials !== undefined) {
    files.push({ path: CONTAINER_PATHS.oauthCredentials, text: oauth.credentials });
  }
  if (oauth.json !== undefined) files.push({ path: CONTAINER_PATHS.oauthJson, text: oauth.json });
  return files;
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}
