/** A job's chat threads (one per chat channel): replies in any of them find it. */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openJobStore } from "../../src/store/mod.ts";

async function tempDb(): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-threads-" });
  return {
    path: `${dir}/jobs.db`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

function newJob(id = crypto.randomUUID()) {
  return {
    id,
    pylon: "triage",
    status: "queued" as const,
    trigger: "webhook" as const,
    payload: {},
    headers: {},
  };
}

Deno.test("findByThreadKey() finds the newest job of any of its threads; pruning forgets them", async () => {
  await using db = await tempDb();
  let now = new Date("2026-11-01T10:00:00Z");
  const store = await openJobStore(db.path, { pylon: "triage", clock: { now: () => now } });
  try {
    const first = (await store.insert(newJob())).job;
    await store.addThreadKeys(first.id, ['telegram|{"topic":7}', 'slack|{"ts":"1.2"}']);
    await store.addThreadKeys(first.id, ['slack|{"ts":"1.2"}']); // twice is once
    assert.deepEqual(await store.threadKeys(first.id), [
      'slack|{"ts":"1.2"}',
      'telegram|{"topic":7}',
    ]);
    assert.equal((await store.findByThreadKey('slack|{"ts":"1.2"}'))?.id, first.id);
    assert.equal((await store.findByThreadKey('telegram|{"topic":7}'))?.id, first.id);
    assert.equal(await store.findByThreadKey('slack|{"ts":"9.9"}'), null);

    now = new Date("2026-11-01T10:05:00Z");
    const follow = (await store.insert(newJob())).job;
    await store.addThreadKeys(follow.id, await store.threadKeys(first.id));
    assert.equal((await store.findByThreadKey('telegram|{"topic":7}'))?.id, follow.id, "newest");

    for (const job of [first, follow]) {
      await store.transition(job.id, "queued", "running");
      await store.transition(job.id, "running", "completed");
    }
    now = new Date("2026-12-31T00:00:00Z");
    assert.equal((await store.prune(new Date("2026-12-01T00:00:00Z"))).length, 2);
    assert.deepEqual(await store.threadKeys(first.id), []);
    assert.equal(await store.findByThreadKey('telegram|{"topic":7}'), null);
  } finally {
    await store.close();
  }
});

Deno.test("the migration carries the thread of jobs announced by an earlier version", async () => {
  await using db = await tempDb();
  const store = await openJobStore(db.path, { pylon: "triage" });
  const job = (await store.insert(newJob())).job;
  await store.update(job.id, { threadKey: 'telegram|{"topic":3}' });
  await store.close();
  // Back to schema 4, before job_threads (and the later body_digest, job_events and usage
  // columns) existed.
  const raw = new DatabaseSync(db.path);
  const usageColumns = [
    "cost_usd",
    "cost_basis",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "num_turns",
    "duration_api_ms",
    "models",
  ].map((c) => `ALTER TABLE jobs DROP COLUMN ${c}; `).join("");
  raw.exec(
    "DROP TABLE tool_calls; DROP TABLE job_events; DROP TABLE job_threads; ALTER TABLE jobs DROP COLUMN body_digest; " +
      usageColumns + "UPDATE schema_version SET version = 4",
  );
  raw.close();
  const reopened = await openJobStore(db.path, { pylon: "triage" });
  try {
    assert.equal((await reopened.findByThreadKey('telegram|{"topic":3}'))?.id, job.id);
  } finally {
    await reopened.close();
  }
});
