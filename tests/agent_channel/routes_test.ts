import assert from "node:assert/strict";
import { issueJobToken, revokeJobToken, stateArchive } from "../../src/agent_channel/mod.ts";
import { createAgentChannelRoutes } from "../../src/daemon/routes/agent_channel.ts";
import { tarBytes } from "../../src/docker/mod.ts";
import { createLogger } from "../../src/log/mod.ts";

async function setup(now = { t: Date.parse("2026-12-05T12:00:00Z") }) {
  const jobsDir = await Deno.makeTempDir({ prefix: "pylon-channel-" });
  const logs: string[] = [];
  const app = createAgentChannelRoutes({
    jobsDir,
    clock: { now: () => new Date(now.t) },
    log: createLogger({ write: (l) => logs.push(l), level: "debug" }),
    limits: { eventsFile: 4096, state: 64 * 1024 },
  });
  const a = await issueJobToken(jobsDir, "job-a", { expiresAt: now.t + 60_000, stateJob: "job-a" });
  const b = await issueJobToken(jobsDir, "job-b", { expiresAt: now.t + 60_000, stateJob: "job-a" });
  await Deno.writeTextFile(`${jobsDir}/job-a/channel/bundle.json`, '{"version":1}\n');
  const call = (job: string, token: string, path: string, init: RequestInit = {}) =>
    app.request(`/jobs/${job}/${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...init.headers },
    });
  return {
    jobsDir,
    app,
    a,
    b,
    call,
    now,
    logs,
    [Symbol.asyncDispose]: () => Deno.remove(jobsDir, { recursive: true }),
  };
}

Deno.test("agent channel: a job's own token reads its bundle; others get 401", async () => {
  await using s = await setup();
  const ok = await s.call("job-a", s.a, "bundle");
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { version: 1 });
  for (
    const [job, token, why] of [
      ["job-a", s.b, "wrong-token"], // another job's token
      ["job-a", "x".repeat(43), "wrong-token"],
      ["job-a", "", "malformed"],
      ["nope", s.a, "unknown-job"],
      ["..%2F..%2Fetc", s.a, "malformed"],
    ] as const
  ) {
    const res = await s.call(job, token, "bundle");
    assert.equal(res.status, 401, `${job} ${why}`);
    await res.body?.cancel();
  }
  assert.ok(
    s.logs.some((l) => /agent_channel.refused.*why=wrong-token/.test(l)),
    s.logs.join("\n"),
  );
});

Deno.test("agent channel: an expired or revoked token is refused", async () => {
  await using s = await setup();
  s.now.t += 61_000;
  const late = await s.call("job-a", s.a, "bundle");
  assert.equal(late.status, 401);
  await late.body?.cancel();
  s.now.t -= 61_000;
  await revokeJobToken(s.jobsDir, "job-a");
  const revoked = await s.call("job-a", s.a, "bundle");
  assert.equal(revoked.status, 401);
  await revoked.body?.cancel();
});

Deno.test("agent channel: tool events append as JSON lines, capped; result.json is written", async () => {
  await using s = await setup();
  const post = (body: string) => s.call("job-a", s.a, "events", { method: "POST", body });
  assert.equal((await post('{"tool":"Bash","summary":"ls"}\n')).status, 204);
  assert.equal((await post('{"tool":"Read"}\n{"tool":"Edit"}\n')).status, 204);
  const bad = await post("not json\n");
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
  const big = await post(`{"x":"${"y".repeat(5000)}"}\n`);
  assert.equal(big.status, 413);
  await big.body?.cancel();
  const lines = (await Deno.readTextFile(`${s.jobsDir}/job-a/out/events.ndjson`)).trim().split(
    "\n",
  );
  assert.deepEqual(lines.map((l) => JSON.parse(l).tool), ["Bash", "Read", "Edit"]);
  const put = await s.call("job-a", s.a, "result", {
    method: "PUT",
    body: '{"status":"completed","result":"done"}',
  });
  assert.equal(put.status, 204);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${s.jobsDir}/job-a/out/result.json`)), {
    status: "completed",
    result: "done",
  });
  const arr = await s.call("job-a", s.a, "result", { method: "PUT", body: "[1]" });
  assert.equal(arr.status, 400);
  await arr.body?.cancel();
});

Deno.test("agent channel: the state is saved for the conversation and links are refused", async () => {
  await using s = await setup();
  const none = await s.call("job-b", s.b, "state");
  assert.equal(none.status, 204);
  const good = tarBytes([{ type: "dir", path: "home" }, {
    type: "file",
    path: "home/n",
    data: "1\n",
  }]);
  const put = await s.call("job-b", s.b, "state", { method: "PUT", body: new Uint8Array(good) });
  assert.equal(put.status, 204);
  // job-b continues job-a's conversation: its state is kept with job-a.
  assert.deepEqual(await Deno.readFile(stateArchive(s.jobsDir, "job-a")), good);
  const back = await s.call("job-a", s.a, "state");
  assert.deepEqual(new Uint8Array(await back.arrayBuffer()), good);
  const evil = tarBytes([{ type: "symlink", path: "home", target: "/etc" }]);
  const refused = await s.call("job-a", s.a, "state", {
    method: "PUT",
    body: new Uint8Array(evil),
  });
  assert.equal(refused.status, 422);
  assert.match((await refused.json()).error, /symbolic link/);
  const huge = await s.call("job-a", s.a, "state", {
    method: "PUT",
    body: new Uint8Array(tarBytes([{ type: "file", path: "big", data: "z".repeat(70 * 1024) }])),
  });
  assert.equal(huge.status, 413);
  await huge.body?.cancel();
  assert.deepEqual(await Deno.readFile(stateArchive(s.jobsDir, "job-a")), good);
});
