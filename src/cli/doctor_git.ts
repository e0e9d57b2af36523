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

import type { ResolvedPylon } from "../config/mod.ts";
import {
  createGitRunner,
  type GitRunner,
  parseRepoUrl,
  type RepoUrl,
  WorkspaceError,
} from "../workspace/mod.ts";
import type { Check } from "./doctor_checks.ts";

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
        detail: "workspace.repo/ref is a template: checked when a job renders it",
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
    const key = `${repo.url}\n${ws.ref ?? ""}`;
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
    r = await git.run(["ls-remote", "--end-of-options", t.repo.url, ...patterns], { signal });
  } catch (e) {
    if (e instanceof WorkspaceError) return row("FAIL", e.message, e.hint);
    throw e;
  }
  if (signal.aborted) {
    return row(
      "FAIL",
      `${shown}: no answer within ${Math.round(timeoutMs / 1000)} s`,
      `check that this host reaches ${hostOf(t.repo)} (firewall, proxy; port 22 for ssh URLs, ` +
        "else try the https URL)",
    );
  }
  if (r.code !== 0) {
    const { reason, hint } = explain(r.stderr, t.repo);
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

function hostOf(repo: RepoUrl): string {
  const url = /^[a-z]+:\/\/(?:[^@/]*@)?([^/:]+)/i.exec(repo.display);
  if (url) return url[1]!;
  const scp = /^(?:[^@]+@)?([^:]+):/.exec(repo.display);
  return scp?.[1] ?? repo.display;
}

function sshTarget(repo: RepoUrl): string {
  const scp = /^([^@/]+@)?([^:/]+):/.exec(repo.display);
  if (scp && !repo.display.includes("://")) return `${scp[1] ?? ""}${scp[2]}`;
  const url = /^ssh:\/\/([^@/]+@)?([^/:]+)/i.exec(repo.display);
  return url ? `${url[1] ?? ""}${url[2]}` : `git@${hostOf(repo)}`;
}

/** git's complaint, in plain words, with what to do about it on this host. */
function explain(stderr: string, repo: RepoUrl): { reason: string; hint: string } {
  const host = hostOf(repo);
  if (/host key verification failed|no .* host key is known/i.test(stderr)) {
    return {
      reason: `the SSH host key of ${host} is not known to this user`,
      hint: `run \`ssh -T ${sshTarget(repo)}\` once and accept the key ` +
        `(or \`ssh-keyscan ${host} >> ~/.ssh/known_hosts\`)`,
    };
  }
  if (/permission denied \(publickey|publickey\)/i.test(stderr)) {
    return {
      reason: "the SSH key was refused (or this user has none)",
      hint: `add this user's public key (~/.ssh/id_ed25519.pub; create one with ssh-keygen) to ` +
        `${host} (a read-only deploy key is enough), then check with \`ssh -T ${sshTarget(repo)}\``,
    };
  }
  if (
    /could not read (username|password)|terminal prompts disabled|authentication failed|invalid username or password|HTTP Basic: Access denied|403/i
      .test(stderr)
  ) {
    return {
      reason: "the server wants credentials",
      hint: "use an SSH URL (git@host:org/repo.git) with a deploy key, put a token in the URL " +
        "(`https://x-access-token:${GITHUB_TOKEN}@github.com/org/repo.git`, the variable in the " +
        "pylon's .env), or set up a credential helper (`gh auth setup-git`)",
    };
  }
  if (
    /could not resolve host|name or service not known|temporary failure in name resolution/i.test(
      stderr,
    )
  ) {
    return {
      reason: `cannot resolve ${host}`,
      hint: "check the host name in workspace.repo and this host's DNS",
    };
  }
  if (
    /connection refused|timed out|network is unreachable|no route to host|couldn't connect|could not connect/i
      .test(stderr)
  ) {
    return {
      reason: `cannot connect to ${host}`,
      hint: "check the network, firewall and proxy (port 22 for ssh URLs; else try the https URL)",
    };
  }
  if (
    /not found|does not exist|does not appear to be a git repository|no such repository|not exported|no such file/i
      .test(stderr)
  ) {
    return {
      reason: "repository not found",
      hint: 'check workspace.repo; a private repository also answers "not found" when this ' +
        "user's key or token has no access to it",
    };
  }
  return {
    reason: "git ls-remote failed",
    hint: `run \`git ls-remote ${repo.display}\` as the daemon's user to see more`,
  };
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
