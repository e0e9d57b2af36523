// deno-lint-ignore-file camelcase -- field names are GitHub's wire format
/**
 * A fake GitHub REST API on 127.0.0.1: a real HTTP server speaking the wire format of the
 * endpoints pylon reports through (issue comments, commit statuses, commit comments, pull
 * requests, check runs), so production client code runs unchanged against `url`.
 *
 * It behaves like GitHub where pylon depends on it: `Authorization: Bearer|token <token>` is
 * checked (401 "Requires authentication" / "Bad credentials"), errors carry `message` and
 * `documentation_url`, validation failures are 422 with GitHub's `errors[]` shape, lists paginate
 * with `per_page`/`page` and a `Link` header, an issue comment body is limited to 65536 characters,
 * a status description to 140, statuses and commit comments need a full 40-hex commit SHA, and
 * check runs need a GitHub App installation token (`ghs_…`; a PAT gets 403 like on github.com).
 * Any repository and issue number exist; pull requests exist once seeded with `addPull`.
 * Tests inject failures with `failNext` and inspect `requests`, `comments`, `statuses`, ….
 *
 * @module
 */

/** A GitHub account as the API shows it (trimmed). */
export interface GhUser {
  login: string;
  id: number;
  node_id: string;
  type: "User" | "Bot";
  site_admin: boolean;
  html_url: string;
}

/** An issue (or pull request) comment. */
export interface GhIssueComment {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  issue_url: string;
  body: string;
  user: GhUser;
  created_at: string;
  updated_at: string;
  author_association: string;
}

/** A commit status. */
export interface GhStatus {
  id: number;
  node_id: string;
  url: string;
  avatar_url: string;
  state: "error" | "failure" | "pending" | "success";
  description: string | null;
  target_url: string | null;
  context: string;
  created_at: string;
  updated_at: string;
  creator: GhUser;
}

/** A commit comment. */
export interface GhCommitComment {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  body: string;
  path: string | null;
  position: number | null;
  line: number | null;
  commit_id: string;
  user: GhUser;
  created_at: string;
  updated_at: string;
  author_association: string;
}

/** A check run. */
export interface GhCheckRun {
  id: number;
  node_id: string;
  name: string;
  head_sha: string;
  external_id: string | null;
  url: string;
  html_url: string;
  details_url: string | null;
  status: string;
  conclusion: string | null;
  started_at: string | null;
  completed_at: string | null;
  output: {
    title: string | null;
    summary: string | null;
    text: string | null;
    annotations_count: number;
    annotations_url: string;
  };
  check_suite: { id: number };
  pull_requests: unknown[];
}

/** A pull request (trimmed to what pylon reads). */
export interface GhPull {
  url: string;
  id: number;
  node_id: string;
  html_url: string;
  number: number;
  state: "open" | "closed";
  locked: boolean;
  title: string;
  user: GhUser;
  body: string | null;
  draft: boolean;
  merged: boolean;
  merged_at: string | null;
  created_at: string;
  updated_at: string;
  head: { label: string; ref: string; sha: string; repo: GhRepo };
  base: { label: string; ref: string; sha: string; repo: GhRepo };
  comments_url: string;
  statuses_url: string;
}

/** A repository as nested in other objects (trimmed). */
export interface GhRepo {
  id: number;
  node_id: string;
  name: string;
  full_name: string;
  private: boolean;
  owner: GhUser;
  html_url: string;
  url: string;
  clone_url: string;
  default_branch: string;
}

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** The path without the query. */
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body, the raw text when it was not JSON, or undefined when empty. */
  body: unknown;
  /** Header names lowercased. */
  headers: Record<string, string>;
}

/** How the requests `failNext` hits answer. */
export interface FailOptions {
  /** Seconds, sent as `retry-after` (429, and 403 as a secondary rate limit). */
  retryAfter?: number;
  /** Epoch seconds for `x-ratelimit-reset` on a primary rate limit (403 without `retryAfter`). */
  resetAt?: number;
  message?: string;
  /** Only requests with this method (e.g. "POST") fail. */
  method?: string;
  /** Only requests whose path matches fail. */
  path?: RegExp;
}

