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

/** A short reason for a failed remote operation (clone, fetch, ls-remote), from git's stderr. */
export function remoteReason(stderr: string): { reason: string; hint: string } {
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
  if (
    /authentication failed|could not read (username|password)|permission denied|terminal prompts disabled|access denied|403/i
      .test(stderr) && !/not exported|no such repository/i.test(stderr)
  ) {
    return {
      reason: "authentication failed or access was denied",
      hint: "check that the daemon's user can read workspace.repo: an SSH key (deploy key) " +
        "for ssh URLs, a credential helper or token for https",
    };
  }
  if (
    /not found|does not exist|does not appear to be a git repository|no such repository|not exported|no such file/i
      .test(stderr)
  ) {
    return {
      reason: "repository not found",
      hint: "check the URL in workspace.repo (and the payload it was rendered from); private " +
        "repositories may also answer not found when credentials are missing",
    };
  }
  if (
    /could not resolve host|connection refused|timed out|network is unreachable|unable to access|couldn't connect|could not connect|hung up/i
      .test(stderr)
  ) {
    return {
      reason: "cannot reach the server",
      hint: "check the host in workspace.repo and the network (proxy, DNS, firewall) of the daemon",
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
  /** Short reason; default: inferred by {@linkcode remoteReason}. */
  reason?: string | undefined;
  hint?: string | undefined;
  field?: WorkspaceField | undefined;
  /** Applied to git's output before it goes into the message. */
  redact: (text: string) => string;
}

/** Builds the error for a git command that exited with `code`. */
export function gitError(ctx: GitErrorContext, code: number, stderr: string): WorkspaceError {
  const inferred = remoteReason(stderr);
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
