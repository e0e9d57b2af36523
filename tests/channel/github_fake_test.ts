import assert from "node:assert/strict";
import { startFakeGitHub } from "../fakes/github_server.ts";
import {
  githubHeaders,
  HEAD_SHA,
  issueCommentEvent,
  prEvent,
  pushEvent,
} from "../fixtures/github/mod.ts";

const SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";

function client(base: string, token = "ghp_test") {
  return async (method: string, path: string, body?: unknown, scheme = "Bearer") => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `${scheme} ${token}`,
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const type = res.headers.get("content-type") ?? "";
    return { res, json: type.includes("json") && text ? JSON.parse(text) : text };
  };
}

Deno.test("fake GitHub creates, edits, deletes and paginates issue comments", async () => {
  await using fake = startFakeGitHub();
  const gh = client(fake.url);
  fake.addPull({ number: 7, headSha: SHA });
  const first = await gh("POST", "/repos/octo-org/octo-repo/issues/7/comments", { body: "one" });
  assert.equal(first.res.status, 201);
  assert.equal(first.json.body, "one");
  assert.deepEqual(
    { login: first.json.user.login, type: first.json.user.type },
    { login: "pylon-bot", type: "User" },
  );
  assert.match(first.json.html_url, /\/octo-org\/octo-repo\/pull\/7#issuecomment-\d+$/);
  const edited = await gh(
    "PATCH",
    `/repos/octo-org/octo-repo/issues/comments/${first.json.id}`,
    { body: "one (edited)" },
    "token",
  );
  assert.equal(edited.res.status, 200);
  assert.equal(edited.json.id, first.json.id);
  const missing = await gh("PATCH", "/repos/octo-org/octo-repo/issues/comments/1", { body: "x" });
  assert.equal(missing.res.status, 404);
  assert.equal(missing.json.message, "Not Found");
  assert.match(missing.json.documentation_url, /^https:\/\/docs\.github\.com\/rest/);

  for (let i = 2; i <= 5; i++) {
    await gh("POST", "/repos/octo-org/octo-repo/issues/7/comments", { body: `c${i}` });
  }
  const ids = fake.comments("octo-org", "octo-repo", 7).map((c) => c.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), "ids increase");
  assert.deepEqual(fake.comments("octo-org", "octo-repo", 7).map((c) => c.body), [
    "one (edited)",
    "c2",
    "c3",
    "c4",
    "c5",
  ]);

  const page1 = await gh("GET", "/repos/octo-org/octo-repo/issues/7/comments?per_page=2");
  assert.deepEqual(page1.json.map((c: { body: string }) => c.body), ["one (edited)", "c2"]);
  const link = page1.res.headers.get("link") ?? "";
  assert.match(link, /[?&]page=2[^>]*>; rel="next"/);
  assert.match(link, /[?&]page=3[^>]*>; rel="last"/);
  const next = /<([^>]+)>; rel="next"/.exec(link)![1]!;
  const page2 = await gh("GET", next.slice(fake.url.length));
  assert.deepEqual(page2.json.map((c: { body: string }) => c.body), ["c3", "c4"]);
  const page3 = await gh("GET", "/repos/octo-org/octo-repo/issues/7/comments?per_page=2&page=3");
  assert.doesNotMatch(page3.res.headers.get("link") ?? "", /rel="next"/);
  const all = await gh("GET", "/repos/octo-org/octo-repo/issues/7/comments");
  assert.equal(all.json.length, 5);
  assert.equal(all.res.headers.get("link"), null, "one page needs no Link header");

  const deleted = await gh("DELETE", `/repos/octo-org/octo-repo/issues/comments/${ids[1]}`);
  assert.equal(deleted.res.status, 204);
  assert.equal(fake.comments("octo-org", "octo-repo", 7).length, 4);

  const tooLong = await gh("POST", "/repos/octo-org/octo-repo/issues/7/comments", {
    body: "x".repeat(65537),
  });
  assert.equal(tooLong.res.status, 422);
  assert.equal(tooLong.json.errors[0].message, "Body is too long (maximum is 65536 characters)");
  const request = fake.requests.find((r) => r.method === "PATCH")!;
  assert.equal(request.headers["x-github-api-version"], "2022-11-28");
  assert.deepEqual(request.body, { body: "one (edited)" });
});

