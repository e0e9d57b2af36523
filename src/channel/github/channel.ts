/**
 * The `github` channel: results go back where the event came from.
 *
 * - A commit status `pylon/<pylon>` on the event's commit (a pull request's head, a push's
 *   `after`) follows the job: pending while it waits, is queued or runs, then success or failure.
 * - When the job ends, its result is one comment on the pull request or issue, found again by a
 *   hidden marker (`<!-- pylon:<pylon> -->`) and edited in place by every later run of that pylon
 *   on it (new commits, follow-ups, retries), so a pull request never collects a pile of reviews.
 *   Events without an issue (a `push`) get a comment on the commit instead.
 * - Markdown passes through unchanged: GitHub renders it.
 *
 * Events that name no repository (a Sentry alert sent to a pylon that also reports to GitHub)
 * are skipped, with one debug line per job. With `allowed_repos` (the channel's, else the
 * workspace's), a repository outside the list is never written to: the report is skipped with a
 * warning, since a sender could otherwise name any repository the token reaches.
 *
 * @module
 */

import { githubRepoAllowed } from "../../allowed_repos.ts";
import { formatDuration } from "../../config/mod.ts";
import { shortId } from "../../errors.ts";
import type { Logger } from "../../log/mod.ts";
import { type Job, type JobUsage, usageParts } from "../../store/mod.ts";
import type { JobReport, Reporter, ReportState } from "../channel.ts";
import { GitHubApi, type StatusState } from "./api.ts";
import { type GitHubTarget, githubTarget } from "./target.ts";

/** Options of {@linkcode GitHubChannel}. */
export interface GitHubChannelOptions {
  token: string;
  apiUrl: string;
  log: Logger;
  fetch?: typeof fetch | undefined;
  /** The only repositories written to (`allowed_repos` patterns); undefined: any. */
  allowedRepos?: readonly string[] | undefined;
}

