/**
 * The `github` channel against a fake GitHub REST API on loopback: statuses that follow a job,
 * one comment per pull request found again after a restart, the races and failures users hit.
 */

import assert from "node:assert/strict";
import { ChannelError } from "../../src/channel/channel.ts";
import { commentOf, GitHubChannel } from "../../src/channel/github/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { Job } from "../../src/store/mod.ts";
import { startFakeGitHub } from "../fakes/github_server.ts";
import { issueCommentEvent, OWNER, PR_NUMBER, prEvent, REPO } from "../fixtures/github/mod.ts";
import { fakeJob } from "../fakes/job.ts";

const SHA = "c".repeat(40);

function job(overrides: Partial<Job> = {}): Job {
  return fakeJob({
    pylon: "review",
    payload: prEvent("opened", { headSha: SHA }),
    headers: { "x-github-event": "pull_request" },
    ...overrides,
  });
}

function done(j: Job, result: string): Job {
  return {
    ...j,
    status: "completed",
    result,
    startedAt: new Date("2026-11-24T10:00:05Z"),
    finishedAt: new Date("2026-11-24T10:01:25Z"),
  };
}

function channel(url: string, token = "ghp_test", logs: string[] = []): GitHubChannel {
  return new GitHubChannel({
    token,
    apiUrl: url,
    log: createLogger({ write: (l) => logs.push(l), level: "debug" }),
  });
}

const report = (c: GitHubChannel, j: Job, state?: Parameters<GitHubChannel["report"]>[1]) =>
  c.report({ job: j, topic: null, message: null }, state);

Deno.test("a job's commit status goes pending, then success with its duration, linking the comment", async () => {
  await using gh = startFakeGitHub();
  const c = channel(gh.url);
  const j = job();
  let state = await report(c, j);
  state = await report(c, { ...j, status: "running" }, state);
  state = await report(c, done(j, "LGTM, one nit."), state);
  const statuses = gh.statuses(OWNER, REPO, SHA);
  assert.deepEqual(statuses.map((s) => [s.state, s.description]), [
    ["pending", "Queued"],
    ["pending", "The agent is working"],
    ["success", "Done in 1m20s"],
  ]);
  assert.ok(statuses.every((s) => s.context === "pylon/review"));
  const [comment] = gh.comments(OWNER, REPO, PR_NUMBER);
  assert.equal(statuses.at(-1)!.target_url, comment!.html_url);
  assert.match(comment!.body, /^<!-- pylon:review -->\nLGTM, one nit\.\n\n<sub>pylon · review/);
  assert.equal(state.comment_url, comment!.html_url);
  const auth = gh.requests.map((r) => r.headers["authorization"]);
  assert.ok(auth.every((a) => a === "Bearer ghp_test"));
});

Deno.test("a later run edits the pylon's comment, also after a restart (found by its marker past the first page)", async () => {
  await using gh = startFakeGitHub();
  await report(channel(gh.url), done(job(), "first review"));
  // People talk on the pull request: the comment ends up on page 2 of 100.
  for (let i = 0; i < 120; i++) {
    await fetch(`${gh.url}/repos/${OWNER}/${REPO}/issues/${PR_NUMBER}/comments`, {
      method: "POST",
      headers: { authorization: "Bearer ghp_test" },
      body: JSON.stringify({ body: `comment ${i}` }),
    }).then((r) => r.body?.cancel());
  }
  const restarted = channel(gh.url); // a new daemon: nothing cached
  await report(
    restarted,
    done(job({ payload: prEvent("synchronize", { headSha: "d".repeat(40) }) }), "second review"),
  );
  const mine = gh.comments(OWNER, REPO, PR_NUMBER).filter((c) =>
    c.body.includes("<!-- pylon:review -->")
  );
  assert.equal(mine.length, 1);
  assert.match(mine[0]!.body, /second review/);
  assert.match(mine[0]!.body, /commit ddddddd/);
});

Deno.test("two runs finishing together on a new pull request write one comment", async () => {
  await using gh = startFakeGitHub();
  const c = channel(gh.url);
  await Promise.all([report(c, done(job(), "run A")), report(c, done(job(), "run B"))]);
  assert.equal(gh.comments(OWNER, REPO, PR_NUMBER).length, 1);
});

Deno.test("a comment deleted by a person is posted again", async () => {
  await using gh = startFakeGitHub();
  const c = channel(gh.url);
  await report(c, done(job(), "first"));
  const [first] = gh.comments(OWNER, REPO, PR_NUMBER);
  await fetch(`${gh.url}/repos/${OWNER}/${REPO}/issues/comments/${first!.id}`, {
    method: "DELETE",
    headers: { authorization: "Bearer ghp_test" },
  }).then((r) => r.body?.cancel());
  await report(c, done(job(), "second"));
  const comments = gh.comments(OWNER, REPO, PR_NUMBER);
  assert.equal(comments.length, 1);
  assert.match(comments[0]!.body, /second/);
});

