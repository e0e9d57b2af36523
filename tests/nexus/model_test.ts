import assert from "node:assert/strict";
import { parseDaemonPylons, parseJob, parseToolCalls, spentSince } from "../../src/nexus/model.ts";
import { job } from "./_fixtures.ts";

Deno.test("parseJob() reads the API's job JSON and refuses what is not a job", () => {
  const j = parseJob({
    id: "0f0e0d0c-0000-4000-8000-000000000000",
    pylon: "alpha",
    status: "running",
    trigger: "webhook",
    "created_at": "2026-12-05T10:00:00.000Z",
    "started_at": "2026-12-05T10:00:01.000Z",
    "finished_at": null,
    error: null,
    "cost_usd": 0.5,
    waiting: "tool approval",
  });
  assert.equal(j?.status, "running");
  assert.equal(j?.costUsd, 0.5);
  assert.equal(j?.waiting, "tool approval");
  assert.equal(j?.startedAt?.toISOString(), "2026-12-05T10:00:01.000Z");
  assert.equal(parseJob({ id: "x" }), null);
  assert.equal(parseJob("nope"), null);
});

Deno.test("parseDaemonPylons() reads state, cron, cost and success rate, and tolerates an older daemon", () => {
  const facts = parseDaemonPylons([
    {
      name: "nightly",
      enabled: true,
      state: "active",
      reason: null,
      trigger: {
        type: "cron",
        cron: "0 9 * * *",
        description: "At 09:00 AM",
        timezone: "Europe/Paris",
        "next_run": "2026-12-06T08:00:00.000Z",
      },
      "webhook_url": null,
      cost: { "today_usd": 1.25, "month_usd": 9.5, timezone: "Europe/Paris" },
      "success_rate": { completed: 9, finished: 10, rate: 0.9, days: 30 },
    },
    { name: "old", enabled: false, trigger: null, "webhook_url": null, jobs: null },
    { name: "broken", state: "not_loaded", reason: "pylon.yaml:3: trigger.type is wrong" },
  ]);
  const n = facts.get("nightly")!;
  assert.equal(n.costToday, 1.25);
  assert.equal(n.costMonth, 9.5);
  assert.equal(n.successRate, 0.9);
  assert.ok(n.trigger?.type === "cron" && n.trigger.nextRun?.getUTCHours() === 8);
  const old = facts.get("old")!;
  assert.equal(old.state, "disabled");
  assert.equal(old.costToday, null);
  assert.equal(facts.get("broken")!.reason, "pylon.yaml:3: trigger.type is wrong");
});

Deno.test("parseToolCalls() keeps calls with an id and reads nothing from an unknown shape", () => {
  const running = job("alpha", "running");
  const calls = parseToolCalls(running, [
    {
      "call_id": "c1",
      tool: "Bash",
      input: { command: "ls" },
      summary: "ls",
      rule: "Bash(ls:*)",
      digest: "abc",
      "requested_at": "2026-12-05T10:00:00Z",
      "expires_at": "2026-12-05T10:05:00Z",
    },
    { tool: "no id" },
  ]);
  assert.deepEqual(calls.map((c) => [c.callId, c.tool, c.jobId]), [["c1", "Bash", running.id]]);
  assert.deepEqual(parseToolCalls(running, { error: "not found" }), []);
});

Deno.test("spentSince() sums the reported costs of one pylon's jobs since a time", () => {
  const since = new Date(Date.UTC(2026, 11, 5));
  const jobs = [
    job("alpha", "completed", { costUsd: 0.25 }),
    job("alpha", "completed", { costUsd: 0.5 }),
    job("alpha", "completed", { costUsd: 7, createdAt: new Date(Date.UTC(2026, 11, 4)) }),
    job("beta", "completed", { costUsd: 1 }),
  ];
  assert.equal(spentSince(jobs, "alpha", since), 0.75);
  assert.equal(spentSince(jobs, "gamma", since), null);
});