/** Reports jobs to GitHub as commit statuses and one comment per issue or pull request. */
export class GitHubChannel implements Reporter {
  readonly kind = "github";
  readonly key: string;
  readonly #api: GitHubApi;
  readonly #log: Logger;
  readonly #apiUrl: string;
  readonly #allowedRepos: readonly string[] | undefined;
  /** Comment ids found or created, by `owner/repo#number|pylon`. */
  readonly #comments = new Map<string, number>();
  /** One report at a time per issue, so two jobs finishing together write one comment. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(options: GitHubChannelOptions) {
    this.#api = new GitHubApi({
      token: options.token,
      apiUrl: options.apiUrl,
      fetch: options.fetch,
    });
    this.#log = options.log;
    this.#apiUrl = options.apiUrl;
    this.#allowedRepos = options.allowedRepos;
    // The token is part of the identity (two tokens are two channels) but never stored in clear;
    // so is the list of allowed repositories (two lists, two channels).
    const repos = options.allowedRepos ? `:${fingerprint(options.allowedRepos.join("\n"))}` : "";
    this.key = `github:${options.apiUrl.replace(/\/+$/, "")}:${fingerprint(options.token)}${repos}`;
  }

  async report(
    { job, conversation, jobUrl }: JobReport,
    state: ReportState | undefined,
  ): Promise<ReportState> {
    const target = githubTarget(job.payload);
    if (!target) {
      this.#log.debug("github.skipped", {
        pylon: job.pylon,
        job: shortId(job.id),
        reason: "the event names no repository",
      });
      return { skipped: true };
    }
    if (this.#allowedRepos && !githubRepoAllowed(target, this.#apiUrl, this.#allowedRepos)) {
      this.#log.warn("github.refused", {
        pylon: job.pylon,
        job: shortId(job.id),
        repo: `${target.owner}/${target.repo}`,
        reason: "the event names a repository outside allowed_repos",
      });
      return { skipped: true };
    }
    const lockKey = `${target.owner}/${target.repo}#${target.number ?? target.sha}`;
    const previous = this.#locks.get(lockKey) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(() =>
      this.#report(job, target, { ...state }, conversation ?? null, jobUrl ?? null)
    );
    this.#locks.set(lockKey, run);
    try {
      return await run;
    } finally {
      if (this.#locks.get(lockKey) === run) this.#locks.delete(lockKey);
    }
  }

  async #report(
    job: Job,
    target: GitHubTarget,
    state: ReportState,
    conversation: JobUsage | null,
    jobUrl: string | null,
  ): Promise<ReportState> {
    if (typeof state.sha !== "string") {
      const sha = target.sha ??
        (target.isPull && target.number
          ? await this.#api.pullHeadSha(target, target.number)
          : undefined);
      if (sha) state.sha = sha;
    }
    const sha = typeof state.sha === "string" ? state.sha : undefined;
    const status = statusOf(job);
    const comment = commentOf(job, sha, conversation, jobUrl);
    const followUp = job.trigger === "follow-up";
    if (comment && target.number) {
      // A follow-up's answer is a comment of its own, under the question.
      const url = await this.#upsertComment(
        followUp ? followUpMarker(job.pylon, job.id) : marker(job.pylon),
        target,
        target.number,
        comment,
      );
      state.comment_url = url;
    }
    // A follow-up answers a question: the commit's review status stays the review's.
    if (sha && !followUp) {
      await this.#api.createStatus(target, sha, {
        ...status,
        context: `pylon/${job.pylon}`,
        ...(typeof state.comment_url === "string"
          ? { target_url: state.comment_url }
          : jobUrl
          ? { target_url: jobUrl }
          : {}),
      });
    }
    if (comment && !target.number && sha && !state.comment_url) {
      const posted = await this.#api.createCommitComment(target, sha, comment);
      state.comment_url = posted.html_url;
    }
    return state;
  }

  /** Caches a comment id; the oldest are forgotten (found again by their marker if needed). */
  #remember(key: string, id: number): void {
    this.#comments.delete(key);
    this.#comments.set(key, id);
    if (this.#comments.size > MAX_CACHED_COMMENTS) {
      this.#comments.delete(this.#comments.keys().next().value!);
    }
  }

  /** Edits the comment carrying `mark` on the issue, or posts it; returns its URL. */
  async #upsertComment(
    mark: string,
    target: GitHubTarget,
    number: number,
    body: string,
  ): Promise<string> {
    const key = `${target.owner}/${target.repo}#${number}|${mark}`;
    let id = this.#comments.get(key);
    if (id === undefined) {
      id = (await this.#api.findIssueComment(target, number, mark))?.id;
    }
    if (id !== undefined) {
      const updated = await this.#api.updateIssueComment(target, id, body);
      if (updated) {
        this.#remember(key, updated.id);
        return updated.html_url;
      }
    }
    const created = await this.#api.createIssueComment(target, number, body);
    this.#remember(key, created.id);
    return created.html_url;
  }
}

/** Comment ids kept in memory: a daemon runs for months, over many pull requests. */
const MAX_CACHED_COMMENTS = 1000;

/** The hidden line that identifies a pylon's comment. */
export function marker(pylon: string): string {
  return `<!-- pylon:${pylon} -->`;
}

/** The hidden line of a follow-up's answer (it does not contain the pylon's own marker). */
export function followUpMarker(pylon: string, jobId: string): string {
  return `<!-- pylon:${pylon} follow-up ${jobId.slice(0, 8)} -->`;
}

