import assert from "node:assert/strict";
import { cronDeliveryId, dueRuns } from "../../src/daemon/scheduler.ts";

Deno.test("dueRuns() lists every scheduled time in (since, now] in each pylon's zone", () => {
  const entries = [
    { name: "hourly", cron: "0 * * * *", timezone: "UTC" },
    { name: "berlin9", cron: "0 9 * * *", timezone: "Europe/Berlin" },
  ];
  const due = dueRuns(entries, new Date("2026-11-24T06:30:00Z"), new Date("2026-11-24T08:00:00Z"));
  assert.deepEqual(due.map((d) => [d.pylon, d.at.toISOString()]), [
    ["hourly", "2026-11-24T07:00:00.000Z"],
    ["hourly", "2026-11-24T08:00:00.000Z"],
    ["berlin9", "2026-11-24T08:00:00.000Z"],
  ]);
});

Deno.test("dueRuns() is empty when nothing was scheduled and never repeats the start", () => {
  const entries = [{ name: "m", cron: "*/15 * * * *", timezone: "UTC" }];
  const at = new Date("2026-11-24T10:15:00Z");
  assert.deepEqual(dueRuns(entries, at, at), []);
  assert.equal(dueRuns(entries, at, new Date("2026-11-24T10:29:59Z")).length, 0);
  assert.equal(dueRuns(entries, at, new Date("2026-11-24T10:30:00Z")).length, 1);
});

Deno.test("cronDeliveryId() names the scheduled instant, so a minute fires once", () => {
  assert.equal(cronDeliveryId(new Date("2026-11-24T09:00:00Z")), "cron:2026-11-24T09:00:00.000Z");
});

import {
  createPylonPaths,
  globalConfigSchema,
  pylonConfigSchema,
  resolvePylon,
} from "../../src/config/mod.ts";
import { CronScheduler } from "../../src/daemon/scheduler.ts";
import type { ActivePylon } from "../../src/daemon/pylon_table.ts";
import { createLogger } from "../../src/log/mod.ts";
import { Dispatcher } from "../../src/queue/mod.ts";
import { createStoreRegistry } from "../../src/store/mod.ts";

function cronPylon(name: string, cron: string, timezone: string, catchUp = false): ActivePylon {
  const config = pylonConfigSchema.parse({
    name,
    trigger: { type: "cron", cron, timezone, catch_up: catchUp },
    agent: { prompt: "audit" },
  });
  const resolved = resolvePylon(config, globalConfigSchema.parse({}), {
    env: {},
    systemTimezone: "UTC",
  });
  return { name, loaded: { name, config, env: {} }, resolved, verifier: undefined };
}

