import assert from "node:assert/strict";
import { openJobStore, StoreError } from "../../src/store/mod.ts";
import { insertJob, newJob, tempStore } from "./_helpers.ts";

Deno.test("JobStore.insert() stores every field and get() reads it back", async () => {
  await using t = await tempStore("alpha");
  const input = newJob("alpha", {
    deliveryId: "d-1",
    payload: { nested: { list: [1, "two", null] }, unicode: "héllo ✓" },
    headers: { "x-github-event": "push" },
    sessionId: "sess-1",
    thread: '{"chat":1}',
  });
  const { job, created } = await t.store.insert(input);
  assert.equal(created, true);
  assert.deepEqual(job, {
    id: input.id,
    pylon: "alpha",
    status: "queued",
    trigger: "webhook",
    deliveryId: "d-1",
    payload: { nested: { list: [1, "two", null] }, unicode: "héllo ✓" },
    headers: { "x-github-event": "push" },
    createdAt: t.clock.now(),
    queuedAt: t.clock.now(),
    startedAt: null,
    finishedAt: null,
    deadlineAt: null,
    containerId: null,
    exitCode: null,
    attempt: 1,
    parentId: null,
    result: null,
    error: null,
    sessionId: "sess-1",
    prompt: null,
    repo: null,
    ref: null,
    thread: '{"chat":1}',
    threadKey: null,
    notified: null,
    dedupeKey: null,
    repeats: 1,
    supersedeKey: null,
    bodyDigest: null,
    usage: null,
  });
  assert.deepEqual(await t.store.get(input.id), job);
  assert.equal(await t.store.get(crypto.randomUUID()), null);
});

Deno.test("JobStore.insert() keeps awaiting_approval jobs out of the queue", async () => {
  await using t = await tempStore();
  const job = await insertJob(t.store, { status: "awaiting_approval", trigger: "cron" });
  assert.equal(job.queuedAt, null);
  assert.equal(await t.store.countQueued(), 0);
  assert.equal(await t.store.oldestQueued(), null);
});

Deno.test("JobStore.insert() rejects malformed jobs before touching the database", async (t) => {
  await using s = await tempStore();
  await t.step("a running status", async () => {
    await assert.rejects(s.store.insert(newJob("alpha", { status: "running" })), TypeError);
  });
  await t.step("another pylon", async () => {
    await assert.rejects(s.store.insert(newJob("beta")), TypeError);
  });
  await t.step("an id that is not a uuid", async () => {
    await assert.rejects(s.store.insert(newJob("alpha", { id: "Job 1" })), TypeError);
  });
  assert.deepEqual(await s.store.list(), []);
});

Deno.test("JobStore.insert() wraps a duplicate id without leaking the payload", async () => {
  await using t = await tempStore();
  const job = await insertJob(t.store);
  const again = newJob("alpha", { id: job.id, payload: { token: "very-secret-value" } });
  await assert.rejects(t.store.insert(again), (e: unknown) => {
    assert.ok(e instanceof StoreError);
    assert.equal(e.dbPath, t.path);
    assert.match(e.message, new RegExp(`^Cannot insert job ${job.id.slice(0, 8)} in `));
    assert.doesNotMatch(e.message, /very-secret-value/);
    assert.ok(e.hint);
    return true;
  });
});

Deno.test("JobStore.insert() returns the first job for a repeated delivery id", async () => {
  await using t = await tempStore();
  const first = await t.store.insert(newJob("alpha", { deliveryId: "gh-1" }));
  const second = await t.store.insert(newJob("alpha", { deliveryId: "gh-1" }));
  assert.equal(second.created, false);
  assert.deepEqual(second.job, first.job);
  assert.deepEqual(await t.store.findByDeliveryId("gh-1"), first.job);
  assert.equal(await t.store.findByDeliveryId("gh-2"), null);
});

Deno.test("JobStore.insert() creates one row for 50 concurrent inserts of one delivery", async () => {
  await using t = await tempStore();
  const results = await Promise.all(
    Array.from({ length: 50 }, () => t.store.insert(newJob("alpha", { deliveryId: "same" }))),
  );
  assert.equal(results.filter((r) => r.created).length, 1);
  assert.equal(new Set(results.map((r) => r.job.id)).size, 1);
  assert.equal((await t.store.list({ limit: 100 })).length, 1);
});

Deno.test("JobStore.findByPrefix() finds ids by their first characters", async () => {
  await using t = await tempStore();
  const a = await insertJob(t.store, { id: "abcd0000-0000-4000-8000-000000000001" });
  const b = await insertJob(t.store, { id: "abcd1111-0000-4000-8000-000000000002" });
  await insertJob(t.store, { id: "ffff0000-0000-4000-8000-000000000003" });
  assert.deepEqual((await t.store.findByPrefix("abcd")).map((j) => j.id), [a.id, b.id]);
  assert.deepEqual((await t.store.findByPrefix("ABCD1")).map((j) => j.id), [b.id]);
  assert.deepEqual((await t.store.findByPrefix(a.id)).map((j) => j.id), [a.id]);
  assert.deepEqual(await t.store.findByPrefix("0"), []);
  assert.deepEqual(await t.store.findByPrefix(""), []);
  assert.equal((await t.store.findByPrefix("abcd", 1)).length, 1);
});

