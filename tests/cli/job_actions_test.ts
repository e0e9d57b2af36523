/**
 * `pylon approve|ignore|kill|retry|logs` on job ids and prefixes, with and without a daemon.
 */

import assert from "node:assert/strict";
import { createStoreRegistry } from "../../src/store/mod.ts";
import { cli, createTestContext, type TestContext, writePylon } from "../_helpers/cli.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";

async function seed(ctx: TestContext, status: "awaiting_approval" | "queued") {
  await writePylon(
    ctx,
    "hook",
    "name: hook\ntrigger:\n  type: webhook\n  path: /hook\nagent:\n  prompt: hi\n",
  );
  const stores = createStoreRegistry(ctx.paths);
  try {
    const store = await stores.open("hook");
    const { job } = await store.insert({
      id: crypto.randomUUID(),
      pylon: "hook",
      status,
      trigger: "webhook",
      payload: { n: 1 },
      headers: {},
    });
    return job.id;
  } finally {
    await stores.closeAll();
  }
}

async function statusOf(ctx: TestContext, id: string) {
  const stores = createStoreRegistry(ctx.paths);
  try {
    return (await (await stores.open("hook")).get(id))!;
  } finally {
    await stores.closeAll();
  }
}

Deno.test("approve, ignore, kill and retry work on the database when no daemon runs", async () => {
  await using ctx = await createTestContext();
  const a = await seed(ctx, "awaiting_approval");
  assert.equal(await cli(ctx, "approve", a.slice(0, 8)), 0, ctx.stderr());
  assert.match(
    ctx.stdout(),
    /approved: queued; it runs when the daemon starts \(none runs now\)\.\n$/,
  );
  assert.equal((await statusOf(ctx, a)).status, "queued");
  assert.equal(await cli(ctx, "approve", a), 1, "a second approval is refused");
  assert.match(ctx.stderr(), /it is queued, not awaiting_approval/);

  const b = await seed(ctx, "awaiting_approval");
  assert.equal(await cli(ctx, "ignore", b), 0);
  assert.equal((await statusOf(ctx, b)).status, "dismissed");
  // Done now: nothing "takes effect" at the next start.
  assert.match(ctx.stdout(), new RegExp(`\nJob ${b.slice(0, 8)} dismissed\.\n$`));

  assert.equal(await cli(ctx, "kill", a), 0);
  assert.match(ctx.stdout(), /cancelled/);
  assert.equal((await statusOf(ctx, a)).status, "killed");
  assert.equal(await cli(ctx, "retry", a), 0);
  const retried = /Retrying as job ([0-9a-f]{8}) \(attempt 2\)/.exec(ctx.stdout());
  assert.ok(retried, ctx.stdout());

  assert.equal(await cli(ctx, "retry", "ffffffff"), 1);
  assert.match(ctx.stderr(), /ffffffff/);
});

Deno.test("approve goes through the running daemon's API when there is one", async () => {
  await using ctx = await createTestContext();
  const id = await seed(ctx, "awaiting_approval");
  const d = await startTestDaemon(ctx.paths.root);
  try {
    assert.equal(await cli(ctx, "approve", id.slice(0, 8)), 0, ctx.stderr());
    assert.equal(ctx.stdout(), `Job ${id.slice(0, 8)} approved: queued.\n`);
    assert.ok(d.logs.some((l) => /event=job\.approved/.test(l)));
  } finally {
    await d.stop();
  }
});

Deno.test("pylon logs prints a finished job's saved output", async () => {
  await using ctx = await createTestContext();
  const id = await seed(ctx, "queued");
  assert.equal(await cli(ctx, "logs", id.slice(0, 8)), 0);
  assert.match(ctx.stdout(), /has no output yet/);
  await Deno.mkdir(ctx.paths.jobsDir, { recursive: true });
  await Deno.writeTextFile(`${ctx.paths.jobsDir}/${id}.log`, "--- run ---\nhello from the agent\n");
  assert.equal(await cli(ctx, "logs", id), 0);
  assert.match(ctx.stdout(), /hello from the agent\n$/);
});