/** Options of {@linkcode startFakeGitHub}. */
export interface FakeGitHubOptions {
  /** The only token accepted. @default "ghp_test" */
  token?: string;
  /** Login of the account the token belongs to (author of comments and statuses). @default "pylon-bot" */
  login?: string;
  /** Clock for `created_at`/`updated_at`. @default () => new Date() */
  now?: () => Date;
  /** `X-OAuth-Scopes` of a classic token; `null`: a fine-grained token (no header). @default ["repo"] */
  scopes?: string[] | null;
}

/** What `addPull` seeds. */
export interface AddPullOptions {
  owner?: string;
  repo?: string;
  number: number;
  headSha: string;
  headRef?: string;
  baseRef?: string;
  baseSha?: string;
  draft?: boolean;
  state?: "open" | "closed";
  merged?: boolean;
  title?: string;
}

const DOCS = "https://docs.github.com/rest";
const STATES = ["error", "failure", "pending", "success"];
const CHECK_STATUSES = ["queued", "in_progress", "completed", "waiting", "requested", "pending"];
const CONCLUSIONS = [
  "action_required",
  "cancelled",
  "failure",
  "neutral",
  "success",
  "skipped",
  "stale",
  "timed_out",
];
const SHA_REGEXP = /^[0-9a-f]{40}$/i;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly docs: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

type Route = {
  method: string;
  pattern: RegExp;
  docs: string;
  handle: (m: string[], body: Record<string, unknown>, url: URL) => Response | unknown;
};

/** Starts the fake on an ephemeral loopback port; `await using` stops it. */
export function startFakeGitHub(options: FakeGitHubOptions = {}): FakeGitHub {
  return new FakeGitHub(options);
}

/** A running fake GitHub. */
export class FakeGitHub implements AsyncDisposable {
  /** The only token accepted. */
  readonly token: string;
  /** The account the token belongs to. */
  readonly user: GhUser;
  /** Every request, oldest first (including rejected ones). */
  readonly requests: RecordedRequest[] = [];
  #now: () => Date;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #nextId = 1_000_001;
  #issueComments: (GhIssueComment & { key: string })[] = [];
  #statuses = new Map<string, GhStatus[]>();
  #commitComments = new Map<string, GhCommitComment[]>();
  #checkRuns: (GhCheckRun & { key: string })[] = [];
  #pulls = new Map<string, GhPull>();
  #failures: (FailOptions & { status: number })[] = [];
  #watchers = new Set<() => void>();
  #remaining = 5000;
  #routes: Route[];

