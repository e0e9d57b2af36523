/**
 * Where a GitHub event's results belong: the repository, the issue or pull request to comment
 * on, and the commit to put a status on. Read from the webhook payload as GitHub sends it
 * (`pull_request`, `issue_comment`, `issues`, `push`, `check_suite`, `check_run`,
 * `workflow_run`, …). Pure.
 *
 * @module
 */

import type { RepoRef } from "./api.ts";

/** What a job's results are attached to on GitHub. */
export interface GitHubTarget extends RepoRef {
  /** The issue or pull request number, when the event has one. */
  number: number | undefined;
  /** The number is a pull request (statuses go on its head commit). */
  isPull: boolean;
  /** The commit a status goes on, when the payload says; for an issue comment on a pull request
   * it is looked up. */
  sha: string | undefined;
}

type Obj = Record<string, unknown>;

/** The target of an event payload; `null` when it names no repository (not a GitHub event). */
export function githubTarget(payload: unknown): GitHubTarget | null {
  const body = obj(payload);
  const repository = obj(body?.repository);
  const repo = repoOf(repository);
  if (!body || !repo) return null;
  const pull = obj(body.pull_request);
  const issue = obj(body.issue);
  const number = int(pull?.number) ?? int(issue?.number) ?? int(body.number);
  const isPull = pull !== undefined || obj(issue?.pull_request) !== undefined;
  const sha = str(obj(pull?.head)?.sha) ??
    str(obj(body.check_suite)?.head_sha) ??
    str(obj(body.check_run)?.head_sha) ??
    str(obj(body.workflow_run)?.head_sha) ??
    pushedSha(body);
  return { ...repo, number, isPull, sha };
}

function repoOf(repository: Obj | undefined): RepoRef | undefined {
  const full = str(repository?.full_name);
  const [owner, repo, ...rest] = full?.split("/") ?? [];
  if (owner && repo && rest.length === 0) return { owner, repo };
  const login = str(obj(repository?.owner)?.login);
  const name = str(repository?.name);
  return login && name ? { owner: login, repo: name } : undefined;
}

/** The pushed commit of a `push` event; none for a deleted branch (all-zero `after`). */
function pushedSha(body: Obj): string | undefined {
  if (body.deleted === true) return undefined;
  const after = str(body.after);
  if (after && !/^0+$/.test(after)) return after;
  return str(obj(body.head_commit)?.id);
}

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Obj : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function int(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined;
}
