import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { migrate, MIGRATIONS } from "../../src/store/migrations.ts";
import { openJobStore, SCHEMA_VERSION, StoreError } from "../../src/store/mod.ts";
import { insertJob, tempStore } from "./_helpers.ts";

function rawQuery(path: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(path);
  try {
    return db.prepare(sql).all().map((r) => ({ ...r }));
  } finally {
    db.close();
  }
}

Deno.test("openJobStore() creates the folder, the schema and WAL mode from nothing", async () => {
  await using t = await tempStore("fresh");
  assert.equal((await Deno.stat(t.path)).isFile, true);
  assert.deepEqual(rawQuery(t.path, "SELECT version FROM schema_version"), [
    { version: SCHEMA_VERSION },
  ]);
  assert.deepEqual(rawQuery(t.path, "PRAGMA journal_mode"), [{ journal_mode: "wal" }]);
  const indexes = (rawQuery(
    t.path,
    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' ORDER BY name",
  )).map((r) => r.name);
  for (const name of ["jobs_created", "jobs_delivery", "jobs_status_queued"]) {
    assert.ok(indexes.includes(name), `missing index ${name}: ${indexes.join(", ")}`);
  }
});

Deno.test("openJobStore() reopens an existing file without migrating it again", async () => {
  await using t = await tempStore("again");
  const job = await insertJob(t.store);
  for (let i = 0; i < 3; i++) {
    await using again = await openJobStore(t.path, { pylon: "again" });
    assert.deepEqual(await again.get(job.id), job);
  }
  assert.deepEqual(rawQuery(t.path, "SELECT count(*) AS n FROM schema_version"), [{ n: 1 }]);
  assert.deepEqual(rawQuery(t.path, "SELECT version FROM schema_version"), [
    { version: SCHEMA_VERSION },
  ]);
});

Deno.test("openJobStore() refuses a file written by a newer pylon", async () => {
  await using t = await tempStore("newer");
  await t.store.close();
  const db = new DatabaseSync(t.path);
  db.exec(`UPDATE schema_version SET version = ${SCHEMA_VERSION + 1}`);
  db.close();
  const error = await openJobStore(t.path, { pylon: "newer" }).then(
    () => assert.fail("expected a StoreError"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof StoreError);
  assert.equal(error.dbPath, t.path);
  assert.match(error.message, /was written by a newer pylon/);
  assert.match(error.message, /upgrade pylon$/);
  assert.ok(error.hint);
});

Deno.test("migrate() applies each later step once, with its version bump", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pylon-migrate-" });
  const path = join(dir, "m.db");
  const db = new DatabaseSync(path);
  try {
    const steps = [["CREATE TABLE a (x INTEGER)"], ["CREATE TABLE b (y INTEGER)"]];
    migrate(db, path, steps.slice(0, 1));
    migrate(db, path, steps);
    migrate(db, path, steps);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all();
    assert.deepEqual(tables.map((r) => r.name), ["a", "b", "schema_version"]);
    assert.equal(db.prepare("SELECT version FROM schema_version").get()?.version, 2);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migrate() leaves the version alone when a step fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pylon-migrate-" });
  const path = join(dir, "m.db");
  const db = new DatabaseSync(path);
  try {
    const steps = [["CREATE TABLE a (x INTEGER)"], ["CREATE TABLE c (z INTEGER)", "NOT SQL"]];
    assert.throws(() => migrate(db, path, steps), (e: unknown) => {
      assert.ok(e instanceof StoreError);
      assert.match(e.message, /^Cannot migrate the job database in /);
      assert.equal(e.dbPath, path);
      return true;
    });
    assert.equal(db.prepare("SELECT version FROM schema_version").get()?.version, 1);
    const c = db.prepare("SELECT name FROM sqlite_master WHERE name = 'c'").all();
    assert.equal(c.length, 0, "the failed step's first statement was rolled back");
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a version-5 file gains body_digest; its jobs read back with bodyDigest null", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pylon-migrate-" });
  const path = join(dir, "jobs.db");
  try {
    const db = new DatabaseSync(path);
    migrate(db, path, MIGRATIONS.slice(0, 5));
    db.prepare(
      `INSERT INTO jobs (id, pylon, status, trigger_kind, delivery_id, payload, created_at)
        VALUES (?, 'alpha', 'completed', 'webhook', 'x-github-delivery:1', '{}', 1)`,
    ).run("0000aaaa-0000-4000-8000-000000000001");
    db.close();
    const store = await openJobStore(path, { pylon: "alpha" });
    try {
      const job = await store.findByDeliveryId("x-github-delivery:1");
      assert.equal(job?.bodyDigest, null);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a version-7 file gains the usage columns; old jobs read back with usage null", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pylon-migrate-" });
  const path = join(dir, "jobs.db");
  try {
    const db = new DatabaseSync(path);
    migrate(db, path, MIGRATIONS.slice(0, 7));
    db.prepare(
      `INSERT INTO jobs (id, pylon, status, trigger_kind, payload, created_at, finished_at)
        VALUES (?, 'alpha', 'completed', 'webhook', '{}', 1, 2)`,
    ).run("0000aaaa-0000-4000-8000-000000000007");
    db.close();
    const store = await openJobStore(path, { pylon: "alpha" });
    try {
      const id = "0000aaaa-0000-4000-8000-000000000007";
      assert.equal((await store.get(id))?.usage, null);
      assert.equal(await store.usageTotals(), null);
      const usage = {
        costUsd: 0.42,
        costBasis: "oauth" as const,
        inputTokens: 10,
        outputTokens: 5,
        cacheReadTokens: 100,
        cacheCreationTokens: 20,
        numTurns: 3,
        durationApiMs: 1234,
        models: ["claude-sonnet-4-5", "claude-haiku-4-5"],
      };
      assert.deepEqual((await store.update(id, { usage }))?.usage, usage);
      assert.deepEqual((await store.get(id))?.usage, usage);
      assert.deepEqual(await store.usageTotals(), { ...usage, models: [] });
      const [record] = await store.usageSince(null);
      assert.deepEqual(record, { id, pylon: "alpha", parentId: null, at: new Date(2), usage });
      assert.deepEqual(await store.usageSince(new Date(3)), []);
    } finally {
      await store.close();
    }
    assert.deepEqual(rawQuery(path, "SELECT version FROM schema_version"), [{
      version: SCHEMA_VERSION,
    }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