  constructor(options: FakeGitHubOptions = {}) {
    this.token = options.token ?? "ghp_test";
    this.#now = options.now ?? (() => new Date());
    const login = options.login ?? "pylon-bot";
    this.user = {
      login,
      id: 4242,
      node_id: "MDQ6VXNlcjQyNDI=",
      type: login.endsWith("[bot]") ? "Bot" : "User",
      site_admin: false,
      html_url: `https://github.com/${login.replace(/\[bot\]$/, "")}`,
    };
    const scopes = options.scopes === undefined ? ["repo"] : options.scopes;
    this.#routes = [...this.#buildRoutes(), {
      method: "GET",
      pattern: /^\/user\/?$/,
      docs: "users/users#get-the-authenticated-user",
      handle: () =>
        this.#json(
          200,
          this.user,
          new Headers(scopes === null ? {} : { "x-oauth-scopes": scopes.join(", ") }),
        ),
    }];
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) => this.#handle(req),
    );
  }

  /** Base URL, for `api_url` (no trailing slash). */
  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Seeds (or replaces) a pull request; returns it as `GET /pulls/{n}` answers. */
  addPull(p: AddPullOptions): GhPull {
    const owner = p.owner ?? "octo-org";
    const repo = p.repo ?? "octo-repo";
    const r = this.#repo(owner, repo);
    const at = this.#stamp();
    const merged = p.merged ?? false;
    const pull: GhPull = {
      url: `${this.url}/repos/${owner}/${repo}/pulls/${p.number}`,
      id: 500_000 + p.number,
      node_id: `PR_fake${p.number}`,
      html_url: `https://github.com/${owner}/${repo}/pull/${p.number}`,
      number: p.number,
      state: p.state ?? (merged ? "closed" : "open"),
      locked: false,
      title: p.title ?? `Pull request #${p.number}`,
      user: { ...this.user, login: "octocat", id: 583231, type: "User" },
      body: null,
      draft: p.draft ?? false,
      merged,
      merged_at: merged ? at : null,
      created_at: at,
      updated_at: at,
      head: {
        label: `${owner}:${p.headRef ?? "feature"}`,
        ref: p.headRef ?? "feature",
        sha: p.headSha,
        repo: r,
      },
      base: {
        label: `${owner}:${p.baseRef ?? "main"}`,
        ref: p.baseRef ?? "main",
        sha: p.baseSha ?? "0".repeat(39) + "1",
        repo: r,
      },
      comments_url: `${this.url}/repos/${owner}/${repo}/issues/${p.number}/comments`,
      statuses_url: `${this.url}/repos/${owner}/${repo}/statuses/${p.headSha}`,
    };
    this.#pulls.set(`${owner}/${repo}#${p.number}`, pull);
    return structuredClone(pull);
  }

  /**
   * The next `n` requests (matching `options.method`/`path`, if given) answer `status` instead:
   * 403 is a primary rate limit (`x-ratelimit-remaining: 0`) or, with `retryAfter`, a secondary
   * one; 429 sends `retry-after` (default 60); 500 a JSON "Server Error"; 502-504 an HTML page,
   * as GitHub's edge does.
   */
  failNext(n: number, status: number, options: FailOptions = {}): void {
    for (let i = 0; i < n; i++) this.#failures.push({ ...options, status });
  }

  /** Current comments of an issue or pull request (edits applied, deletions gone), oldest first. */
  comments(owner: string, repo: string, number: number): GhIssueComment[] {
    return this.#issueComments.filter((c) => c.key === `${owner}/${repo}#${number}`).map(strip);
  }

  /** Statuses created for a commit, in creation order. */
  statuses(owner: string, repo: string, sha: string): GhStatus[] {
    return structuredClone(this.#statuses.get(`${owner}/${repo}@${sha}`) ?? []);
  }

  /** Comments created on a commit, in creation order. */
  commitComments(owner: string, repo: string, sha: string): GhCommitComment[] {
    return structuredClone(this.#commitComments.get(`${owner}/${repo}@${sha}`) ?? []);
  }

  /** Check runs of a repository (optionally for one head SHA), in creation order, updates applied. */
  checkRuns(owner: string, repo: string, headSha?: string): GhCheckRun[] {
    return this.#checkRuns.filter((c) =>
      c.key === `${owner}/${repo}` && (headSha === undefined || c.head_sha === headSha)
    ).map(strip);
  }

  /** Resolves once `check` is true (re-checked after every request), or rejects after `ms`. */
  waitFor(check: () => boolean, ms = 5000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const watch = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.#watchers.delete(watch);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#watchers.delete(watch);
        reject(new Error(`fake GitHub: condition not met within ${ms} ms`));
      }, ms);
      this.#watchers.add(watch);
    });
  }

  /** Stops the server. */
  async close(): Promise<void> {
    await this.#server.shutdown();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #stamp(): string {
    return this.#now().toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  #repo(owner: string, repo: string): GhRepo {
    return {
      id: 100_000,
      node_id: "R_fakerepo",
      name: repo,
      full_name: `${owner}/${repo}`,
      private: false,
      owner: { ...this.user, login: owner, id: 9919, type: "User" },
      html_url: `https://github.com/${owner}/${repo}`,
      url: `${this.url}/repos/${owner}/${repo}`,
      clone_url: `https://github.com/${owner}/${repo}.git`,
      default_branch: "main",
    };
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const text = req.body ? await req.text() : "";
    let body: unknown = undefined;
    let badJson = false;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
        badJson = true;
      }
    }
    this.requests.push({
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      headers: Object.fromEntries(req.headers),
    });
    try {
      const failure = this.#takeFailure(req.method, url.pathname);
      if (failure) return this.#fail(failure);
      this.#remaining = Math.max(0, this.#remaining - 1);
      const route = this.#routes.find((r) =>
        r.method === req.method && r.pattern.test(url.pathname)
      );
      const docs = route ? `${DOCS}/${route.docs}` : DOCS;
      const auth = req.headers.get("authorization");
      if (!auth) throw new ApiError(401, "Requires authentication", docs);
      const token = /^(?:bearer|token)\s+(\S+)$/i.exec(auth.trim())?.[1];
      if (token !== this.token) throw new ApiError(401, "Bad credentials", DOCS);
      if (!route) throw new ApiError(404, "Not Found", DOCS);
      if (badJson) throw new ApiError(400, "Problems parsing JSON", docs);
      if (body !== undefined && (typeof body !== "object" || body === null)) {
        throw new ApiError(400, "Problems parsing JSON", docs);
      }
      const match = route.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
      try {
        const result = route.handle(match, (body ?? {}) as Record<string, unknown>, url);
        return result instanceof Response ? this.#withHeaders(result) : this.#json(200, result);
      } catch (error) {
        if (error instanceof ApiError && !error.docs) {
          throw new ApiError(error.status, error.message, docs, error.extra);
        }
        throw error;
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return this.#json(error.status, {
        message: error.message,
        ...error.extra,
        documentation_url: error.docs,
        status: String(error.status),
      });
    } finally {
      for (const w of [...this.#watchers]) w();
    }
  }

  #takeFailure(method: string, path: string) {
    const i = this.#failures.findIndex((f) =>
      (f.method === undefined || f.method.toUpperCase() === method) &&
      (f.path === undefined || f.path.test(path))
    );
    return i < 0 ? undefined : this.#failures.splice(i, 1)[0];
  }

  #fail(f: FailOptions & { status: number }): Response {
    const headers = new Headers();
    if (f.status >= 502 && f.status <= 504) {
      headers.set("content-type", "text/html; charset=utf-8");
      const html = `<html><body><h1>${f.status}</h1><p>${
        f.message ?? "Unicorn!"
      }</p></body></html>`;
      return new Response(html, { status: f.status, headers });
    }
    let message = f.message ?? "Server Error";
    if (f.status === 429 || (f.status === 403 && f.retryAfter !== undefined)) {
      headers.set("retry-after", String(f.retryAfter ?? 60));
      message = f.message ??
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
    } else if (f.status === 403) {
      const reset = f.resetAt ?? Math.floor(this.#now().getTime() / 1000) + 60;
      headers.set("x-ratelimit-limit", "5000");
      headers.set("x-ratelimit-remaining", "0");
      headers.set("x-ratelimit-used", "5000");
      headers.set("x-ratelimit-reset", String(reset));
      headers.set("x-ratelimit-resource", "core");
      message = f.message ?? `API rate limit exceeded for user ID ${this.user.id}.`;
    }
    const docs = f.status === 403 || f.status === 429
      ? `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api`
      : DOCS;
    return this.#json(f.status, {
      message,
      documentation_url: docs,
      status: String(f.status),
    }, headers);
  }

  #json(status: number, value: unknown, headers = new Headers()): Response {
    if (status !== 204) headers.set("content-type", "application/json; charset=utf-8");
    return this.#withHeaders(
      new Response(status === 204 ? null : JSON.stringify(value), { status, headers }),
    );
  }

  #withHeaders(res: Response): Response {
    const h = res.headers;
    if (!h.has("x-ratelimit-remaining")) {
      h.set("x-ratelimit-limit", "5000");
      h.set("x-ratelimit-remaining", String(this.#remaining));
      h.set("x-ratelimit-used", String(5000 - this.#remaining));
      h.set("x-ratelimit-reset", String(Math.floor(this.#now().getTime() / 1000) + 3600));
      h.set("x-ratelimit-resource", "core");
    }
    h.set("x-github-api-version-selected", "2022-11-28");
    h.set("x-github-request-id", `FAKE:${this.requests.length}`);
    return res;
  }

  /** A page of `items` with GitHub's `Link` header (`per_page` default 30, max 100). */
  #page(items: unknown[], url: URL): Response {
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get("per_page")) || 30));
    const page = Math.max(1, Math.floor(Number(url.searchParams.get("page")) || 1));
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (n: number, rel: string) => {
      const u = new URL(url.pathname + url.search, this.url);
      u.searchParams.set("per_page", String(perPage));
      u.searchParams.set("page", String(n));
      return `<${u}>; rel="${rel}"`;
    };
    const links = [];
    if (page > 1) links.push(link(page - 1, "prev"));
    if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
    if (page > 1) links.push(link(1, "first"));
    const headers = new Headers();
    if (links.length) headers.set("link", links.join(", "));
    return this.#json(200, items.slice((page - 1) * perPage, page * perPage), headers);
  }

  #id(): number {
    return this.#nextId++;
  }

  #buildRoutes(): Route[] {
    const R = "/repos/([^/]+)/([^/]+)";
    const created = (value: unknown) => this.#json(201, value);
    const route = (
      method: string,
      path: string,
      docs: string,
      handle: Route["handle"],
    ): Route => ({ method, pattern: new RegExp(`^${R}${path}/?$`), docs, handle });
    return [
      route(
        "POST",
        "/issues/(\\d+)/comments",
        "issues/comments#create-an-issue-comment",
        (m, b) => {
          const [owner, repo, n] = m as [string, string, string];
          const at = this.#stamp();
          const id = this.#id();
          const kind = this.#pulls.has(`${owner}/${repo}#${n}`) ? "pull" : "issues";
          const comment = {
            key: `${owner}/${repo}#${n}`,
            id,
            node_id: `IC_fake${id}`,
            url: `${this.url}/repos/${owner}/${repo}/issues/comments/${id}`,
            html_url: `https://github.com/${owner}/${repo}/${kind}/${n}#issuecomment-${id}`,
            issue_url: `${this.url}/repos/${owner}/${repo}/issues/${n}`,
            body: commentBody(b, "IssueComment"),
            user: this.user,
            created_at: at,
            updated_at: at,
            author_association: "NONE",
          };
          this.#issueComments.push(comment);
          return created(strip(comment));
        },
      ),
      route("GET", "/issues/(\\d+)/comments", "issues/comments#list-issue-comments", (m, _b, u) => {
        const [owner, repo, n] = m as [string, string, string];
        return this.#page(this.comments(owner, repo, Number(n)), u);
      }),
      route("GET", "/issues/comments/(\\d+)", "issues/comments#get-an-issue-comment", (m) => {
        return strip(this.#issueComment(m));
      }),
      route(
        "PATCH",
        "/issues/comments/(\\d+)",
        "issues/comments#update-an-issue-comment",
        (m, b) => {
          const comment = this.#issueComment(m);
          comment.body = commentBody(b, "IssueComment");
          comment.updated_at = this.#stamp();
          return strip(comment);
        },
      ),
      route("DELETE", "/issues/comments/(\\d+)", "issues/comments#delete-an-issue-comment", (m) => {
        const comment = this.#issueComment(m);
        this.#issueComments = this.#issueComments.filter((c) => c !== comment);
        return this.#json(204, null);
      }),
      route("POST", "/statuses/([^/]+)", "commits/statuses#create-a-commit-status", (m, b) => {
        const [owner, repo, sha] = m as [string, string, string];
        checkSha(sha);
        const errors = [];
        if (typeof b.state !== "string" || !STATES.includes(b.state)) {
          errors.push(invalid("Status", "state", "state is not included in the list"));
        }
        const description = optionalString(b, "description");
        if (description && description.length > 140) {
          errors.push(
            invalid("Status", "description", "description is too long (maximum is 140 characters)"),
          );
        }
        if (errors.length) throw validation(errors);
        const at = this.#stamp();
        const id = this.#id();
        const status: GhStatus = {
          id,
          node_id: `SC_fake${id}`,
          url: `${this.url}/repos/${owner}/${repo}/statuses/${sha}`,
          avatar_url: "https://avatars.githubusercontent.com/u/4242?v=4",
          state: b.state as GhStatus["state"],
          description: description ?? null,
          target_url: optionalString(b, "target_url") ?? null,
          context: optionalString(b, "context") ?? "default",
          created_at: at,
          updated_at: at,
          creator: this.user,
        };
        const key = `${owner}/${repo}@${sha}`;
        this.#statuses.set(key, [...(this.#statuses.get(key) ?? []), status]);
        return created(status);
      }),
      route(
        "GET",
        "/commits/([^/]+)/statuses",
        "commits/statuses#list-commit-statuses-for-a-reference",
        (m, _b, u) => {
          const [owner, repo, ref] = m as [string, string, string];
          return this.#page(
            this.statuses(owner, repo, this.#resolve(owner, repo, ref)).reverse(),
            u,
          );
        },
      ),
      route(
        "GET",
        "/commits/([^/]+)/status",
        "commits/statuses#get-the-combined-status-for-a-specific-reference",
        (m) => {
          const [owner, repo, ref] = m as [string, string, string];
          const sha = this.#resolve(owner, repo, ref);
          const latest = new Map<string, GhStatus>();
          for (const s of this.statuses(owner, repo, sha).reverse()) {
            if (!latest.has(s.context.toLowerCase())) latest.set(s.context.toLowerCase(), s);
          }
          const statuses = [...latest.values()];
          const state = statuses.some((s) => s.state === "error" || s.state === "failure")
            ? "failure"
            : statuses.length === 0 || statuses.some((s) => s.state === "pending")
            ? "pending"
            : "success";
          return {
            state,
            statuses,
            sha,
            total_count: statuses.length,
            repository: this.#repo(owner, repo),
            commit_url: `${this.url}/repos/${owner}/${repo}/commits/${sha}`,
            url: `${this.url}/repos/${owner}/${repo}/commits/${sha}/status`,
          };
        },
      ),
      route(
        "POST",
        "/commits/([^/]+)/comments",
        "commits/comments#create-a-commit-comment",
        (m, b) => {
          const [owner, repo, sha] = m as [string, string, string];
          checkSha(sha);
          const at = this.#stamp();
          const id = this.#id();
          const comment: GhCommitComment = {
            id,
            node_id: `CC_fake${id}`,
            url: `${this.url}/repos/${owner}/${repo}/comments/${id}`,
            html_url: `https://github.com/${owner}/${repo}/commit/${sha}#commitcomment-${id}`,
            body: commentBody(b, "CommitComment"),
            path: optionalString(b, "path") ?? null,
            position: typeof b.position === "number" ? b.position : null,
            line: typeof b.line === "number" ? b.line : null,
            commit_id: sha,
            user: this.user,
            created_at: at,
            updated_at: at,
            author_association: "NONE",
          };
          const key = `${owner}/${repo}@${sha}`;
          this.#commitComments.set(key, [...(this.#commitComments.get(key) ?? []), comment]);
          return created(comment);
        },
      ),
      route("GET", "/pulls/(\\d+)", "pulls/pulls#get-a-pull-request", (m) => {
        const [owner, repo, n] = m as [string, string, string];
        const pull = this.#pulls.get(`${owner}/${repo}#${n}`);
        if (!pull) throw new ApiError(404, "Not Found", "");
        return pull;
      }),
      route("POST", "/check-runs", "checks/runs#create-a-check-run", (m, b) => {
        const [owner, repo] = m as [string, string];
        this.#needsApp();
        for (const field of ["name", "head_sha"]) {
          if (typeof b[field] !== "string" || !b[field]) {
            throw new ApiError(422, `Invalid request.\n\n"${field}" wasn't supplied.`, "");
          }
        }
        const id = this.#id();
        const run: GhCheckRun & { key: string } = {
          key: `${owner}/${repo}`,
          id,
          node_id: `CR_fake${id}`,
          name: String(b.name),
          head_sha: String(b.head_sha),
          external_id: null,
          url: `${this.url}/repos/${owner}/${repo}/check-runs/${id}`,
          html_url: `https://github.com/${owner}/${repo}/runs/${id}`,
          details_url: null,
          status: "queued",
          conclusion: null,
          started_at: this.#stamp(),
          completed_at: null,
          output: {
            title: null,
            summary: null,
            text: null,
            annotations_count: 0,
            annotations_url: `${this.url}/repos/${owner}/${repo}/check-runs/${id}/annotations`,
          },
          check_suite: { id: 7_000_000 },
          pull_requests: [],
        };
        this.#applyCheckRun(run, b);
        this.#checkRuns.push(run);
        return created(strip(run));
      }),
      route("PATCH", "/check-runs/(\\d+)", "checks/runs#update-a-check-run", (m, b) => {
        const [owner, repo, id] = m as [string, string, string];
        this.#needsApp();
        const run = this.#checkRuns.find((c) =>
          c.key === `${owner}/${repo}` && c.id === Number(id)
        );
        if (!run) throw new ApiError(404, "Not Found", "");
        this.#applyCheckRun(run, b);
        return strip(run);
      }),
      route(
        "GET",
        "/commits/([^/]+)/check-runs",
        "checks/runs#list-check-runs-for-a-git-reference",
        (m) => {
          const [owner, repo, ref] = m as [string, string, string];
          const runs = this.checkRuns(owner, repo, this.#resolve(owner, repo, ref));
          return { total_count: runs.length, check_runs: runs };
        },
      ),
    ];
  }

  #issueComment(m: string[]) {
    const [owner, repo, id] = m as [string, string, string];
    const comment = this.#issueComments.find((c) =>
      c.id === Number(id) && c.key.startsWith(`${owner}/${repo}#`)
    );
    if (!comment) throw new ApiError(404, "Not Found", "");
    return comment;
  }

  /** A branch name that is the head of a seeded pull request resolves to its SHA. */
  #resolve(owner: string, repo: string, ref: string): string {
    for (const [key, pull] of this.#pulls) {
      if (key.startsWith(`${owner}/${repo}#`) && pull.head.ref === ref) return pull.head.sha;
    }
    return ref;
  }

  #needsApp(): void {
    if (!this.token.startsWith("ghs_")) {
      throw new ApiError(403, "You must authenticate via a GitHub App.", "");
    }
  }

  #applyCheckRun(run: GhCheckRun, b: Record<string, unknown>): void {
    if (b.status !== undefined && !CHECK_STATUSES.includes(String(b.status))) {
      throw validation([invalid("CheckRun", "status", "status is not included in the list")]);
    }
    if (b.conclusion !== undefined && !CONCLUSIONS.includes(String(b.conclusion))) {
      throw validation([
        invalid("CheckRun", "conclusion", "conclusion is not included in the list"),
      ]);
    }
    const status = b.conclusion !== undefined ? "completed" : (b.status as string | undefined);
    if (status === "completed" && b.conclusion === undefined && run.conclusion === null) {
      throw new ApiError(422, 'Invalid request.\n\n"conclusion" wasn\'t supplied.', "");
    }
    const output = b.output as Record<string, unknown> | undefined;
    if (output && (typeof output.title !== "string" || typeof output.summary !== "string")) {
      const missing = typeof output.title !== "string" ? "title" : "summary";
      throw new ApiError(422, `Invalid request.\n\n"${missing}" wasn't supplied.`, "");
    }
    if (output && String(output.summary).length > 65535) {
      throw validation([invalid("CheckRun", "summary", "Output summary is too long")]);
    }
    if (typeof b.name === "string") run.name = b.name;
    if (typeof b.details_url === "string") run.details_url = b.details_url;
    if (typeof b.external_id === "string") run.external_id = b.external_id;
    if (status) run.status = status;
    if (b.conclusion !== undefined) run.conclusion = String(b.conclusion);
    if (run.status === "completed" && run.completed_at === null) run.completed_at = this.#stamp();
    if (output) {
      run.output.title = String(output.title);
      run.output.summary = String(output.summary);
      run.output.text = typeof output.text === "string" ? output.text : run.output.text;
    }
  }
}