Deno.test("JobStore.transition() moves a job only from an allowed status", async (t) => {
  await using s = await tempStore();
  const job = await insertJob(s.store, { status: "awaiting_approval" });

  await t.step("the first approval queues it and stamps queuedAt", async () => {
    s.clock.advance(1_000);
    const queued = await s.store.transition(job.id, "awaiting_approval", "queued");
    assert.equal(queued?.status, "queued");
    assert.deepEqual(queued?.queuedAt, s.clock.now());
  });
  await t.step("a second approval returns null and changes nothing", async () => {
    const before = await s.store.get(job.id);
    s.clock.advance(1_000);
    assert.equal(await s.store.transition(job.id, "awaiting_approval", "queued"), null);
    assert.deepEqual(await s.store.get(job.id), before);
  });
  await t.step("starting stamps startedAt and applies the patch", async () => {
    s.clock.advance(1_000);
    const deadline = new Date(s.clock.now().getTime() + 600_000);
    const running = await s.store.transition(job.id, ["queued"], "running", {
      containerId: "c0ffee",
      deadlineAt: deadline,
      prompt: "Review it",
      repo: "https://example.test/r.git",
      ref: "main",
    });
    assert.equal(running?.status, "running");
    assert.deepEqual(running?.startedAt, s.clock.now());
    assert.deepEqual(running?.deadlineAt, deadline);
    assert.equal(running?.containerId, "c0ffee");
    assert.equal(running?.finishedAt, null);
  });
  await t.step("finishing stamps finishedAt", async () => {
    s.clock.advance(94_000);
    const done = await s.store.transition(job.id, "running", "completed", {
      exitCode: 0,
      result: "LGTM",
      sessionId: "s-9",
    });
    assert.equal(done?.status, "completed");
    assert.deepEqual(done?.finishedAt, s.clock.now());
    assert.equal(done?.exitCode, 0);
    assert.equal(done?.result, "LGTM");
    assert.equal(done?.sessionId, "s-9");
  });
  await t.step("a late event cannot bring a finished job back", async () => {
    assert.equal(await s.store.transition(job.id, ["queued", "running"], "running"), null);
    assert.equal(await s.store.transition(job.id, "running", "failed"), null);
    assert.equal((await s.store.get(job.id))?.status, "completed");
  });
  await t.step("an unknown job or empty from list returns null", async () => {
    assert.equal(await s.store.transition(crypto.randomUUID(), "queued", "running"), null);
    assert.equal(await s.store.transition(job.id, [], "running"), null);
  });
  await t.step("an unknown status is a TypeError", async () => {
    // @ts-expect-error: not a status
    await assert.rejects(s.store.transition(job.id, "done", "running"), TypeError);
  });
});

Deno.test("JobStore.transition() keeps a patched startedAt", async () => {
  await using t = await tempStore();
  const job = await insertJob(t.store);
  const startedAt = new Date("2026-04-30T00:00:00Z");
  const running = await t.store.transition(job.id, "queued", "running", { startedAt });
  assert.deepEqual(running?.startedAt, startedAt);
});

Deno.test("JobStore.update() changes fields but not the status", async () => {
  await using t = await tempStore();
  const job = await insertJob(t.store);
  const updated = await t.store.update(job.id, { thread: "t-1", containerId: null, error: "x" });
  assert.equal(updated?.thread, "t-1");
  assert.equal(updated?.error, "x");
  assert.equal(updated?.status, "queued");
  assert.deepEqual(await t.store.update(job.id, {}), updated);
  assert.equal(await t.store.update(crypto.randomUUID(), { thread: "t" }), null);
});

Deno.test("JobStore.patch() changes fields without reading the job back", async () => {
  await using t = await tempStore();
  const job = await insertJob(t.store);
  assert.equal(await t.store.patch(job.id, { thread: '{"k":1}', notified: "queued" }), true);
  const read = await t.store.get(job.id);
  assert.equal(read?.thread, '{"k":1}');
  assert.equal(read?.notified, "queued");
  assert.equal(read?.status, "queued");
  assert.equal(await t.store.patch(crypto.randomUUID(), { notified: "queued" }), false);
});

Deno.test("JobStore.incrementRepeats() counts in SQL", async () => {
  await using t = await tempStore();
  const job = await insertJob(t.store);
  await Promise.all(Array.from({ length: 10 }, () => t.store.incrementRepeats(job.id)));
  assert.equal((await t.store.get(job.id))?.repeats, 11);
  assert.equal(await t.store.incrementRepeats(crypto.randomUUID()), null);
});

Deno.test("openJobStore(':memory:') gives a private in-memory store", async () => {
  await using a = await openJobStore(":memory:", { pylon: "alpha" });
  await using b = await openJobStore(":memory:", { pylon: "alpha" });
  const { job } = await a.insert(newJob("alpha"));
  assert.deepEqual(await a.get(job.id), job);
  assert.equal(await b.get(job.id), null);
});