Deno.test("fake GitHub validates commit statuses and combines them per context", async () => {
  await using fake = startFakeGitHub();
  const gh = client(fake.url);
  const post = (body: unknown, sha = SHA) =>
    gh("POST", `/repos/octo-org/octo-repo/statuses/${sha}`, body);
  const bad = await post({ state: "done", description: "x".repeat(141) });
  assert.equal(bad.res.status, 422);
  assert.equal(bad.json.message, "Validation Failed");
  assert.deepEqual(bad.json.errors.map((e: { field: string }) => e.field), [
    "state",
    "description",
  ]);
  assert.equal(bad.json.errors[0].resource, "Status");
  assert.equal((await post({ state: "success" }, "abc123")).res.status, 422);

  const pending = await post({ state: "pending", context: "pylon/review", description: "Running" });
  assert.equal(pending.res.status, 201);
  assert.equal(pending.json.context, "pylon/review");
  assert.equal(pending.json.target_url, null);
  await post({ state: "success", context: "ci" });
  await post({ state: "failure", context: "pylon/review", target_url: "https://pylon/jobs/1" });
  assert.deepEqual(fake.statuses("octo-org", "octo-repo", SHA).map((s) => s.state), [
    "pending",
    "success",
    "failure",
  ]);
  const list = await gh("GET", `/repos/octo-org/octo-repo/commits/${SHA}/statuses`);
  assert.deepEqual(list.json.map((s: { state: string }) => s.state), [
    "failure",
    "success",
    "pending",
  ]);
  const combined = await gh("GET", `/repos/octo-org/octo-repo/commits/${SHA}/status`);
  assert.equal(combined.json.state, "failure");
  assert.equal(combined.json.total_count, 2);
  assert.equal(combined.json.sha, SHA);
});

Deno.test("fake GitHub serves seeded pull requests, commit comments and check runs", async () => {
  await using fake = startFakeGitHub({ token: "ghs_installation", login: "pylon[bot]" });
  const gh = client(fake.url, "ghs_installation");
  fake.addPull({ number: 42, headSha: SHA, headRef: "fix/it", draft: true });
  const pull = await gh("GET", "/repos/octo-org/octo-repo/pulls/42");
  assert.equal(pull.res.status, 200);
  assert.deepEqual(
    [pull.json.number, pull.json.state, pull.json.draft, pull.json.head.sha, pull.json.base.ref],
    [42, "open", true, SHA, "main"],
  );
  assert.equal((await gh("GET", "/repos/octo-org/octo-repo/pulls/43")).res.status, 404);

  const cc = await gh("POST", `/repos/octo-org/octo-repo/commits/${SHA}/comments`, { body: "hi" });
  assert.equal(cc.res.status, 201);
  assert.equal(cc.json.user.type, "Bot");
  assert.equal(fake.commitComments("octo-org", "octo-repo", SHA)[0]?.body, "hi");

  const run = await gh("POST", "/repos/octo-org/octo-repo/check-runs", {
    name: "pylon",
    head_sha: SHA,
    status: "in_progress",
  });
  assert.equal(run.res.status, 201);
  const done = await gh("PATCH", `/repos/octo-org/octo-repo/check-runs/${run.json.id}`, {
    conclusion: "success",
    output: { title: "Review", summary: "All good" },
  });
  assert.equal(done.json.status, "completed");
  assert.deepEqual(fake.checkRuns("octo-org", "octo-repo", SHA).map((r) => r.output.summary), [
    "All good",
  ]);
});

Deno.test("fake GitHub rejects bad credentials and check runs without a GitHub App", async () => {
  await using fake = startFakeGitHub();
  const wrong = await client(fake.url, "ghp_other")("GET", "/repos/o/r/pulls/1");
  assert.equal(wrong.res.status, 401);
  assert.deepEqual(
    { message: wrong.json.message, docs: wrong.json.documentation_url },
    { message: "Bad credentials", docs: "https://docs.github.com/rest" },
  );
  const none = await fetch(`${fake.url}/repos/o/r/issues/1/comments`, { method: "POST" });
  assert.equal(none.status, 401);
  assert.equal((await none.json()).message, "Requires authentication");
  const checks = await client(fake.url)("POST", "/repos/o/r/check-runs", {
    name: "x",
    head_sha: SHA,
  });
  assert.equal(checks.res.status, 403);
  assert.equal(checks.json.message, "You must authenticate via a GitHub App.");
});

