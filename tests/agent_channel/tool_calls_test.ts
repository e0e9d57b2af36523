/**
 * `/agent/v1/jobs/<id>/tool-calls`: the approval hook's requests and decisions over the agent
 * channel (no host mounts), routed into the same tool-approval service as request files.
 */

import assert from "node:assert/strict";
import { issueJobToken } from "../../src/agent_channel/mod.ts";
import { createAgentChannelRoutes } from "../../src/daemon/routes/agent_channel.ts";
import { createLogger } from "../../src/log/mod.ts";
import { writeApprovalFiles } from "../../src/runner/mod.ts";
import { sha256Hex } from "../../src/tools/request_file.ts";
import { approvalHome } from "../tools/_helpers.ts";

/** A request body as the hook sends it. */
export function callBody(callId: string, tool: string, input: unknown): string {
  const inputJson = JSON.stringify(input);
  return JSON.stringify({
    "call_id": callId,
    tool,
    "input_json": inputJson,
    digest: sha256Hex(inputJson),
    rule: "Bash(git push:*)",
    "requested_at": new Date().toISOString(),
  });
}

async function setup() {
  const home = await approvalHome(["Bash(git push:*)", "Bash(rm:*)"]);
  const logs: string[] = [];
  const app = createAgentChannelRoutes({
    jobsDir: home.jobsDir,
    clock: { now: () => new Date() },
    log: createLogger({ write: (l) => logs.push(l), level: "debug" }),
  });
  const expiresAt = Date.now() + 3600_000;
  const token = await issueJobToken(home.jobsDir, home.job.id, {
    expiresAt,
    stateJob: home.job.id,
  });
  // Another job of the same pylon, with its own token and approval folders.
  const otherToken = await issueJobToken(home.jobsDir, "job-b", { expiresAt, stateJob: "job-b" });
  await writeApprovalFiles(home.jobsDir, "job-b", home.pylon);
  const service = home.service();
  service.watch(home.job, home.folders);
  const call = (path: string, init: RequestInit = {}, o: { job?: string; token?: string } = {}) =>
    app.request(`/jobs/${o.job ?? home.job.id}/tool-calls${path}`, {
      ...init,
      headers: { authorization: `Bearer ${o.token ?? token}`, ...init.headers },
    });
  const post = (body: string, o: { job?: string; token?: string } = {}) =>
    call("", { method: "POST", body, headers: { "content-type": "application/json" } }, o);
  return {
    home,
    service,
    token,
    otherToken,
    call,
    post,
    logs,
    async [Symbol.asyncDispose]() {
      await home[Symbol.asyncDispose]();
    },
  };
}

Deno.test("POST tool-calls: the call waits in the service; a long poll gets the decision", async () => {
  await using s = await setup();
  const push = { command: "git push origin main" };
  const sent = await s.post(callBody("c1", "Bash", push));
  assert.equal(sent.status, 202);
  assert.deepEqual(await sent.json(), {
    "call_id": "c1",
    digest: sha256Hex(JSON.stringify(push)),
    status: "waiting",
  });
  const early = await s.call("/c1?wait=0");
  assert.equal(early.status, 202);
  assert.deepEqual(await early.json(), { "call_id": "c1", status: "waiting" });

  await s.service.tick();
  const [waiting] = s.service.pending(s.home.job.id);
  assert.equal(waiting?.callId, "c1");
  assert.deepEqual(waiting?.input, push);
  assert.deepEqual(s.home.requested.map((r) => r.callId), ["c1"]);

  const started = performance.now();
  const poll = s.call("/c1?wait=10");
  await new Promise((r) => setTimeout(r, 300));
  const decided = await s.service.decide(s.home.job.id, "c1", "allow", {
    by: "@ada",
    via: "telegram",
  });
  assert.equal(decided.ok, true);
  const res = await poll;
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    "call_id": "c1",
    digest: sha256Hex(JSON.stringify(push)),
    decision: "allow",
    by: "@ada",
    reason: "allowed by @ada",
  });
  assert.ok(performance.now() - started < 3000, "the long poll answers once decided");
  // Answered: the request is gone, the decision can be read again.
  await assert.rejects(Deno.stat(`${s.home.folders.requests}/c1.json`));
  assert.equal((await (await s.call("/c1")).json()).decision, "allow");

  // A second call, denied from the CLI; the job's record has both.
  assert.equal((await s.post(callBody("c2", "Bash", { command: "rm -rf build" }))).status, 202);
  await s.service.tick();
  await s.service.decide(s.home.job.id, "c2", "deny", { by: "cli", via: "cli" });
  const denied = await (await s.call("/c2?wait=5")).json();
  assert.equal(denied.decision, "deny");
  assert.equal(denied.reason, "denied by cli");
  const rows = await s.home.stores.get("alpha")!.toolCalls(s.home.job.id);
  assert.deepEqual(rows.map((r) => [r.callId, r.decision, r.decidedBy]), [
    ["c1", "allow", "@ada"],
    ["c2", "deny", "cli"],
  ]);
});

