/**
 * `trigger.dedupe`: an alert storm becomes one job that counts its repeats.
 */

import assert from "node:assert/strict";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";

Deno.test("50 identical Sentry alerts at once make one job with repeats 50", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-dedupe-" });
  await writeHome(root, {
    "pylons/sentry/pylon.yaml": "name: sentry\ntrigger:\n  type: webhook\n  path: /sentry\n" +
      '  dedupe: "{{ .body.data.issue.id }}"\n  dedupe_window: 1h\nagent:\n  prompt: p\n',
  });
  const d = await startTestDaemon(root); // no runner: jobs stay queued, i.e. active
  try {
    const alert = (issue: string) =>
      fetch(`${d.url}/sentry`, {
        method: "POST",
        body: JSON.stringify({ action: "triggered", data: { issue: { id: issue } } }),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const answers = await Promise.all(Array.from({ length: 50 }, () => alert("4711")));
    const ids = new Set(answers.map((a) => a.body.job_id));
    assert.equal(ids.size, 1, "one job for the storm");
    assert.equal(answers.filter((a) => a.status === 202).length, 1);
    assert.equal(answers.filter((a) => a.status === 200 && a.body.duplicate).length, 49);
    const job = await (await d.api(`/api/jobs/${[...ids][0]}`)).json();
    assert.equal(job.repeats, 50);
    const other = await alert("4712");
    assert.equal(other.status, 202, "another issue is another job");
    const jobs = await (await d.api("/api/jobs?pylon=sentry")).json();
    assert.equal(jobs.length, 2);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