Deno.test("fake GitHub failNext() answers rate limits and server errors", async () => {
  await using fake = startFakeGitHub();
  const gh = client(fake.url);
  const path = "/repos/octo-org/octo-repo/issues/1/comments";
  fake.failNext(1, 403, { resetAt: 1_900_000_000 });
  fake.failNext(1, 429, { retryAfter: 3 });
  fake.failNext(2, 502);
  const limited = await gh("POST", path, { body: "x" });
  assert.equal(limited.res.status, 403);
  assert.equal(limited.res.headers.get("x-ratelimit-remaining"), "0");
  assert.equal(limited.res.headers.get("x-ratelimit-reset"), "1900000000");
  assert.match(limited.json.message, /^API rate limit exceeded/);
  const secondary = await gh("POST", path, { body: "x" });
  assert.equal(secondary.res.status, 429);
  assert.equal(secondary.res.headers.get("retry-after"), "3");
  for (let i = 0; i < 2; i++) {
    const gateway = await gh("POST", path, { body: "x" });
    assert.equal(gateway.res.status, 502);
    assert.match(gateway.res.headers.get("content-type") ?? "", /text\/html/);
  }
  fake.failNext(1, 500, { method: "PATCH" });
  const ok = await gh("POST", path, { body: "x" });
  assert.equal(ok.res.status, 201);
  assert.equal(fake.comments("octo-org", "octo-repo", 1).length, 1, "failed posts stored nothing");
  const failed = await gh("PATCH", `/repos/octo-org/octo-repo/issues/comments/${ok.json.id}`, {
    body: "y",
  });
  assert.equal(failed.res.status, 500);
  assert.equal(failed.json.message, "Server Error");
  assert.equal(fake.requests.length, 6);
});

Deno.test("prEvent() and friends vary the real payloads and keep their URLs consistent", () => {
  const opened = prEvent("opened");
  assert.equal(opened.pull_request.head.sha, HEAD_SHA);
  assert.equal(opened.repository.full_name, "octo-org/octo-repo");
  const sync = prEvent("synchronize", {
    number: 7,
    headSha: SHA.replace("6", "7"),
    draft: true,
    owner: "acme",
    repo: "web",
  });
  assert.equal(sync.action, "synchronize");
  assert.deepEqual([sync.number, sync.pull_request.number, sync.pull_request.draft], [7, 7, true]);
  assert.equal(sync.after, SHA.replace("6", "7"));
  assert.equal(sync.pull_request.html_url, "https://github.com/acme/web/pull/7");
  assert.match(sync.pull_request.statuses_url, /\/repos\/acme\/web\/statuses\/7dcb/);
  assert.equal(sync.pull_request.head.repo.full_name, "acme/web");
  assert.equal(sync.pull_request.head.label, "acme:fix/empty-name");
  const labeled = prEvent("labeled", { label: "pylon" });
  assert.equal(labeled.label?.name, "pylon");
  assert.deepEqual(labeled.pull_request.labels.map((l) => l.name), ["bug", "pylon"]);
  assert.equal(prEvent("closed", { merged: false }).pull_request.merged, false);
  assert.equal(prEvent("closed").pull_request.merged, true);
  assert.equal(prEvent("ready_for_review").action, "ready_for_review");

  const onPr = issueCommentEvent({ number: 9, body: "@pylon review", onPullRequest: true });
  assert.equal(
    onPr.issue.pull_request?.url,
    "https://api.github.com/repos/octo-org/octo-repo/pulls/9",
  );
  assert.equal(onPr.comment.body, "@pylon review");
  const onIssue = issueCommentEvent({ number: 9, body: "hi", onPullRequest: false });
  assert.equal("pull_request" in onIssue.issue, false);
  assert.match(onIssue.comment.html_url, /\/octo-repo\/issues\/9#issuecomment-\d+$/);

  const pushed = pushEvent({ ref: "refs/heads/release", after: SHA.replace("6", "8") });
  assert.equal(pushed.head_commit?.id, SHA.replace("6", "8"));
  assert.equal(pushed.created, false);
  const deleted = pushEvent({ ref: "refs/heads/old", after: "0".repeat(40) });
  assert.deepEqual([deleted.deleted, deleted.commits.length, deleted.head_commit], [true, 0, null]);

  const headers = githubHeaders("pull_request", "d1");
  assert.deepEqual(
    [headers["x-github-event"], headers["x-github-delivery"], headers["content-type"]],
    ["pull_request", "d1", "application/json"],
  );
  assert.match(headers["user-agent"]!, /^GitHub-Hookshot\//);
});