Deno.test("an issue comment on a pull request puts the status on the pull request's head", async () => {
  await using gh = startFakeGitHub();
  gh.addPull({ number: PR_NUMBER, headSha: "e".repeat(40) });
  const c = channel(gh.url);
  const j = job({ payload: issueCommentEvent({ body: "@pylon review", onPullRequest: true }) });
  const state = await report(c, j);
  assert.equal(state.sha, "e".repeat(40));
  await report(c, done(j, "reviewed"), state);
  assert.deepEqual(gh.statuses(OWNER, REPO, "e".repeat(40)).map((s) => s.state), [
    "pending",
    "success",
  ]);
  assert.equal(gh.requests.filter((r) => r.path.includes("/pulls/")).length, 1, "looked up once");
});

Deno.test("a comment on a plain issue gets the result without any status", async () => {
  await using gh = startFakeGitHub();
  const c = channel(gh.url);
  const j = job({ payload: issueCommentEvent({ body: "@pylon why?", onPullRequest: false }) });
  await report(c, done(j, "because"));
  assert.match(gh.comments(OWNER, REPO, PR_NUMBER)[0]!.body, /because/);
  assert.equal(gh.requests.filter((r) => r.path.includes("/statuses/")).length, 0);
});

Deno.test("a job held by a budget shows a pending status saying held: budget, then runs", async () => {
  await using gh = startFakeGitHub();
  const c = channel(gh.url);
  const j = job({ id: "4e1d0000-0000-4000-8000-000000000009" });
  let state = await report(c, { ...j, status: "held", error: "daily budget of $20.00 reached" });
  state = await report(c, { ...j, status: "running" }, state);
  assert.deepEqual(gh.statuses(OWNER, REPO, SHA).map((s) => [s.state, s.description]), [
    ["pending", "held: budget (pylon approve 4e1d0000 runs it anyway)"],
    ["pending", "The agent is working"],
  ]);
});

Deno.test("failures: a job that failed or timed out is a failure status and says why", async () => {
  await using gh = startFakeGitHub();
  const c = channel(gh.url);
  await report(c, { ...job(), status: "failed", error: "agent exited 1\nstack…", exitCode: 1 });
  assert.deepEqual(
    gh.statuses(OWNER, REPO, SHA).map((s) => [s.state, s.description]),
    [["failure", "Failed: agent exited 1"]],
  );
  assert.match(
    gh.comments(OWNER, REPO, PR_NUMBER)[0]!.body,
    /failed\*\* on `ccccccc` \(exit code 1\)/,
  );
  await report(c, { ...job(), status: "dismissed" });
  assert.equal(
    gh.statuses(OWNER, REPO, SHA).at(-1)!.state,
    "success",
    "dismissed never blocks a merge",
  );
});

Deno.test("events that name no repository are skipped, and said so at debug level", async () => {
  await using gh = startFakeGitHub();
  const logs: string[] = [];
  const c = channel(gh.url, "ghp_test", logs);
  const state = await report(c, done(job({ payload: { data: { issue: { id: 1 } } } }), "x"));
  assert.deepEqual(state, { skipped: true });
  assert.equal(gh.requests.length, 0);
  assert.ok(logs.some((l) => /github\.skipped/.test(l)));
});

Deno.test("a wrong token is a permanent error naming the setting; a rate limit is retried later", async () => {
  await using gh = startFakeGitHub();
  const wrong = channel(gh.url, "ghp_wrong");
  const refused = await report(wrong, job()).catch((e) => e);
  assert.ok(refused instanceof ChannelError);
  assert.equal(refused.retryable, false);
  assert.match(refused.message, /401.*Bad credentials.*channel\.github\.token/);
  assert.doesNotMatch(refused.message, /ghp_wrong/);

  gh.failNext(1, 403, { resetAt: Math.floor(Date.now() / 1000) + 30 });
  const limited = await report(channel(gh.url), job()).catch((e) => e);
  assert.ok(limited instanceof ChannelError);
  assert.equal(limited.retryable, true);
  assert.ok(limited.retryAfter! > 0 && limited.retryAfter! <= 31, String(limited.retryAfter));
});

Deno.test("long descriptions and results are cut to what GitHub accepts", async () => {
  await using gh = startFakeGitHub();
  const c = channel(gh.url);
  await report(c, { ...job(), status: "failed", error: "x".repeat(500) });
  assert.equal([...gh.statuses(OWNER, REPO, SHA)[0]!.description!].length, 140);
  const huge = done(job(), "y".repeat(70_000));
  await report(c, huge);
  const body = gh.comments(OWNER, REPO, PR_NUMBER)[0]!.body;
  assert.ok(body.length < 65_536);
  assert.match(body, /cut at 60000 characters/);
  assert.equal(commentOf({ ...huge, status: "running" }, SHA), undefined);
});

Deno.test("commentOf links the job to its dashboard page when a public URL is set", () => {
  const job = fakeJob({ status: "completed", result: "LGTM", pylon: "review" });
  const url = `https://pylon.example.com/dashboard/jobs/${job.id}`;
  const linked = commentOf(job, SHA, null, url)!;
  assert.ok(linked.includes(`[job ${job.id.slice(0, 8)}](${url})`), linked);
  assert.ok(!commentOf(job, SHA)!.includes("dashboard"), "no link without a public URL");
});
