/**
 * The git rows of `pylon doctor`: for every git-clone workspace, a non-interactive
 * `git ls-remote` of `workspace.repo` (and `workspace.ref`), so missing SSH keys, unknown host
 * keys and HTTPS repositories without credentials show up before the first job fails on them.
 *
 * git runs through the workspace area's runner (no prompts, allowed transports only) with
 * `BatchMode=yes` for ssh and a timeout; one row per repository and ref, however many pylons
 * use it. Credentials in URLs never reach a row.
 *
 * @module
 */

import type { ResolvedPylon } from "../../config/mod.ts";
import {
  createGitRunner,
  gitAuth,
  type GitRunner,
  parseRepoUrl,
  remoteReason,
  repoHost,
  type RepoUrl,
  WorkspaceError,
} from "../../workspace/mod.ts";
import type { Check } from "./checks.ts";

const SECTION = "Git";

/** Options of {@linkcode gitChecks}. */
export interface GitCheckOptions {
  /** For `~` in repository paths. */
  home: string | undefined;
  /** The environment git starts with (its `GIT_SSH_COMMAND` is kept, in batch mode). */
  env: Record<string, string>;
  /** Default: the real runner. */
  git?: GitRunner | undefined;
  /** Per repository. @default {20000} */
  timeoutMs?: number | undefined;
}

interface Target {
  repo: RepoUrl;
  ref: string | undefined;
  pylons: string[];
}

/** One row per distinct `workspace.repo` + `workspace.ref` of the enabled git-clone pylons. */
export async function gitChecks(
  pylons: readonly ResolvedPylon[],
  opts: GitCheckOptions,
): Promise<Check[]> {
  const out: Check[] = [];
  const targets = new Map<string, Target>();
  for (const p of pylons) {
    const ws = p.config.workspace;
    if (p.config.disabled || ws.type !== "git-clone" || !ws.repo) continue;
    const label = `${p.name} repo`;
    if (ws.repo.includes("{{") || ws.ref?.includes("{{")) {
      out.push({
        section: SECTION,
        label,
        status: "--",
        detail: "workspace.repo/ref is a template: checked when a job renders it" +
          (ws.allowed_repos ? ` (allowed: ${ws.allowed_repos.join(", ")})` : ""),
      });
      continue;
    }
    let repo: RepoUrl;
    try {
      repo = parseRepoUrl(ws.repo, opts.home);
    } catch (e) {
      const err = e as WorkspaceError;
      out.push({
        section: SECTION,
        label,
        status: "FAIL",
        detail: err.message,
        hint: err.hint ?? `fix workspace.repo with \`pylon edit ${p.name}\``,
      });
      continue;
    }
    // Two tokens for one repository are two checks.
    const who = repo.credentials ? `${repo.credentials.username}:${repo.credentials.password}` : "";
    const key = `${repo.url}\n${who}\n${ws.ref ?? ""}`;
    const t = targets.get(key) ?? { repo, ref: ws.ref, pylons: [] };
    t.pylons.push(p.name);
    targets.set(key, t);
  }
  if (targets.size === 0) return out;
  const git = opts.git ?? createGitRunner({ env: { GIT_SSH_COMMAND: batchSsh(opts.env) } });
  for (const t of targets.values()) out.push(await lsRemote(git, t, opts.timeoutMs ?? 20_000));
  return out;
}

/** The user's `GIT_SSH_COMMAND` (or plain ssh) that never asks for a password or a host key. */
function batchSsh(env: Record<string, string>): string {
  const base = env.GIT_SSH_COMMAND?.trim() || "ssh";
  return `${base} -o BatchMode=yes -o ConnectTimeout=10`;
}

async function lsRemote(git: GitRunner, t: Target, timeoutMs: number): Promise<Check> {
  const label = `${t.pylons[0]} repo`;
  const others = t.pylons.length > 1 ? ` (also ${t.pylons.slice(1).join(", ")})` : "";
  const shown = t.repo.display;
  const row = (status: Check["status"], detail: string, hint?: string): Check => ({
    section: SECTION,
    label,
    status,
    detail: t.repo.redact(detail) + others,
    ...(hint ? { hint: t.repo.redact(hint) } : {}),
  });
  const ref = t.ref;
  const patterns = ref === undefined
    ? ["HEAD"]
    : ref.startsWith("refs/")
    ? [ref]
    : [`refs/heads/${ref}`, `refs/tags/${ref}`];
  const signal = AbortSignal.timeout(timeoutMs);
  let r: { code: number; stdout: string; stderr: string };
  try {
    // Credentials go to git through a helper, never its command line.
    const auth = gitAuth(t.repo);
    r = await git.run([...auth.args, "ls-remote", "--end-of-options", t.repo.url, ...patterns], {
      signal,
      ...(auth.env ? { env: auth.env } : {}),
    });
  } catch (e) {
    if (e instanceof WorkspaceError) return row("FAIL", e.message, e.hint);
    throw e;
  }
  if (signal.aborted) {
    return row(
      "FAIL",
      `${shown}: no answer within ${Math.round(timeoutMs / 1000)} s`,
      `check that this host reaches ${
        repoHost(t.repo.display)
      } (firewall, proxy; port 22 for ssh URLs, ` +
        "else try the https URL)",
    );
  }
  if (r.code !== 0) {
    const { reason, hint } = r.stderr.trim()
      ? remoteReason(r.stderr, t.repo.display)
      : { reason: "git ls-remote failed", hint: "" };
    const tail = lastLine(r.stderr);
    return row("FAIL", `${shown}: ${reason}${tail ? ` (git: ${tail})` : ""}`, hint);
  }
  const lines = r.stdout.split("\n").filter((l) => l.trim());
  if (ref === undefined) {
    if (lines.length === 0) {
      return row(
        "WARN",
        `${shown} is reachable but has no commits (no HEAD)`,
        "push a first commit, or set workspace.ref",
      );
    }
    return row("ok", `${shown} reachable`);
  }
  if (lines.length > 0) {
    const kind = lines[0]!.includes("refs/tags/") ? "tag" : "branch";
    return row("ok", `${shown} reachable, ${kind} ${ref} at ${lines[0]!.slice(0, 7)}`);
  }
  if (/^[0-9a-f]{7,40}$/i.test(ref)) {
    return row("ok", `${shown} reachable (commit ${ref} is checked when a job runs)`);
  }
  return row(
    "FAIL",
    `${shown} is reachable, but it has no branch or tag "${ref}"`,
    `fix workspace.ref with \`pylon edit ${t.pylons[0]}\` (\`git ls-remote ${shown}\` lists ` +
      "branches and tags)",
  );
}

/** git's boilerplate after a failed remote call, which says nothing about the cause. */
const BOILERPLATE_REGEXP =
  /^(fatal: could not read from remote repository\.?|please make sure you have the correct access rights|and the repository exists\.?)$/i;

/** The most telling line of git's stderr: the last one that is not boilerplate. */
function lastLine(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) =>
    l !== "" && !/^(hint|warning):/i.test(l)
  );
  const text = lines.filter((l) => !BOILERPLATE_REGEXP.test(l)).at(-1) ?? lines.at(-1) ?? "";
  return text.length > 200 ? text.slice(0, 197) + "..." : text;
}