/** The commit status a job's status shows as. */
export function statusOf(job: Job): { state: StatusState; description: string } {
  const took = job.startedAt && job.finishedAt
    ? formatDuration(job.finishedAt.getTime() - job.startedAt.getTime())
    : undefined;
  switch (job.status) {
    case "awaiting_approval":
      return {
        state: "pending",
        description: `Waiting for approval (pylon approve ${shortId(job.id)})`,
      };
    case "queued":
      return { state: "pending", description: "Queued" };
    case "held":
      return {
        state: "pending",
        description: `held: budget (pylon approve ${shortId(job.id)} runs it anyway)`,
      };
    case "running":
      return { state: "pending", description: "The agent is working" };
    case "completed":
      return { state: "success", description: took ? `Done in ${took}` : "Done" };
    case "failed":
      return { state: "failure", description: `Failed: ${firstLine(job.error) ?? "no reason"}` };
    case "timed_out":
      return { state: "failure", description: took ? `Timed out after ${took}` : "Timed out" };
    case "killed":
      return {
        state: "error",
        description: job.error && job.error !== "killed by request"
          ? `Stopped: ${job.error}`
          : "Stopped by a person",
      };
    case "dismissed":
      // Not run on purpose (by a person, or superseded by a newer event): it must not block a merge.
      return {
        state: "success",
        description: job.error ? `Not run: ${job.error}` : "Dismissed; the agent did not run",
      };
  }
}

/**
 * The comment a finished job leaves; `undefined` while it is not finished (or was not run). Its
 * footer gives the cost and turns, and a follow-up's its conversation's total (`conversation`);
 * with `jobUrl` (`server.public_url` set) the job's id links to its dashboard page.
 */
export function commentOf(
  job: Job,
  sha: string | undefined,
  conversation: JobUsage | null = null,
  jobUrl: string | null = null,
): string | undefined {
  const on = sha ? ` on \`${sha.slice(0, 7)}\`` : "";
  let text: string;
  switch (job.status) {
    case "completed":
      text = job.result?.trim() || "_The agent returned no text._";
      break;
    case "failed":
      text = `❌ **pylon \`${job.pylon}\` failed**${on}${
        job.exitCode ? ` (exit code ${job.exitCode})` : ""
      }.\n\n\`\`\`\n${(job.error ?? "no reason was recorded").replaceAll("```", "'''")}\n\`\`\``;
      break;
    case "timed_out":
      text = `⏱️ **pylon \`${job.pylon}\` timed out**${on}: ${
        job.error ?? "the agent ran past its timeout"
      }.`;
      break;
    default:
      return undefined;
  }
  if (text.length > MAX_TEXT) {
    text = text.slice(0, MAX_TEXT) +
      `\n\n_(cut at ${MAX_TEXT} characters: GitHub refuses longer comments; the whole text is ` +
      `in \`pylon jobs --json\`)_`;
  }
  if (job.trigger === "follow-up") {
    const question = job.prompt ?? "";
    const shown = question.length > 500 ? question.slice(0, 500) + "…" : question;
    const quoted = shown.split("\n").map((l) => `> ${l}`.trimEnd()).join("\n");
    return `${followUpMarker(job.pylon, job.id)}\n${quoted}\n\n${text}\n\n${
      footer(job, sha, conversation, jobUrl)
    }`;
  }
  return `${marker(job.pylon)}\n${text}\n\n${footer(job, sha, conversation, jobUrl)}`;
}

/** Room for a result in a comment: GitHub refuses bodies over 65,536 characters. */
const MAX_TEXT = 60_000;

function footer(
  job: Job,
  sha: string | undefined,
  conversation: JobUsage | null,
  jobUrl: string | null,
): string {
  const id = `job ${shortId(job.id)}`;
  const parts = [`pylon · ${job.pylon}`, jobUrl ? `[${id}](${jobUrl})` : id];
  if (sha) parts.push(`commit ${sha.slice(0, 7)}`);
  if (job.startedAt && job.finishedAt) {
    parts.push(formatDuration(job.finishedAt.getTime() - job.startedAt.getTime()));
  }
  parts.push(...usageParts(job.usage, conversation));
  if (job.repeats > 1) parts.push(`event seen ${job.repeats}×`);
  if (job.trigger === "follow-up") parts.push("follow-up");
  return `<sub>${parts.join(" · ")}</sub>`;
}

function firstLine(text: string | null): string | undefined {
  return text?.split("\n").find((l) => l.trim())?.trim();
}

/** A short, non-reversible tag of a token (FNV-1a), to tell two tokens apart in keys. */
function fingerprint(token: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    h ^= token.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}
