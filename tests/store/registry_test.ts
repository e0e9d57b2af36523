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

Deno.test("StoreRegistry.listAcross() limits in all and pages with one cursor", async (t) => {
  await using r = await tempRegistry();
  const alpha = await r.registry.open("alpha");
  const beta = await r.registry.open("beta");
  const gamma = await r.registry.open("gamma");
  // Newest first: b3 | (same ms) a2 b2 g1 g2 | a1 b1; same-ms ties go by pylon, then insertion.
  const a1 = await insertJob(alpha);
  const b1 = await insertJob(beta);
  r.clock.advance(1_000);
  const g1 = await insertJob(gamma);
  const b2 = await insertJob(beta);
  const a2 = await insertJob(alpha);
  const g2 = await insertJob(gamma);
  r.clock.advance(1_000);
  const b3 = await insertJob(beta);
  const order = [b3, a2, b2, g2, g1, b1, a1].map((j) => j.id);
  // a1 and b1 share a millisecond too: alpha first.
  order.splice(5, 2, a1.id, b1.id);

  await t.step("limit counts across pylons, newest first", async () => {
    const page = await r.registry.listAcross({ limit: 3 });
    assert.deepEqual(page.map((j) => j.id), order.slice(0, 3));
    assert.deepEqual((await r.registry.listAcross({})).map((j) => j.id), order);
  });
  await t.step("before pages through every job exactly once, whatever the page size", async () => {
    for (const size of [1, 2, 3, 4]) {
      const seen: string[] = [];
      let before: string | undefined;
      for (;;) {
        const page = await r.registry.listAcross({ limit: size, before });
        seen.push(...page.map((j) => j.id));
        if (page.length < size) break;
        before = page.at(-1)!.id;
      }
      assert.deepEqual(seen, order, `pages of ${size}`);
    }
  });
  await t.step("pylon and status filter; the cursor may be a prefix", async () => {
    await beta.transition(b2.id, "queued", "running");
    const one = await r.registry.listAcross({ pylon: "beta", before: b3.id.slice(0, 12) });
    assert.deepEqual(one.map((j) => j.id), [b2.id, b1.id]);
    const running = await r.registry.listAcross({ status: ["running"] });
    assert.deepEqual(running.map((j) => j.id), [b2.id]);
  });
  await t.step("an unknown cursor is JobNotFoundError", async () => {
    await assert.rejects(r.registry.listAcross({ before: "ffffffff" }), JobNotFoundError);
  });
});