Deno.test("CronScheduler fires each scheduled minute once, even when a second scheduler replays it", async () => {
  const root = await Deno.makeTempDir();
  const stores = createStoreRegistry(createPylonPaths(root));
  let now = new Date("2026-11-24T07:59:30Z");
  const clock = { now: () => now };
  const logs: string[] = [];
  const log = createLogger({ write: (l) => logs.push(l) });
  try {
    await stores.open("audit");
    const pylons = [
      cronPylon("audit", "0 9 * * *", "Europe/Berlin"),
      cronPylon("audit", "0 9 * * *", "Europe/Berlin"),
    ];
    const dispatcher = new Dispatcher({
      stores,
      runner: undefined,
      pylonOf: () => undefined,
      maxConcurrent: () => 1,
      log,
      clock,
    });
    const deps = {
      cronPylons: () => [pylons[0]!],
      stores,
      dispatcher,
      log,
      clock,
      newJobId: () => crypto.randomUUID(),
    };
    const a = new CronScheduler(deps);
    const b = new CronScheduler(deps); // e.g. the scheduler after a hot reload, same window
    now = new Date("2026-11-24T08:00:00Z"); // 09:00 in Berlin
    await a.tick();
    await b.tick();
    const jobs = await stores.get("audit")!.list({});
    assert.equal(jobs.length, 1, "one job for 09:00 Berlin");
    assert.equal(jobs[0]!.trigger, "cron");
    assert.equal(jobs[0]!.deliveryId, "cron:2026-11-24T08:00:00.000Z");
    assert.deepEqual(jobs[0]!.payload, {
      pylon: "audit",
      scheduled_at: "2026-11-24T08:00:00.000Z",
    });

    // Down for three days: the misses are reported; with catch_up the latest runs once.
    now = new Date("2026-11-27T12:00:00Z");
    await new CronScheduler(deps).catchUp();
    assert.ok(
      logs.some((l) =>
        /event=cron\.missed pylon=audit missed=3 latest=2026-11-27T08:00:00.000Z/.test(l)
      ),
    );
    assert.equal((await stores.get("audit")!.list({})).length, 1);
    pylons[0] = cronPylon("audit", "0 9 * * *", "Europe/Berlin", true);
    await new CronScheduler(deps).catchUp();
    const after = await stores.get("audit")!.list({});
    assert.equal(after.length, 2);
    assert.equal(after[0]!.deliveryId, "cron:2026-11-27T08:00:00.000Z");
  } finally {
    await stores.closeAll();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("CronScheduler runs a pylon first at the first minute strictly after it became active", async (t) => {
  const root = await Deno.makeTempDir();
  const stores = createStoreRegistry(createPylonPaths(root));
  let now = new Date("2026-11-24T17:00:30Z");
  const clock = { now: () => now };
  const log = createLogger({ write: () => {} });
  const pylons: ActivePylon[] = [cronPylon("hourly", "0 * * * *", "UTC")];
  const dispatcher = new Dispatcher({
    stores,
    runner: undefined,
    pylonOf: () => undefined,
    maxConcurrent: () => 1,
    log,
    clock,
  });
  const scheduler = new CronScheduler({
    cronPylons: () => [...pylons],
    stores,
    dispatcher,
    log,
    clock,
    newJobId: () => crypto.randomUUID(),
  });
  const fired = async (name: string) =>
    (await stores.get(name)!.list({ limit: 100 })).map((j) => j.deliveryId).reverse();
  try {
    await stores.open("hourly");
    await stores.open("minutely");
    now = new Date("2026-11-24T17:44:50Z");
    await scheduler.tick(); // the last check before the pylon appears

    await t.step("a hot-added pylon skips the minutes before it was added", async () => {
      now = new Date("2026-11-24T17:46:17Z");
      pylons.push(cronPylon("minutely", "* * * * *", "UTC"));
      scheduler.refresh();
      now = new Date("2026-11-24T17:47:00.005Z");
      await scheduler.tick();
      assert.deepEqual(await fired("minutely"), ["cron:2026-11-24T17:47:00.000Z"]);
    });

    await t.step("a changed cron expression starts afresh from the reload", async () => {
      now = new Date("2026-11-24T17:47:20Z");
      pylons[0] = cronPylon("hourly", "* * * * *", "UTC");
      scheduler.refresh();
      now = new Date("2026-11-24T17:48:00.005Z");
      await scheduler.tick();
      assert.deepEqual(await fired("hourly"), ["cron:2026-11-24T17:48:00.000Z"]);
      assert.equal((await fired("minutely")).length, 2, "the other pylon ran at 17:48 too");
    });

    await t.step("a re-enabled pylon skips the minutes it was disabled", async () => {
      now = new Date("2026-11-24T17:48:10Z");
      pylons.splice(1, 1); // disabled
      scheduler.refresh();
      now = new Date("2026-11-24T17:50:20Z");
      pylons.push(cronPylon("minutely", "* * * * *", "UTC")); // enabled again
      scheduler.refresh();
      now = new Date("2026-11-24T17:51:00.005Z");
      await scheduler.tick();
      assert.deepEqual((await fired("minutely")).slice(2), ["cron:2026-11-24T17:51:00.000Z"]);
    });

    await t.step(
      "an unchanged reload keeps the schedule, and a late check catches up",
      async () => {
        now = new Date("2026-11-24T17:51:30Z");
        pylons[1] = cronPylon("minutely", "* * * * *", "UTC"); // e.g. only the prompt changed
        scheduler.refresh();
        now = new Date("2026-11-24T17:53:00.005Z");
        await scheduler.tick();
        assert.deepEqual((await fired("minutely")).slice(3), [
          "cron:2026-11-24T17:52:00.000Z",
          "cron:2026-11-24T17:53:00.000Z",
        ]);
      },
    );
  } finally {
    await scheduler.stop();
    await stores.closeAll();
    await Deno.remove(root, { recursive: true });
  }
});
