import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { JOB_STATUSES } from "../../src/config/mod.ts";
import { insertJob, tempStore } from "./_helpers.ts";

Deno.test("JobStore.list() returns newest first, filtered and limited", async (t) => {
  await using s = await tempStore();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push((await insertJob(s.store)).id);
    if (i !== 2) s.clock.advance(1_000); // jobs 2 and 3 share a millisecond: rowid breaks the tie
  }
  await s.store.transition(ids[1]!, "queued", "running");
  await s.store.transition(ids[4]!, "queued", "dismissed");
  const newestFirst = [...ids].reverse();

  await t.step("no options: everything, newest first", async () => {
    assert.deepEqual((await s.store.list()).map((j) => j.id), newestFirst);
  });
  await t.step("limit", async () => {
    assert.deepEqual((await s.store.list({ limit: 2 })).map((j) => j.id), newestFirst.slice(0, 2));
  });
  await t.step("one status, several statuses, none", async () => {
    assert.deepEqual((await s.store.list({ status: "running" })).map((j) => j.id), [ids[1]]);
    assert.deepEqual(
      (await s.store.list({ status: ["running", "dismissed"] })).map((j) => j.id),
      [ids[4], ids[1]],
    );
    assert.deepEqual(await s.store.list({ status: [] }), []);
  });
  await t.step("before pages back in time", async () => {
    const third = (await s.store.get(ids[2]!))!;
    assert.deepEqual(
      (await s.store.list({ before: third.createdAt })).map((j) => j.id),
      [ids[1], ids[0]],
    );
  });
  await t.step("a bad limit is a RangeError", async () => {
    await assert.rejects(s.store.list({ limit: 0 }), RangeError);
  });
});

Deno.test("JobStore.oldestQueued() is FIFO by queuedAt, not createdAt", async () => {
  await using s = await tempStore();
  const waiting = await insertJob(s.store, { status: "awaiting_approval" });
  s.clock.advance(1_000);
  const a = await insertJob(s.store);
  s.clock.advance(1_000);
  const b = await insertJob(s.store);
  s.clock.advance(1_000);
  await s.store.transition(waiting.id, "awaiting_approval", "queued");
  assert.equal((await s.store.oldestQueued())?.id, a.id);
  await s.store.transition(a.id, "queued", "running");
  assert.equal((await s.store.oldestQueued())?.id, b.id);
  await s.store.transition(b.id, "queued", "running");
  assert.equal((await s.store.oldestQueued())?.id, waiting.id);
});

Deno.test("JobStore.countByStatus() and countQueued() count every status", async () => {
  await using s = await tempStore();
  const empty = await s.store.countByStatus();
  assert.deepEqual(Object.keys(empty).sort(), [...JOB_STATUSES].sort());
  assert.ok(Object.values(empty).every((n) => n === 0));

  for (let i = 0; i < 3; i++) await insertJob(s.store);
  const failed = await insertJob(s.store);
  await s.store.transition(failed.id, "queued", "failed", { error: "boom", exitCode: 1 });
  await insertJob(s.store, { status: "awaiting_approval" });
  const counts = await s.store.countByStatus();
  assert.equal(counts.queued, 3);
  assert.equal(counts.failed, 1);
  assert.equal(counts.awaiting_approval, 1);
  assert.equal(counts.running, 0);
  assert.equal(await s.store.countQueued(), 3);
});

Deno.test("JobStore.countQueued() is answered from the (status, queued_at) index", async () => {
  await using s = await tempStore();
  const db = new DatabaseSync(s.path);
  try {
    for (
      const sql of [
        "SELECT count(*) FROM jobs WHERE status = 'queued'",
        "SELECT status, count(*) FROM jobs GROUP BY status",
        "SELECT * FROM jobs WHERE status = 'queued' ORDER BY queued_at, rowid LIMIT 1",
      ]
    ) {
      const plan = db.prepare("EXPLAIN QUERY PLAN " + sql).all()
        .map((r) => String(r.detail)).join("; ");
      assert.match(plan, /jobs_status_queued/, `${sql}: ${plan}`);
      assert.doesNotMatch(plan, /TEMP B-TREE/, `${sql}: ${plan}`);
    }
  } finally {
    db.close();
  }
});

Deno.test("JobStore.recoverable() returns the unfinished jobs by kind", async () => {
  await using s = await tempStore();
  const q1 = await insertJob(s.store);
  s.clock.advance(10);
  const q2 = await insertJob(s.store);
  const w = await insertJob(s.store, { status: "awaiting_approval" });
  const r = await insertJob(s.store);
  await s.store.transition(r.id, "queued", "running");
  const done = await insertJob(s.store);
  await s.store.transition(done.id, "queued", "killed");
  const got = await s.store.recoverable();
  assert.deepEqual(got.queued.map((j) => j.id), [q1.id, q2.id]);
  assert.deepEqual(got.awaitingApproval.map((j) => j.id), [w.id]);
  assert.deepEqual(got.running.map((j) => j.id), [r.id]);
});

Deno.test("JobStore.prune() deletes only terminal jobs finished before the date", async () => {
  await using s = await tempStore();
  const oldDone = await insertJob(s.store);
  const oldFailed = await insertJob(s.store);
  const oldQueued = await insertJob(s.store);
  const oldRunning = await insertJob(s.store);
  await s.store.transition(oldDone.id, "queued", "completed");
  await s.store.transition(oldFailed.id, "queued", "failed");
  await s.store.transition(oldRunning.id, "queued", "running");
  const retry = await insertJob(s.store, { trigger: "retry", parentId: oldFailed.id, attempt: 2 });
  s.clock.advance(90 * 86_400_000);
  const cutoff = s.clock.now();
  const recent = await insertJob(s.store);
  await s.store.transition(recent.id, "queued", "completed");

  const pruned = await s.store.prune(cutoff);
  assert.deepEqual(pruned.sort(), [oldDone.id, oldFailed.id].sort());
  const left = (await s.store.list({ limit: 100 })).map((j) => j.id).sort();
  assert.deepEqual(left, [oldQueued.id, oldRunning.id, retry.id, recent.id].sort());
  assert.equal((await s.store.get(retry.id))?.parentId, null, "a pruned parent unlinks its retry");
  assert.equal((await s.store.get(retry.id))?.attempt, 2);
  assert.deepEqual(await s.store.prune(cutoff), []);
});

Deno.test("JobStore methods throw a StoreError after close()", async () => {
  await using s = await tempStore();
  await s.store.close();
  await s.store.close();
  await assert.rejects(s.store.countQueued(), /the job store is closed/);
});
