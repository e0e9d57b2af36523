/**
 * A thin GitHub REST client over an injected `fetch`: JSON requests to `<api_url><path>` with
 * `Authorization: Bearer <token>`, the API version header, and failures mapped to
 * {@linkcode ChannelError} with what the user can do about them. Only the handful of calls the
 * `github` channel makes (issue comments, commit comments, commit statuses, one pull request).
 *
 * Written by hand rather than with Octokit: five endpoints do not justify its dependency tree,
 * and the channel needs GitHub's rate-limit answers mapped to the notifier's retry model.
 * The token travels only in the Authorization header; no error message carries it.
 *
 * @module
 */

import { ChannelError } from "../channel.ts";

/** Options of {@linkcode GitHubApi}. */
export interface GitHubApiOptions {
  token: string;
  /** `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise Server. */
  apiUrl: string;
  fetch?: typeof fetch | undefined;
  /** Per-request timeout in milliseconds. @default 15000 */
  timeoutMs?: number | undefined;
  /** Source of "now", for rate-limit reset times. */
  now?: (() => number) | undefined;
}

/** `owner/name` of a repository. */
export interface RepoRef {
  owner: string;
  repo: string;
}

/** An issue, pull request or commit comment. */
export interface GitHubComment {
  id: number;
  body: string;
  "html_url": string;
}

/** A commit status state. */
export type StatusState = "pending" | "success" | "failure" | "error";

/** Comments a search looks through before giving up (10 pages of 100). */
const MAX_COMMENT_PAGES = 10;

/** GitHub's REST API, the parts the `github` channel uses. */
export class GitHubApi {
  readonly #o: GitHubApiOptions;
  readonly #base: string;

  constructor(options: GitHubApiOptions) {
    this.#o = options;
    this.#base = options.apiUrl.replace(/\/+$/, "");
  }

  /** The token's account, and its OAuth scopes when it is a classic token (`null` otherwise). */
  async viewer(): Promise<{ login: string; scopes: string[] | null }> {
    const res = await this.#request("GET", "/user");
    const user = await res.json() as { login?: string };
    const header = res.headers.get("x-oauth-scopes");
    return {
      login: user.login ?? "?",
      scopes: header === null ? null : header.split(",").map((s) => s.trim()).filter(Boolean),
    };
  }

  /** Posts a comment on an issue or pull request. */
  createIssueComment(r: RepoRef, number: number, body: string): Promise<GitHubComment> {
    return this.#json("POST", `${repoPath(r)}/issues/${number}/comments`, { body });
  }

  /** Replaces a comment's text; `null` when the comment no longer exists (deleted by a person). */
  async updateIssueComment(r: RepoRef, id: number, body: string): Promise<GitHubComment | null> {
    try {
      return await this.#json("PATCH", `${repoPath(r)}/issues/comments/${id}`, { body });
    } catch (e) {
      if (e instanceof ChannelError && e.status === 404) return null;
      throw e;
    }
  }

  /** The first comment on an issue or pull request whose body contains `marker`. */
  async findIssueComment(
    r: RepoRef,
    number: number,
    marker: string,
  ): Promise<GitHubComment | null> {
    let path: string | null = `${repoPath(r)}/issues/${number}/comments?per_page=100`;
    for (let page = 0; path && page < MAX_COMMENT_PAGES; page++) {
      const res = await this.#request("GET", path);
      const comments = await res.json() as GitHubComment[];
      const found = comments.find((c) => typeof c.body === "string" && c.body.includes(marker));
      if (found) return found;
      path = nextPage(res.headers.get("link"), this.#base);
    }
    return null;
  }

  /** Posts a comment on a commit (for events without an issue, such as `push`). */
  createCommitComment(r: RepoRef, sha: string, body: string): Promise<GitHubComment> {
    return this.#json("POST", `${repoPath(r)}/commits/${sha}/comments`, { body });
  }

  /** Sets the commit status `context` on `sha`. */
  async createStatus(
    r: RepoRef,
    sha: string,
    status: { state: StatusState; context: string; description: string; target_url?: string },
  ): Promise<void> {
    await this.#json("POST", `${repoPath(r)}/statuses/${sha}`, {
      ...status,
      // GitHub refuses descriptions over 140 characters (422).
      description: clip(status.description, 140),
    });
  }

  /** The head commit of a pull request. */
  async pullHeadSha(r: RepoRef, number: number): Promise<string> {
    const pull = await this.#json<{ head?: { sha?: string } }>(
      "GET",
      `${repoPath(r)}/pulls/${number}`,
    );
    const sha = pull.head?.sha;
    if (!sha) {
      throw new ChannelError(`GitHub returned pull request #${number} without a head commit`, {
        channel: "github",
        method: "GET pulls",
        retryable: false,
      });
    }
    return sha;
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.#request(method, path, body);
    return await res.json() as T;
  }

  async #request(method: string, path: string, body?: unknown): Promise<Response> {
    const url = path.startsWith("http") ? path : this.#base + path;
    const what = `${method} ${url.slice(this.#base.length).split("?")[0]}`;
    let res: Response;
    try {
      res = await (this.#o.fetch ?? fetch)(url, {
        method,
        headers: {
          "accept": "application/vnd.github+json",
          "authorization": `Bearer ${this.#o.token}`,
          "x-github-api-version": "2022-11-28",
          "user-agent": "pylon",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 15_000),
      });
    } catch (e) {
      throw new ChannelError(`Cannot reach GitHub at ${this.#base} (${what})`, {
        channel: "github",
        method: what,
        retryable: true,
        cause: e,
      });
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    let message = "";
    try {
      message = String((JSON.parse(text) as { message?: unknown }).message ?? "");
    } catch {
      message = text.slice(0, 200);
    }
    throw this.#failure(res, what, message);
  }

  #failure(res: Response, what: string, message: string): ChannelError {
    const remaining = res.headers.get("x-ratelimit-remaining");
    const limited = res.status === 429 || (res.status === 403 && remaining === "0");
    let retryAfter = Number(res.headers.get("retry-after")) || undefined;
    const reset = Number(res.headers.get("x-ratelimit-reset"));
    if (limited && !retryAfter && reset > 0) {
      const now = (this.#o.now ?? Date.now)();
      retryAfter = Math.max(1, Math.ceil(reset - now / 1000));
    }
    const said = message ? ` (${message})` : "";
    const advice = limited
      ? "GitHub's rate limit was reached; pylon tries again later"
      : res.status === 401
      ? 'the token was refused; set channel.github.token to a valid token, e.g. "${GITHUB_TOKEN}"'
      : res.status === 403
      ? "the token may not do this; it needs write access to issues, pull requests and commit statuses of the repository"
      : res.status === 404
      ? "the repository, issue or commit is not there, or the token cannot see it"
      : res.status === 422
      ? "GitHub refused the request's content"
      : "GitHub failed; pylon tries again later";
    return new ChannelError(`GitHub answered ${res.status} to ${what}${said}: ${advice}`, {
      channel: "github",
      method: what,
      status: res.status,
      retryable: limited || res.status >= 500,
      retryAfter,
    });
  }
}

function repoPath(r: RepoRef): string {
  return `/repos/${encodeURIComponent(r.owner)}/${encodeURIComponent(r.repo)}`;
}

/** The `rel="next"` URL of a `Link` header, when it points at the same API. */
function nextPage(link: string | null, base: string): string | null {
  if (!link) return null;
  for (const part of link.split(",")) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m && m[1]!.startsWith(base)) return m[1]!;
  }
  return null;
}

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, max - 1).join("") + "…";
}
