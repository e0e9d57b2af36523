/**
 * Webhook payload shapes used by the golden cases (trimmed real Sentry and GitHub payloads),
 * wrapped the way pylon passes them to templates: `{ body, headers }`.
 *
 * @module
 */

/** A Sentry issue-alert webhook. */
export const SENTRY = {
  body: {
    action: "triggered",
    data: {
      event: {
        event_id: "9f3c2b1a0d4e4f5a8b7c6d5e4f3a2b1c",
        title: "TypeError: Cannot read properties of undefined (reading 'id')",
        culprit: "app/routes/user.ts in getUser",
        level: "error",
        platform: "node",
        environment: "production",
        release: "web@1.4.2",
        web_url: "https://sentry.io/organizations/acme/issues/4011/events/9f3c2b1a/",
        issue_id: "4011",
        tags: [["browser", "Chrome 120"], ["environment", "production"], ["level", "error"]],
        exception: {
          values: [{
            type: "TypeError",
            value: "Cannot read properties of undefined (reading 'id')",
            stacktrace: {
              frames: [
                {
                  filename: "node_modules/express/lib/router.js",
                  function: "handle",
                  lineno: 284,
                  in_app: false,
                },
                {
                  filename: "app/middleware/auth.ts",
                  function: "requireUser",
                  lineno: 12,
                  in_app: true,
                },
                {
                  filename: "app/routes/user.ts",
                  function: "getUser",
                  lineno: 42,
                  colno: 17,
                  in_app: true,
                },
              ],
            },
          }],
        },
        user: { id: "u_123", email: "ada@example.com" },
        timestamp: 1700000000.123,
        count: 1234567,
        extra: {},
        fingerprint: [],
        contexts: null,
      },
      triggered_rule: "Notify pylon",
    },
    actor: { type: "application", id: "sentry", name: "Sentry" },
  },
  headers: { "sentry-hook-resource": "event_alert", "content-type": "application/json" },
};

/** A GitHub `issues` webhook (action opened). */
export const GH_ISSUE = {
  body: {
    action: "opened",
    issue: {
      number: 1347,
      title: 'Login fails with <script> in name & "quotes"',
      body: "Steps:\n1. Sign up as `<b>Ada</b>`\n2. Log in\n\nExpected: works\nActual: 500 😱",
      state: "open",
      html_url: "https://github.com/acme/web/issues/1347",
      user: { login: "octocat", id: 583231, site_admin: false },
      labels: [{ name: "bug", color: "d73a4a" }, { name: "good first issue", color: "7057ff" }],
      assignees: [],
      comments: 0,
      milestone: null,
    },
    repository: {
      id: 123456789,
      full_name: "acme/web",
      clone_url: "https://github.com/acme/web.git",
      default_branch: "main",
      private: false,
      stargazers_count: 80,
      topics: ["web", "typescript"],
    },
    sender: { login: "octocat", type: "User" },
  },
  headers: {
    "x-github-event": "issues",
    "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
  },
};

/** A GitHub `pull_request` webhook. */
export const GH_PR = {
  body: {
    action: "synchronize",
    number: 58,
    pull_request: {
      number: 58,
      title: "Fix: handle empty user",
      draft: false,
      merged: false,
      additions: 120,
      deletions: 4,
      changed_files: 3,
      head: { ref: "fix/empty-user", sha: "6dcb09b5b57875f334f61aebed695e2e4193db5e" },
      base: { ref: "main" },
      requested_reviewers: [{ login: "hubot" }, { login: "ada" }],
    },
    repository: { full_name: "acme/web", default_branch: "main" },
  },
  headers: { "x-github-event": "pull_request" },
};

/** A GitHub `push` webhook. */
export const GH_PUSH = {
  body: {
    ref: "refs/heads/main",
    before: "0000000000000000000000000000000000000000",
    after: "a10867b14bb761a232cd80139fbd4c0d33264240",
    created: true,
    forced: false,
    commits: [
      { id: "a10867b1", message: "Add feature\n\nLonger description", author: { name: "Ada" } },
      { id: "b20978c2", message: "Fix typo", author: { name: "Grace" } },
    ],
    head_commit: { id: "b20978c2", message: "Fix typo" },
    repository: { full_name: "acme/web" },
    pusher: { name: "ada" },
  },
  headers: { "x-github-event": "push" },
};

/** Small data for language cases. */
export const SIMPLE = {
  str: "hello",
  empty: "",
  n: 42,
  zero: 0,
  neg: -7,
  f: 0.25,
  big: 1000000,
  tiny: 0.00001,
  t: true,
  fls: false,
  nul: null,
  arr: ["a", "b", "c"],
  nums: [3, 1, 2],
  emptyArr: [],
  objs: [{ name: "x", v: 1 }, { name: "y", v: 2 }, { name: "z", v: 3 }],
  m: { b: 2, a: 1, c: 3 },
  emptyMap: {},
  nested: { a: { b: { c: "deep" } }, list: [[1, 2], [3]] },
  mixed: [1, "two", true, null, { k: "v" }, [5]],
  html: `<a href="x?a=1&b='2'">Tom & "Jerry"</a>`,
  uni: "héllo wörld 😀 ✓",
  ctrl: "tab\there\nnewline\u0001\u007f",
  headers: { "x-github-event": "issues", "Content-Type": "json" },
};
