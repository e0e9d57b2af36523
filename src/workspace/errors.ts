/**
 * `WorkspaceError` and the rules that turn a failed git command into a message a user can act on:
 * what pylon was doing, git's reason in plain words, then the last lines git printed.
 *
 * @module
 */

import { PylonError, type PylonErrorOptions } from "../errors.ts";

/** The config fields a workspace error can point at. */
export type WorkspaceField = "workspace.repo" | "workspace.ref" | "workspace.path";

/** Options of a {@linkcode WorkspaceError}. */
export interface WorkspaceErrorOptions extends PylonErrorOptions {
  /** The field whose value is at fault, when one is. */
  field?: WorkspaceField | undefined;
  /** The tail of git's stderr (redacted), when git failed. */
  gitStderr?: string | undefined;
}

/** A workspace could not be prepared or removed; the job fails with this message. */
export class WorkspaceError extends PylonError {
  /** The field whose value is at fault, e.g. `workspace.ref`. */
  readonly field: WorkspaceField | undefined;
  /** The last lines git printed on stderr, credentials redacted. */
  readonly gitStderr: string | undefined;

  constructor(message: string, options: WorkspaceErrorOptions = {}) {
    super(message, options);
    this.name = "WorkspaceError";
    this.field = options.field;
    this.gitStderr = options.gitStderr;
  }
}

const MAX_TAIL_LINES = 3;
const MAX_TAIL_CHARS = 400;

/** The last few non-empty lines of git's stderr, joined with ` | `, capped in length. */
export function stderrTail(stderr: string): string {
  const lines = stderr.split(/\r?\n|\r/).map((l) => l.trim()).filter((l) =>
    l !== "" && !/^(hint|warning: redirecting):/i.test(l)
  );
  let text = lines.slice(-MAX_TAIL_LINES).join(" | ");
  if (text.length > MAX_TAIL_CHARS) text = "…" + text.slice(-MAX_TAIL_CHARS);
  return text;
}

/** The host of a repository URL as shown (`https://host/…`, `ssh://git@host/…`, `git@host:…`). */
export function repoHost(display: string): string {
  const url = /^[a-z]+:\/\/(?:[^@/]*@)?([^/:]+)/i.exec(display);
  if (url) return url[1]!;
  const scp = /^(?:[^@]+@)?([^:]+):/.exec(display);
  return scp?.[1] ?? display;
}

/** What to `ssh -T` to try the key of an ssh or scp-style repository URL. */
function sshTarget(display: string): string {
  const scp = /^([^@/]+@)?([^:/]+):/.exec(display);
  if (scp && !display.includes("://")) return `${scp[1] ?? ""}${scp[2]}`;
  const url = /^ssh:\/\/([^@/]+@)?([^/:]+)/i.exec(display);
  return url ? `${url[1] ?? ""}${url[2]}` : `git@${repoHost(display)}`;
}

/**
 * Why a remote operation (clone, fetch, ls-remote) failed, in plain words, and what to do about
 * it, from git's stderr. `display` (the repository URL, credentials hidden) names the host in
 * the advice. Shared by jobs' workspaces and `pylon doctor`.
 */
export function remoteReason(stderr: string, display?: string): { reason: string; hint: string } {
  const host = display ? repoHost(display) : "the server";
  const dubious = /detected dubious ownership in repository at '([^']*)'/.exec(stderr);
  if (dubious) {
    return {
      reason: "git refuses a repository that belongs to another user",
      hint: "if you trust it, run `git config --global --add safe.directory " +
        `${dubious[1]}\` as the daemon's user`,
    };
  }
  if (/not allowed|unsupported protocol|protocol .* is not supported/i.test(stderr)) {
    return {
      reason: "this transport is not allowed",
      hint: "use an https://, ssh://, git://, file:// or git@host:path URL in workspace.repo",
    };
  }
  if (/host key verification failed|no .* host key is known/i.test(stderr)) {
    const target = display ? sshTarget(display) : "git@<host>";
    return {
      reason: `the SSH host key of ${host} is not known to this user`,
      hint: `run \`ssh -T ${target}\` once as the daemon's user and accept the key ` +
        `(or \`ssh-keyscan ${display ? host : "<host>"} >> ~/.ssh/known_hosts\`)`,
    };
  }
  if (/permission denied \(publickey|publickey\)/i.test(stderr)) {
    return {
      reason: "the SSH key was refused (or this user has none)",
      hint: `add the daemon user's public key (~/.ssh/id_ed25519.pub; create one with ` +
        `ssh-keygen) to ${host} (a read-only deploy key is enough)` +
        (display ? `, then check with \`ssh -T ${sshTarget(display)}\`` : ""),
    };
  }
  if (
    /could not read (username|password)|terminal prompts disabled|authentication failed|invalid username or password|HTTP Basic: Access denied|permission denied|\b403\b/i
      .test(stderr) && !/not exported|no such repository/i.test(stderr)
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
    /not found|does not exist|does not appear to be a git repository|no such repository|not exported|no such file|returned error: 404/i
      .test(stderr)
  ) {
    return {
      reason: "repository not found",
      hint: 'check workspace.repo; a private repository also answers "not found" when the ' +
        "daemon user's key or token has no access to it",
    };
  }
  if (
    /connection refused|timed out|network is unreachable|no route to host|couldn't connect|could not connect|unable to access|hung up/i
      .test(stderr)
  ) {
    return {
      reason: `cannot connect to ${host}`,
      hint: "check the network, firewall and proxy (port 22 for ssh URLs; else try the https URL)",
    };
  }
  return {
    reason: "git failed",
    hint: "run the same git command by hand as the daemon's user to see more",
  };
}

/** Options of {@linkcode gitError}. */
export interface GitErrorContext {
  /** `Cannot <action>`, e.g. `clone https://host/repo.git`. */
  action: string;
  /** The repository URL as shown (credentials hidden), to name its host in the advice. */
  repo?: string | undefined;
  /** Short reason; default: inferred by {@linkcode remoteReason}. */
  reason?: string | undefined;
  hint?: string | undefined;
  field?: WorkspaceField | undefined;
  /** Applied to git's output before it goes into the message. */
  redact: (text: string) => string;
}

/** Builds the error for a git command that exited with `code`. */
export function gitError(ctx: GitErrorContext, code: number, stderr: string): WorkspaceError {
  const inferred = remoteReason(stderr, ctx.repo);
  const tail = ctx.redact(stderrTail(stderr));
  const reason = ctx.reason ??
    (inferred.reason === "git failed" ? `git exited with code ${code}` : inferred.reason);
  const detail = tail ? ` (git: ${tail})` : "";
  return new WorkspaceError(`Cannot ${ctx.action}: ${reason}${detail}`, {
    hint: ctx.hint ?? inferred.hint,
    field: ctx.field,
    gitStderr: tail || undefined,
  });
}

/** Quotes a user value for a message: JSON-escaped (control characters visible), capped. */
export function quote(value: string): string {
  const shown = value.length > 120 ? value.slice(0, 117) + "..." : value;
  return JSON.stringify(shown);
}
