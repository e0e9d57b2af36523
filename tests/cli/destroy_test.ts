/**
 * `pylon destroy`: refuses unfinished jobs without --force, stops them with it, removes the
 * config folder, the data folder and the jobs' files; with and without a daemon.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { JobStatus } from "../../src/config/mod.ts";
import { acquireHomeLock } from "../../src/daemon/mod.ts";
import { openJobStore } from "../../src/store/mod.ts";
import { cli, createTestContext, type TestContext, writePylon } from "../_helpers/cli.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";

const HOOK = "name: hook\ntrigger:\n  type: webhook\n  path: /hook\nagent:\n  prompt: hi\n";

/** Inserts jobs into the database at `db`; returns their ids, and gives each a folder and log. */
async function seed(
  ctx: TestContext,
  db: string,
  pylon: string,
  statuses: JobStatus[],
): Promise<string[]> {
  await using store = await openJobStore(db, { pylon });
  const ids: string[] = [];
  for (const status of statuses) {
    const { job } = await store.insert({
      id: crypto.randomUUID(),
      pylon,
      status: status === "awaiting_approval" ? status : "queued",
      trigger: "webhook",
      payload: {},
      headers: {},
    });
    if (status === "running" || status === "completed") {
      await store.transition(job.id, "queued", "running");
    }
    if (status === "completed") await store.transition(job.id, "running", "completed");
    await Deno.mkdir(join(ctx.paths.jobsDir, job.id, "out"), { recursive: true });
    await Deno.writeTextFile(join(ctx.paths.jobsDir, `${job.id}.log`), "log\n");
    ids.push(job.id);
  }
  return ids;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test("destroy without a daemon refuses unfinished jobs, and --force cancels them and removes everything", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "hook", HOOK);
  const [queued, awaiting, done] = await seed(ctx, ctx.paths.pylonDb("hook"), "hook", [
    "queued",
    "awaiting_approval",
    "completed",
  ]);

  assert.equal(await cli(ctx, "destroy", "hook", "--yes"), 1);
  assert.match(
    ctx.stderr(),
    new RegExp(
      `Cannot destroy pylon "hook": it has unfinished jobs: .*${queued!.slice(0, 8)} \\(queued\\)`,
    ),
  );
  assert.match(ctx.stderr(), new RegExp(`${awaiting!.slice(0, 8)} \\(awaiting_approval\\)`));
  assert.match(ctx.stderr(), /run `pylon destroy hook --force` to kill them/);
  assert.ok(await exists(ctx.paths.pylonConfig("hook")), "nothing was removed");
  assert.ok(await exists(ctx.paths.pylonDb("hook")));

  assert.equal(await cli(ctx, "destroy", "hook", "--yes", "--force"), 0, ctx.stderr());
  assert.match(ctx.stdout(), new RegExp(`Cancelled job ${queued!.slice(0, 8)}\\.`));
  assert.match(ctx.stdout(), new RegExp(`Cancelled job ${awaiting!.slice(0, 8)}\\.`));
  assert.match(ctx.stdout(), /the files of 3 jobs\.\nPylon "hook" destroyed\.\n$/);
  assert.equal(await exists(ctx.paths.pylonDir("hook")), false);
  assert.equal(await exists(ctx.paths.pylonDataDir("hook")), false);
  for (const id of [queued!, awaiting!, done!]) {
    assert.equal(await exists(join(ctx.paths.jobsDir, id)), false);
    assert.equal(await exists(join(ctx.paths.jobsDir, `${id}.log`)), false);
  }
  assert.equal(await cli(ctx, "destroy", "hook", "--yes"), 1);
  assert.match(ctx.stderr(), /Pylon "hook" does not exist/);
});

Deno.test("destroy removes a folder whose name is not a pylon name, with a pre-0.2 jobs.db in it", async () => {
  await using ctx = await createTestContext();
  const name = "My Pylon";
  await writePylon(ctx, name, "name: my-pylon\n");
  const [waiting] = await seed(ctx, ctx.paths.legacyPylonDb(name), name, ["queued"]);
  assert.equal(await cli(ctx, "destroy", name, "--yes"), 1);
  assert.match(ctx.stderr(), new RegExp(`${waiting!.slice(0, 8)} \\(queued\\)`));
  assert.equal(await cli(ctx, "destroy", name, "--yes", "--force"), 0, ctx.stderr());
  assert.match(ctx.stdout(), /Pylon "My Pylon" destroyed\./);
  assert.equal(await exists(ctx.paths.pylonDir(name)), false);
  assert.equal(await exists(join(ctx.paths.jobsDir, waiting!)), false);
});

Deno.test("destroy refuses path tricks and names nothing that exists", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "hook", HOOK);
  for (const bad of ["..", ".", "", "hook/..", "../pylons/hook"]) {
    assert.equal(await cli(ctx, "destroy", bad, "--yes"), 2, `refuses "${bad}"`);
  }
  assert.match(ctx.stderr(), /Cannot destroy "\.\.": "\.\." is not a pylon folder/);
  assert.match(ctx.stderr(), /must not contain \//);
  await Deno.writeTextFile(join(ctx.paths.pylonsDir, "notes.txt"), "a file, not a pylon\n");
  assert.equal(await cli(ctx, "destroy", "notes.txt", "--yes"), 1);
  assert.match(ctx.stderr(), /Pylon "notes\.txt" does not exist/);
  assert.ok(await exists(join(ctx.paths.pylonsDir, "notes.txt")));
  assert.ok(await exists(ctx.paths.pylonConfig("hook")));
});

Deno.test("destroy without a daemon refuses while another process holds the home lock", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "hook", HOOK);
  await using _lock = await acquireHomeLock(ctx.paths, "daemon");
  assert.equal(await cli(ctx, "destroy", "hook", "--yes"), 1);
  assert.match(ctx.stderr(), /Cannot change the job database: another pylon process/);
  assert.ok(await exists(ctx.paths.pylonConfig("hook")));
});

Deno.test("destroy goes through the running daemon", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "hook", HOOK);
  const [queued] = await seed(ctx, ctx.paths.pylonDb("hook"), "hook", ["queued"]);
  const d = await startTestDaemon(ctx.paths.root);
  try {
    assert.equal(await cli(ctx, "destroy", "hook", "--yes"), 1);
    assert.match(ctx.stderr(), /it has unfinished jobs: .* \(queued\).*--force/);
    assert.equal(await cli(ctx, "destroy", "hook", "--yes", "--force"), 0, ctx.stderr());
    assert.match(ctx.stdout(), new RegExp(`Cancelled job ${queued!.slice(0, 8)}\\.`));
    assert.match(ctx.stdout(), /Pylon "hook" destroyed\./);
    assert.ok(d.logs.some((l) => /event=pylon\.destroyed pylon=hook/.test(l)));
    assert.equal(await exists(ctx.paths.pylonDir("hook")), false);
    assert.equal(await exists(ctx.paths.pylonDataDir("hook")), false);
  } finally {
    await d.stop();
  }
});
