import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { GroupCommit } from "../../src/store/_group_commit.ts";
import { openJobStore, StoreError } from "../../src/store/mod.ts";
import { insertJob, newJob, tempStore } from "./_helpers.ts";

/** The number of rows in `path`'s jobs table, read through a second connection. */
function committedJobs(path: string): number {
  const db = new DatabaseSync(path);
  try {
    return Number(db.prepare("SELECT count(*) AS n FROM jobs").get()?.n);
  } finally {
    db.close();
  }
}

Deno.test("JobStore.insert() commits concurrent inserts together and each once", async () => {
  await using t = await tempStore();
  const jobs = Array.from({ length: 40 }, () => newJob("alpha"));
  const results = await Promise.all(jobs.map((j) => t.store.insert(j)));
  assert.deepEqual(results.map((r) => r.created), jobs.map(() => true));
  assert.deepEqual(results.map((r) => r.job.id), jobs.map((j) => j.id));
  // Resolved means committed: another connection sees every row.
  assert.equal(committedJobs(t.path), 40);
});

Deno.test("JobStore.insert() gives a delivery id repeated in a batch its first job", async () => {
  await using t = await tempStore();
  const first = newJob("alpha", { deliveryId: "gh-1" });
  const second = newJob("alpha", { deliveryId: "gh-1" });
  const other = newJob("alpha", { deliveryId: "gh-2" });
  const [a, b, c] = await Promise.all([first, second, other].map((j) => t.store.insert(j)));
  assert.equal(a!.created, true);
  assert.equal(b!.created, false);
  assert.deepEqual(b!.job, a!.job);
  assert.equal(c!.created, true);
  assert.equal(committedJobs(t.path), 2);
});

Deno.test("JobStore.insert() fails only the broken row of a batch", async () => {
  await using t = await tempStore();
  const existing = await insertJob(t.store);
  const before = newJob("alpha");
  const clash = newJob("alpha", { id: existing.id });
  const after = newJob("alpha");
  const outcomes = await Promise.allSettled([before, clash, after].map((j) => t.store.insert(j)));
  assert.equal(outcomes[0]!.status, "fulfilled");
  assert.equal(outcomes[1]!.status, "rejected");
  assert.ok((outcomes[1] as PromiseRejectedResult).reason instanceof StoreError);
  assert.equal(outcomes[2]!.status, "fulfilled");
  assert.equal(committedJobs(t.path), 3);
  assert.notEqual(await t.store.get(before.id), null);
  assert.notEqual(await t.store.get(after.id), null);
});

Deno.test("JobStore.transition() in one batch still lets only one caller win", async () => {
  await using t = await tempStore();
  const job = await insertJob(t.store, { status: "awaiting_approval" });
  const moves = await Promise.all([
    t.store.transition(job.id, "awaiting_approval", "queued"),
    t.store.transition(job.id, "awaiting_approval", "dismissed"),
  ]);
  assert.equal(moves[0]?.status, "queued");
  assert.equal(moves[1], null);
});

Deno.test("JobStore.close() commits the writes still waiting for their batch", async () => {
  const t = await tempStore();
  const job = newJob("alpha");
  const inserting = t.store.insert(job);
  await t.store.close();
  assert.equal((await inserting).created, true);
  await using again = await openJobStore(t.path, { pylon: "alpha" });
  assert.equal((await again.get(job.id))?.id, job.id);
  await t[Symbol.asyncDispose]();
});

Deno.test("GroupCommit retries a batch one write at a time when SQLite drops it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pylon-group-" });
  const db = new DatabaseSync(`${dir}/g.db`);
  try {
    db.exec("CREATE TABLE t (x INTEGER)");
    const commits = new GroupCommit(db);
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    const outcomes = await Promise.allSettled([
      commits.run(() => insert.run(1).changes),
      // What a full disk does to a transaction: SQLite rolls all of it back.
      commits.run(() => db.exec("ROLLBACK")),
      commits.run(() => insert.run(3).changes),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.deepEqual(db.prepare("SELECT x FROM t ORDER BY x").all().map((r) => r.x), [1, 3]);
    assert.equal(db.isTransaction, false);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("JobStore.insert() waits for another connection's write lock without blocking the event loop", async () => {
  await using t = await tempStore();
  const other = new DatabaseSync(t.path);
  try {
    other.exec("BEGIN IMMEDIATE"); // another writer holds the lock
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const job = newJob("alpha");
    const inserted = t.store.insert(job);
    // The other writer can only finish if this event loop keeps turning while the insert waits:
    // a busy wait inside SQLite would block the timer below and fail the insert.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ticksWhileLocked = ticks;
    other.exec("COMMIT");
    const { created } = await inserted;
    clearInterval(ticker);
    assert.equal(created, true);
    assert.equal(committedJobs(t.path), 1);
    assert.ok(ticksWhileLocked >= 10, `the event loop ran only ${ticksWhileLocked} timers`);
  } finally {
    other.close();
  }
});