/** Drops the fake's bookkeeping key and copies, so callers cannot mutate the state. */
function strip<T extends { key: string }>(value: T): Omit<T, "key"> {
  const { key: _key, ...rest } = value;
  return structuredClone(rest);
}

function invalid(resource: string, field: string, message: string) {
  return { resource, code: "custom", field, message };
}

function validation(errors: unknown[]): ApiError {
  return new ApiError(422, "Validation Failed", "", { errors });
}

function optionalString(b: Record<string, unknown>, field: string): string | undefined {
  const value = b[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new ApiError(
      422,
      `Invalid request.\n\nFor 'properties/${field}', ${JSON.stringify(value)} is not a string.`,
      "",
    );
  }
  return value;
}

function commentBody(b: Record<string, unknown>, resource: string): string {
  const body = optionalString(b, "body");
  if (body === undefined) {
    throw new ApiError(422, `Invalid request.\n\n"body" wasn't supplied.`, "");
  }
  if (body.length > 65536) {
    throw validation([{
      resource,
      code: "unprocessable",
      field: "data",
      message: "Body is too long (maximum is 65536 characters)",
    }]);
  }
  return body;
}

function checkSha(sha: string): void {
  if (!SHA_REGEXP.test(sha)) throw new ApiError(422, `No commit found for SHA: ${sha}`, "");
}
