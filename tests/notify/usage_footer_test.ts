import assert from "node:assert/strict";
import { commentOf } from "../../src/channel/github/mod.ts";
import { finishedText } from "../../src/notify/messages.ts";
import {
  conversationUsage,
  type Job,
  type JobUsage,
  openJobStore,
  usageParts,
} from "../../src/store/mod.ts";
import { FAKE_JOB_AT, fakeJob } from "../fakes/job.ts";

const USAGE: JobUsage = {
  costUsd: 0.4213,
  costBasis: "api",
  inputTokens: 10,
  outputTokens: 5,
  cacheReadTokens: 100,
  cacheCreationTokens: 0,
  numTurns: 18,
  durationApiMs: 1000,
  models: ["claude-sonnet-4-5"],
};

function job(overrides: Partial<Job> = {}): Job {
  return fakeJob({
    id: "1a2b3c4d-0000-4000-8000-000000000001",
    pylon: "review",
    status: "completed",
    payload: { repository: { full_name: "o/r" } },
    startedAt: FAKE_JOB_AT,
    finishedAt: new Date(FAKE_JOB_AT.getTime() + 180_000),
    exitCode: 0,
    result: "All good.",
    usage: USAGE,
    ...overrides,
  });
}

Deno.test("finishedText() shows the cost and turns in the result line", () => {
  assert.equal(finishedText(job()), "✅ **Done** in 3m0s · $0.42 · 18 turns.\n\nAll good.");
  assert.equal(finishedText(job({ usage: null })), "✅ **Done** in 3m0s.\n\nAll good.");
  const oauth = finishedText(job({ usage: { ...USAGE, costBasis: "oauth" } }));
  assert.match(oauth, /· \$0\.42 at API prices · 18 turns\./);
  const tokensOnly = finishedText(job({ usage: { ...USAGE, costUsd: null, numTurns: null } }));
  assert.match(tokensOnly, /in 3m0s · 115 tokens\./);
});

Deno.test("a follow-up's result shows its conversation's total", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pylon-usage-" });
  try {
    await using store = await openJobStore(`${dir}/jobs.db`, { pylon: "review" });
    const first = "1a2b3c4d-0000-4000-8000-000000000001";
    const second = "1a2b3c4d-0000-4000-8000-000000000002";
    await store.insert({
      id: first,
      pylon: "review",
      status: "queued",
      trigger: "webhook",
      payload: {},
      headers: {},
    });
    await store.transition(first, "queued", "running");
    await store.transition(first, "running", "completed", { usage: { ...USAGE, costUsd: 1 } });
    await store.insert({
      id: second,
      pylon: "review",
      status: "queued",
      trigger: "follow-up",
      payload: {},
      headers: {},
      parentId: first,
    });
    await store.transition(second, "queued", "running");
    const done = await store.transition(second, "running", "completed", { usage: USAGE });
    const total = await conversationUsage(store, done!);
    assert.equal(total?.costUsd, 1.4213);
    assert.equal(total?.numTurns, 36);
    assert.equal(await conversationUsage(store, (await store.get(first))!), null);
    const text = finishedText({ ...done!, startedAt: null }, total);
    assert.match(text, /^✅ \*\*Done\*\* · \$0\.42 · 18 turns · conversation \$1\.42\./);
    const comment = commentOf(
      { ...job({ trigger: "follow-up", parentId: first }) },
      "c".repeat(40),
      total,
    );
    assert.match(
      comment!,
      /<sub>pylon · review · job 1a2b3c4d · commit ccccccc · 3m0s · \$0\.42 · 18 turns · conversation \$1\.42 · follow-up<\/sub>$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("usageParts() gives small costs four decimals", () => {
  assert.deepEqual(usageParts({ ...USAGE, costUsd: 0.0031, numTurns: 1 }), ["$0.0031", "1 turn"]);
});
