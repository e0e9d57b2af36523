/**
 * Budgets that hold (issue 14 §3) through a whole daemon: a webhook over budget is still a
 * `202`, its job waits `held`, and `POST /api/jobs/<id>/approve` runs it anyway.
 */

import assert from "node:assert/strict";
import type { JobRunner } from "../../src/queue/mod.ts";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";

/** A runner whose every job completes at once, reporting $1.50 (over a $1 daily budget). */
function costingRunner(): JobRunner {
  return {
    run: () =>
      Promise.resolve({
        status: "completed",
        exitCode: 0,
        result: "done",
        usage: {
          costUsd: 1.5,
          costBasis: "api",
          inputTokens: 10,
          outputTokens: 10,
          cacheReadTokens: null,
          cacheCreationTokens: null,
          numTurns: 3,
          durationApiMs: null,
          models: [],
        },
      }),
  };
}

Deno.test("a webhook over the pylon's daily budget answers 202 and its job is held until approved", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-budget-" });
  await writeHome(root, {
    "pylons/fix/pylon.yaml": "name: fix\ntrigger:\n  type: webhook\n  path: /fix\n" +
      "agent:\n  prompt: p\nbudget:\n  daily_usd: 1\n  timezone: UTC\n",
  });
  const runner = costingRunner();
  const d = await startTestDaemon(root, { runner });
  try {
    const hook = () =>
      fetch(`${d.url}/fix`, { method: "POST", body: "{}" }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
    const first = await hook();
    assert.equal(first.status, 202);
    await eventually(async () =>
      (await (await d.api(`/api/jobs/${first.body.job_id}`)).json()).status === "completed"
    );
    const second = await hook();
    assert.equal(second.status, 202, "a 202 stays a promise over budget");
    const held = await eventually(async () => {
      const job = await (await d.api(`/api/jobs/${second.body.job_id}`)).json();
      return job.status === "held" ? job : undefined;
    });
    assert.match(held.error, /daily budget of \$1\.00 reached: \$1\.50 spent/);
    const listed = await (await d.api("/api/jobs?status=held")).json();
    assert.deepEqual(listed.map((j: { id: string }) => j.id), [second.body.job_id]);
    const approved = await d.api(`/api/jobs/${second.body.job_id}/approve`, { method: "POST" });
    assert.equal(approved.status, 200);
    await approved.body?.cancel();
    await eventually(async () =>
      (await (await d.api(`/api/jobs/${second.body.job_id}`)).json()).status === "completed"
    );
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("held jobs are deduplicated and superseded like queued ones", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-budget-" });
  await writeHome(root, {
    "pylons/fix/pylon.yaml": [
      "name: fix",
      "trigger:",
      "  type: webhook",
      "  path: /fix",
      '  dedupe: "{{ .body.issue }}"',
      '  supersede: "{{ .body.pr }}"',
      "agent:",
      "  prompt: p",
      "budget:",
      "  daily_usd: 1",
      "  timezone: UTC",
      "",
    ].join("\n"),
  });
  const runner = costingRunner();
  const d = await startTestDaemon(root, { runner });
  try {
    const hook = (body: unknown) =>
      fetch(`${d.url}/fix`, { method: "POST", body: JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
    // deno-lint-ignore no-explicit-any
    const job = async (id: string): Promise<any> => await (await d.api(`/api/jobs/${id}`)).json();
    const spent = await hook({ issue: "first", pr: "first" });
    await eventually(async () => (await job(spent.body.job_id)).status === "completed");

    const held = await hook({ issue: "a", pr: "p" });
    assert.equal(held.status, 202);
    await eventually(async () => (await job(held.body.job_id)).status === "held");

    const repeat = await hook({ issue: "a", pr: "q" });
    assert.equal(repeat.status, 200, "the same dedupe key is counted on the held job");
    assert.equal(repeat.body.job_id, held.body.job_id);
    assert.equal((await job(held.body.job_id)).repeats, 2, "seen twice (repeats counts the first)");

    const newer = await hook({ issue: "b", pr: "p" });
    assert.equal(newer.status, 202);
    const dismissed = await eventually(async () => {
      const j = await job(held.body.job_id);
      return j.status === "dismissed" ? j : undefined;
    });
    assert.match(dismissed.error, /superseded by job/);
    await eventually(async () => (await job(newer.body.job_id)).status === "held");
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
