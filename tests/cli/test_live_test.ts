/**
 * `pylon test` against a running daemon: a webhook pylon with a secret gets a signed request,
 * a cron pylon is run now through the control API.
 */

import assert from "node:assert/strict";
import { cli, createTestContext } from "../_helpers/cli.ts";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";

Deno.test("pylon test signs the request itself and prints the daemon's answer", async () => {
  await using ctx = await createTestContext();
  const root = ctx.paths.root;
  await writeHome(root, {
    "pylons/gh/pylon.yaml":
      'name: gh\ntrigger:\n  type: webhook\n  path: /gh\n  secret: "${GH_SECRET}"\n' +
      "  signature_header: X-Hub-Signature-256\nagent:\n  prompt: hi\n",
    "pylons/gh/.env": "GH_SECRET=shh\n",
    "pylons/nightly/pylon.yaml":
      'name: nightly\ntrigger:\n  type: cron\n  cron: "0 3 * * *"\nagent:\n  prompt: hi\n',
  });
  const d = await startTestDaemon(root);
  try {
    const port = new URL(d.url).port;
    await writeHome(root, { "config.yaml": `server:\n  host: 127.0.0.1\n  port: ${port}\n` });
    assert.equal(await cli(ctx, "test", "gh", "--payload", '{"number":5}'), 0, ctx.stderr());
    assert.match(
      ctx.stdout(),
      new RegExp(`Sending test webhook to http://127\\.0\\.0\\.1:${port}/gh \\(signed\\)`),
    );
    assert.match(
      ctx.stdout(),
      /Response \[202\]: \{\n {2}"job_id": "[0-9a-f-]{36}",\n {2}"status": "queued"\n\}/,
    );
    // What to do next, with the job's id.
    assert.match(
      ctx.stdout(),
      /\nFollow it: pylon logs [0-9a-f]{8} -f {3}\(all jobs: pylon jobs\)\n/,
    );

    assert.equal(await cli(ctx, "test", "nightly"), 0, ctx.stderr());
    assert.match(
      ctx.stdout(),
      /Running cron pylon nightly now via .*\/api\/pylons\/nightly\/trigger/,
    );
    const jobs = await (await d.api("/api/jobs?pylon=nightly")).json();
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].trigger, "manual");
  } finally {
    await d.stop();
  }
  assert.equal(await cli(ctx, "test", "gh"), 1);
  assert.match(ctx.stderr(), /Cannot reach the daemon at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(ctx.stderr(), /is `pylon start` running\?/);
});
