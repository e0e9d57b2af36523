import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { PylonError, UsageError } from "../../src/errors.ts";
import {
  createStoreRegistry,
  JobNotFoundError,
  listJobDbNames,
  type StoreRegistry,
} from "../../src/store/mod.ts";
import { insertJob, ManualClock } from "./_helpers.ts";

/** A registry over a temp home; disposing closes every store and removes the home. */
async function tempRegistry(): Promise<
  { registry: StoreRegistry; clock: ManualClock; root: string } & AsyncDisposable
> {
  const root = await Deno.makeTempDir({ prefix: "pylon-registry-" });
  const clock = new ManualClock();
  const registry = createStoreRegistry(createPylonPaths(root), { clock });
  return {
    registry,
    clock,
    root,
    async [Symbol.asyncDispose]() {
      await registry.closeAll();
      await Deno.remove(root, { recursive: true });
    },
  };
}

Deno.test("StoreRegistry.open() returns one store per pylon, even when called concurrently", async () => {
  await using t = await tempRegistry();
  const [a, b] = await Promise.all([t.registry.open("alpha"), t.registry.open("alpha")]);
  assert.equal(a, b);
  assert.equal(await t.registry.open("alpha"), a);
  assert.equal(t.registry.get("alpha"), a);
  assert.equal(a.path, createPylonPaths(t.root).pylonDb("alpha"));
  await t.registry.open("beta");
  assert.deepEqual(t.registry.names(), ["alpha", "beta"]);
  assert.equal(t.registry.has("gamma"), false);
  assert.equal(t.registry.get("gamma"), undefined);
  await t.registry.close("alpha");
  assert.equal(t.registry.has("alpha"), false);
  assert.notEqual(await t.registry.open("alpha"), a);
});

Deno.test("StoreRegistry.open() refuses names that are not pylon names", async () => {
  await using t = await tempRegistry();
  await assert.rejects(t.registry.open("../escape"), UsageError);
  assert.deepEqual(t.registry.names(), []);
});

Deno.test("listJobDbNames() lists pylons that have a jobs.db and creates nothing", async () => {
  await using t = await tempRegistry();
  const paths = createPylonPaths(t.root);
  assert.deepEqual(await listJobDbNames(paths), []);
  await Deno.mkdir(paths.pylonDataDir("no-db"), { recursive: true });
  await t.registry.open("zeta");
  await t.registry.open("alpha");
  assert.deepEqual(await listJobDbNames(paths), ["alpha", "zeta"]);
  await assert.rejects(Deno.stat(paths.pylonDb("no-db")), Deno.errors.NotFound);
});

Deno.test("StoreRegistry.oldestQueuedAcross() is FIFO across pylons", async () => {
  await using t = await tempRegistry();
  const alpha = await t.registry.open("alpha");
  const beta = await t.registry.open("beta");
  assert.equal(await t.registry.oldestQueuedAcross(), null);
  const b1 = await insertJob(beta);
  t.clock.advance(5);
  const a1 = await insertJob(alpha);
  t.clock.advance(5);
  const b2 = await insertJob(beta);
  assert.equal(await t.registry.countQueuedAcross(), 3);

  const order: string[] = [];
  for (let job = await t.registry.oldestQueuedAcross(); job;) {
    order.push(job.id);
    const store = t.registry.get(job.pylon)!;
    await store.transition(job.id, "queued", "running");
    job = await t.registry.oldestQueuedAcross();
  }
  assert.deepEqual(order, [b1.id, a1.id, b2.id]);
  assert.equal(await t.registry.countQueuedAcross(), 0);
});

Deno.test("StoreRegistry.oldestQueuedAcross() breaks ties by pylon name", async () => {
  await using t = await tempRegistry();
  const zeta = await t.registry.open("zeta");
  const alpha = await t.registry.open("alpha");
  await insertJob(zeta);
  const a = await insertJob(alpha);
  assert.equal((await t.registry.oldestQueuedAcross())?.id, a.id);
});

Deno.test("StoreRegistry.findJob() finds a job by id or unique prefix in any pylon", async (t) => {
  await using r = await tempRegistry();
  const alpha = await r.registry.open("alpha");
  const beta = await r.registry.open("beta");
  const a = await insertJob(alpha, { id: "1a2b3c4d-0000-4000-8000-000000000001" });
  const b = await insertJob(beta, { id: "1a2b9999-0000-4000-8000-000000000002" });

  await t.step("full id and short id", async () => {
    assert.equal((await r.registry.findJob(a.id)).id, a.id);
    assert.equal((await r.registry.findJob("1a2b3c4d")).id, a.id);
    assert.equal((await r.registry.findJob("1A2B9")).pylon, "beta");
  });
  await t.step("no match is a JobNotFoundError with a hint", async () => {
    for (const wanted of ["ffffffff", ""]) {
      await assert.rejects(r.registry.findJob(wanted), (e: unknown) => {
        assert.ok(e instanceof JobNotFoundError);
        assert.equal(e.hint, "run `pylon jobs` to see job ids");
        return true;
      });
    }
  });
  await t.step("an ambiguous prefix names every match", async () => {
    await assert.rejects(r.registry.findJob("1a2b"), (e: unknown) => {
      assert.ok(e instanceof PylonError && !(e instanceof JobNotFoundError));
      assert.match(e.message, /ambiguous/);
      assert.ok(e.message.includes(a.id) && e.message.includes(b.id), e.message);
      return true;
    });
  });
});
