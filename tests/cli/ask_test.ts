/**
 * `pylon ask <job> <text...> [--follow]`: the real CLI beside a real daemon (loopback HTTP, real
 * SQLite stores) whose runner is scripted: it writes the job's log like an agent's output and
 * answers from the same session.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { JobRunner } from "../../src/queue/mod.ts";
import type { Job } from "../../src/store/mod.ts";
import { cli, createTestContext, writePylon } from "../_helpers/cli.ts";
import { eventually, startTestDaemon } from "../_helpers/daemon.ts";

/** Writes a line to the job's log, takes a moment, and answers the prompt in session `s-<id8>`. */
function talkingRunner(jobsDir: string, seen: Job[]): JobRunner {
  return {
    async run(job) {
      seen.push(job);
      const said = job.trigger === "follow-up" ? `thinking about: ${job.prompt}` : "reviewing";
      await Deno.mkdir(jobsDir, { recursive: true });
      await Deno.writeTextFile(join(jobsDir, `${job.id}.log`), said + "\n");
      await new Promise((r) => setTimeout(r, 400));
      return {
        status: "completed",
        exitCode: 0,
        result: job.trigger === "follow-up" ? `**Because** ${job.prompt}` : "looks good",
        sessionId: `s-${job.id.slice(0, 8)}`,
      };
    },
  };
}

Deno.test("pylon ask queues a follow-up in the job's session, and --follow streams its answer", async () => {
  await using ctx = await createTestContext();
  await writePylon(
    ctx,
    "review",
    "name: review\ntrigger:\n  type: webhook\n  path: /review\nagent:\n  prompt: p\n",
  );
  const seen: Job[] = [];
  const d = await startTestDaemon(ctx.env.PYLON_HOME!, {
    runner: talkingRunner(ctx.paths.jobsDir, seen),
  });
  try {
    const res = await fetch(`${d.url}/review`, { method: "POST", body: "{}" });
    const { job_id: first } = await res.json();
    await eventually(() => Promise.resolve(seen.length === 1 && !seen[0]!.finishedAt));
    await eventually(async () =>
      (await (await d.api(`/api/jobs/${first}`)).json()).status === "completed"
    );

    assert.equal(await cli(ctx, "ask", first.slice(0, 8), "why", "this?"), 0, ctx.stderr());
    const queued = /Asked as job ([0-9a-f]{8}) \(queued\); follow it with `pylon logs -f \1`/
      .exec(ctx.stdout());
    assert.ok(queued, ctx.stdout());
    await eventually(() => Promise.resolve(seen.length === 2));
    assert.equal(seen[1]!.prompt, "why this?");
    assert.equal(seen[1]!.sessionId, `s-${first.slice(0, 8)}`);

    const before = ctx.stdout().length;
    await eventually(async () =>
      (await (await d.api(`/api/jobs/${seen[1]!.id}`)).json()).status === "completed"
    );
    assert.equal(await cli(ctx, "ask", first, "and", "now?", "--follow"), 0, ctx.stderr());
    const out = ctx.stdout().slice(before);
    assert.match(out, /^Asked as job [0-9a-f]{8}; waiting for the answer\.\.\.\n/);
    assert.match(out, /thinking about: and now\?\n/);
    assert.match(out, /--- job [0-9a-f]{8} completed in \S+ ---\n\n\*\*Because\*\* and now\?\n$/);
    // The conversation goes on from its newest answer's session.
    assert.equal(seen[2]!.sessionId, `s-${seen[1]!.id.slice(0, 8)}`);
  } finally {
    await d.stop();
  }
});

Deno.test("pylon ask says why it cannot ask", async (t) => {
  await using ctx = await createTestContext();
  await writePylon(
    ctx,
    "review",
    "name: review\ntrigger:\n  type: webhook\n  path: /review\nagent:\n  prompt: p\n",
  );
  await t.step("without a daemon it says to start one", async () => {
    assert.equal(await cli(ctx, "ask", "1a2b3c4d", "why?"), 1);
    assert.match(ctx.stderr(), /the daemon is not running[\s\S]*pylon start/);
  });
  await t.step("without a question it shows the usage", async () => {
    assert.equal(await cli(ctx, "ask", "1a2b3c4d"), 2);
    assert.match(ctx.stderr(), /ask <job> <text\.\.\.>/);
  });
  await t.step("the daemon's refusal is shown", async () => {
    const d = await startTestDaemon(ctx.env.PYLON_HOME!); // no runner: jobs stay queued
    try {
      const res = await fetch(`${d.url}/review`, { method: "POST", body: "{}" });
      const { job_id: id } = await res.json();
      assert.equal(await cli(ctx, "ask", id, "why?"), 1);
      assert.match(ctx.stderr(), /is queued; ask again when it has finished/);
    } finally {
      await d.stop();
    }
  });
});

Deno.test("pylon ask is listed in help and completes job ids", async () => {
  await using ctx = await createTestContext();
  assert.equal(await cli(ctx, "--help"), 0);
  assert.match(ctx.stdout(), /\n\s+ask\s+Ask a finished job's agent a follow-up question/);
  assert.equal(await cli(ctx, "completion", "bash"), 0);
  assert.match(ctx.stdout(), /\n\s+ask\) opts="--follow --help"; kind="jobs" ;;\n/);
});
