/** The status history (`job_events`): one row per status change, in the changing transaction. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { migrate, MIGRATIONS } from "../../src/store/migrations.ts";
import { type JobStatusChange, openJobStore } from "../../src/store/mod.ts";
import { insertJob, tempStore } from "./_helpers.ts";

function steps(history: JobStatusChange[]): [string | null, string, string | null][] {
  return history.map((h) => [h.from, h.status, h.reason]);
}

Deno.test("history() records insert and every transition with its time, oldest first", async () => {
  await using t = await tempStore("alpha");
  const job = await insertJob(t.store, { status: "awaiting_approval" });
  t.clock.advance(1_000);
  await t.store.transition(job.id, "awaiting_approval", "queued");
  t.clock.advance(1_000);
  await t.store.transition(job.id, "queued", "running");
  t.clock.advance(1_000);
  await t.store.transition(job.id, "running", "failed", { error: "exit code 3" });
  const history = await t.store.history(job.id);
  assert.deepEqual(steps(history), [
    [null, "awaiting_approval", "webhook"],
    ["awaiting_approval", "queued", null],
    ["queued", "running", null],
    ["running", "failed", "exit code 3"],
  ]);
  const start = new Date("2026-05-01T12:00:00Z").getTime();
  assert.deepEqual(history.map((h) => h.at.getTime() - start), [0, 1_000, 2_000, 3_000]);
});

Deno.test("history() names the parent of a retry and cuts long errors to 200 characters", async () => {
  await using t = await tempStore("alpha");
  const first = await insertJob(t.store);
  const retry = await insertJob(t.store, { trigger: "retry", parentId: first.id, attempt: 2 });
  await t.store.transition(retry.id, "queued", "killed", { error: "x".repeat(5_000) });
  const [created, killed] = await t.store.history(retry.id);
  assert.equal(created?.reason, `retry of ${first.id.slice(0, 8)}`);
  assert.equal(Array.from(killed!.reason!).length, 200);
  assert.ok(killed!.reason!.endsWith("…"));
  assert.equal(
    (await t.store.get(retry.id))!.error!.length,
    5_000,
    "the job keeps the whole error",
  );
});

Deno.test("transition() that loses its guard writes no history row", async () => {
  await using t = await tempStore("alpha");
  const job = await insertJob(t.store);
  const [a, b] = await Promise.all([
    t.store.transition(job.id, "queued", "running"),
    t.store.transition(job.id, "queued", "killed", { error: "killed before it started" }),
  ]);
  assert.ok(a);
  assert.equal(b, null);
  assert.equal(await t.store.transition(job.id, "awaiting_approval", "queued"), null);
  assert.equal(await t.store.transition(job.id, [], "queued"), null);
  assert.deepEqual(steps(await t.store.history(job.id)), [
    [null, "queued", "webhook"],
    ["queued", "running", null],
  ]);
});

Deno.test("insert() of a known delivery id adds no history row", async () => {
  await using t = await tempStore("alpha");
  const job = await insertJob(t.store, { deliveryId: "d-1" });
  const again = await t.store.insert({ ...job, id: crypto.randomUUID(), deliveryId: "d-1" });
  assert.equal(again.created, false);
  assert.equal((await t.store.history(job.id)).length, 1);
  assert.deepEqual(await t.store.history("0000aaaa-0000-4000-8000-000000000009"), []);
});

Deno.test("supersede() records each dismissed job from the status it left", async () => {
  await using store = await openJobStore(":memory:", { pylon: "review" });
  const queued = await insertJob(store, { supersedeKey: "pr#7" });
  const waiting = await insertJob(store, { status: "awaiting_approval", supersedeKey: "pr#7" });
  const running = await insertJob(store, { supersedeKey: "pr#7" });
  await store.transition(running.id, "queued", "running");
  const newest = await insertJob(store, { supersedeKey: "pr#7" });
  await store.supersede("pr#7", newest.id, "superseded by newest");
  assert.deepEqual(steps(await store.history(queued.id)).at(-1), [
    "queued",
    "dismissed",
    "superseded by newest",
  ]);
  assert.deepEqual(steps(await store.history(waiting.id)).at(-1), [
    "awaiting_approval",
    "dismissed",
    "superseded by newest",
  ]);
  assert.equal((await store.history(running.id)).at(-1)?.status, "running");
  assert.equal((await store.history(newest.id)).length, 1);
});

Deno.test("prune() deletes the history rows of the jobs it deletes", async () => {
  await using t = await tempStore("alpha");
  const old = await insertJob(t.store);
  await t.store.transition(old.id, "queued", "killed");
  const kept = await insertJob(t.store);
  await t.store.transition(kept.id, "queued", "running");
  t.clock.advance(10 * 86_400_000);
  assert.deepEqual(await t.store.prune(new Date(t.clock.now().getTime() - 86_400_000)), [old.id]);
  await t.store.close();
  const db = new DatabaseSync(t.path);
  try {
    const rows = db.prepare("SELECT job_id FROM job_events").all().map((r) => r.job_id);
    assert.deepEqual(rows, [kept.id]);
  } finally {
    db.close();
  }
});

Deno.test("a version-6 file gains job_events, filled in from what its jobs' times say", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pylon-migrate-" });
  const path = join(dir, "jobs.db");
  try {
    const db = new DatabaseSync(path);
    migrate(db, path, MIGRATIONS.slice(0, 6));
    const insert = db.prepare(
      `INSERT INTO jobs (id, pylon, status, trigger_kind, payload, created_at, queued_at,
        started_at, finished_at) VALUES (?, 'alpha', ?, 'webhook', '{}', ?, ?, ?, ?)`,
    );
    const done = "0000aaaa-0000-4000-8000-000000000001";
    const waiting = "0000aaaa-0000-4000-8000-000000000002";
    const running = "0000aaaa-0000-4000-8000-000000000003";
    insert.run(done, "completed", 1_000, 1_000, 2_000, 3_000);
    insert.run(waiting, "queued", 4_000, 4_000, null, null);
    insert.run(running, "running", 5_000, 5_000, 6_000, null);
    db.close();
    await using store = await openJobStore(path, { pylon: "alpha" });
    const timeline = async (id: string) =>
      (await store.history(id)).map((h) => [h.from, h.status, h.at.getTime()]);
    assert.deepEqual(await timeline(done), [[null, "running", 2_000], [
      "running",
      "completed",
      3_000,
    ]]);
    assert.deepEqual(await timeline(waiting), [[null, "queued", 4_000]]);
    assert.deepEqual(await timeline(running), [[null, "running", 6_000]]);
    assert.match((await store.history(done))[0]!.reason!, /before status history/);
    // The upgraded file keeps recording.
    await store.transition(running, "running", "completed");
    assert.deepEqual((await timeline(running)).at(-1)?.slice(0, 2), ["running", "completed"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