Deno.test("POST tool-calls: tokens, sizes, JSON and digests are checked like request files", async () => {
  await using s = await setup();
  const body = callBody("c1", "Bash", { command: "git push" });
  const expect = async (res: Response, status: number, error?: RegExp) => {
    assert.equal(res.status, status);
    const text = await res.text();
    if (error) assert.match(JSON.parse(text).error, error);
  };
  await expect(await s.post(body, { token: "x".repeat(43) }), 401);
  // Another job's token, on this job's URL.
  await expect(await s.post(body, { token: s.otherToken }), 401);
  await expect(await s.call("/c1", {}, { token: s.otherToken }), 401);
  await expect(await s.post("{not json"), 400, /not JSON/);
  await expect(await s.post("[1]"), 400, /not a JSON object/);
  await expect(await s.post(JSON.stringify({ "call_id": "../x", tool: "Bash" })), 400, /call_id/);
  // The input shown must be the input whose digest the hook holds.
  const forged = JSON.parse(body);
  forged.input_json = JSON.stringify({ command: "ls" });
  await expect(await s.post(JSON.stringify(forged)), 400, /digest/);
  await expect(
    await s.post(callBody("big", "Bash", { command: "x".repeat(300 * 1024) })),
    413,
  );
  assert.deepEqual(
    await Array.fromAsync(Deno.readDir(s.home.folders.requests)),
    [],
    "none spooled",
  );

  await expect(await s.post(body), 202);
  // The same call again (a retry after a lost answer) is fine; another input under its id is not.
  await expect(await s.post(body), 202);
  await expect(await s.post(callBody("c1", "Bash", { command: "ls" })), 409, /another input/);
  // Another job cannot read this job's call with its own token.
  await expect(await s.call("/c1", {}, { job: "job-b", token: s.otherToken }), 404);
  await expect(await s.call("/nope"), 404);
  await expect(await s.call("/NOT-AN-ID"), 404);
  // A job whose pylon approves nothing has no tool calls.
  await Deno.remove(`${s.home.jobsDir}/job-b/approval/config.json`);
  await expect(await s.post(body, { job: "job-b", token: s.otherToken }), 404, /approve_tools/);
  assert.ok(s.logs.some((l) => /agent_channel.tool_call_refused/.test(l)));
});

Deno.test("tool-calls over the channel: the flood cap, unmatched calls and a restart", async () => {
  await using s = await setup();
  for (let i = 0; i < 21; i++) {
    const res = await s.post(callBody(`f${i}`, "Bash", { command: `git push origin b${i}` }));
    assert.equal(res.status, 202);
  }
  assert.equal((await s.post(callBody("ro", "Read", { "file_path": "/etc/passwd" }))).status, 202);
  await s.service.tick();
  assert.equal(s.service.pending().length, 20);
  assert.equal(s.home.requested.length, 20, "no more than 20 reach the chat");
  // Which one is past the cap depends on the order the folder is read in.
  const answers = [];
  for (let i = 0; i < 21; i++) answers.push(await s.call(`/f${i}`));
  const flooded = [];
  for (const res of answers) {
    if (res.status === 200) flooded.push(await res.json());
    else await res.body?.cancel();
  }
  assert.equal(flooded.length, 1);
  assert.equal(flooded[0].decision, "deny");
  assert.match(flooded[0].reason, /more than 20 calls wait already/);
  const unmatched = await (await s.call("/ro")).json();
  assert.equal(unmatched.decision, "deny");
  assert.match(unmatched.reason, /no approve_tools rule matches/);

  // A new daemon (service) finds the waiting calls again; a decision still reaches the hook.
  s.service.close();
  const again = s.home.service();
  again.watch(s.home.job, s.home.folders);
  await again.tick();
  const waiting = again.pending().map((r) => ({ "call_id": r.callId }));
  assert.equal(waiting.length, 20);
  await again.decide(s.home.job.id, waiting[0]!.call_id, "allow_for_job", {
    by: "@ada",
    via: "slack",
  });
  // "Allow for this job" allowed the other waiting calls of the same rule too.
  for (const { call_id: id } of waiting) {
    const d = await (await s.call(`/${id}?wait=2`)).json();
    assert.equal(d.decision, "allow", id);
  }
  assert.equal(again.pending().length, 0);
});
