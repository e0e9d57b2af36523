/**
 * Budgets that hold (issue 14 §3) through a whole daemon: a webhook over budget is still a
 * `202`, its job waits `held`, and `POST /api/jobs/<id>/approve` runs it anyway.
 */

import assert from "node:assert/strict";
import type { JobRunner } from "../../src/queue/mod.ts";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";

Deno.test("a webhook over the pylon's daily budget answers 202 and its job is held until approved", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-budget-" });
  await writeHome(root, {
    "pylons/fix/pylon.yaml": "name: fix\ntrigger:\n  type: webhook\n  path: /fix\n" +
      "agent:\n  prompt: p\nbudget:\n  daily_usd: 1\n  timezone: UTC\n",
  });
  const runner: JobRunner = {
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
