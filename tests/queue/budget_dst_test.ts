/**
 * Budget windows across daylight-saving changes: a daily budget resets at local midnight on both
 * sides of the change, on the 23-hour and the 25-hour day (Europe/Berlin, last Sundays of March
 * and October 2026), and where the change skips midnight itself (America/Santiago, first Sunday
 * of September 2026: 00:00 → 01:00). The Dispatcher runs on an injected clock and real SQLite
 * stores.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  createPylonPaths,
  globalConfigSchema,
  pylonConfigSchema,
  type ResolvedPylon,
  resolvePylon,
} from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { budgetWindow, Dispatcher } from "../../src/queue/mod.ts";
import { createStoreRegistry, type JobStore } from "../../src/store/mod.ts";
import { eventually } from "../_helpers/daemon.ts";
import { createScriptedRunner } from "../fakes/runner_fake.ts";

const iso = (w: { start: Date; end: Date }) => [w.start.toISOString(), w.end.toISOString()];

Deno.test("budgetWindow(): Berlin's days around both DST changes start at local midnight", () => {
  const day = (at: string) => iso(budgetWindow(new Date(at), "Europe/Berlin", "day"));
  // Saturday 28 March, 23:30 CET: the day before the change (24 h).
  assert.deepEqual(day("2026-03-28T22:30:00Z"), [
    "2026-03-27T23:00:00.000Z",
    "2026-03-28T23:00:00.000Z",
  ]);
  // Sunday 29 March (02:00 CET → 03:00 CEST): 23 hours, before and after the jump.
  for (const at of ["2026-03-28T23:00:00Z", "2026-03-29T00:59:59Z", "2026-03-29T21:59:59Z"]) {
    assert.deepEqual(day(at), ["2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z"], at);
  }
  // Monday 30 March, CEST.
  assert.deepEqual(day("2026-03-29T22:00:00Z"), [
    "2026-03-29T22:00:00.000Z",
    "2026-03-30T22:00:00.000Z",
  ]);
  // Sunday 25 October (03:00 CEST → 02:00 CET): 25 hours.
  for (const at of ["2026-10-24T22:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T22:59:59Z"]) {
    assert.deepEqual(day(at), ["2026-10-24T22:00:00.000Z", "2026-10-25T23:00:00.000Z"], at);
  }
  assert.deepEqual(day("2026-10-25T23:00:00Z"), [
    "2026-10-25T23:00:00.000Z",
    "2026-10-26T23:00:00.000Z",
  ]);
  // The month of March ends at midnight CEST.
  assert.deepEqual(iso(budgetWindow(new Date("2026-03-15T12:00:00Z"), "Europe/Berlin", "month")), [
    "2026-02-28T23:00:00.000Z",
    "2026-03-31T22:00:00.000Z",
  ]);
});

Deno.test("budgetWindow(): where DST skips midnight, the day starts when the clocks jump", () => {
  const day = (at: string) => iso(budgetWindow(new Date(at), "America/Santiago", "day"));
  // Saturday 5 September, 23:30 -04: still Saturday (the old code counted it into Sunday).
  assert.deepEqual(day("2026-09-06T03:30:00Z"), [
    "2026-09-05T04:00:00.000Z",
    "2026-09-06T04:00:00.000Z",
  ]);
  // Sunday 6 September begins at 01:00 -03 (00:00 does not exist): 23 hours.
  assert.deepEqual(day("2026-09-06T04:00:00Z"), [
    "2026-09-06T04:00:00.000Z",
    "2026-09-07T03:00:00.000Z",
  ]);
  // Sunday 5 April (24:00 -03 → 23:00 -04): Saturday lasts 25 hours.
  assert.deepEqual(day("2026-04-05T03:30:00Z"), [
    "2026-04-04T03:00:00.000Z",
    "2026-04-05T04:00:00.000Z",
  ]);
});

function berlinPylon(): ResolvedPylon {
  return resolvePylon(
    pylonConfigSchema.parse({
      name: "work",
      trigger: { type: "webhook", path: "/work" },
      agent: { prompt: "go" },
      budget: { "daily_usd": 1, timezone: "Europe/Berlin" },
    }),
    globalConfigSchema.parse({}),
    { env: {}, systemTimezone: "UTC" },
  );
}

async function queue(store: JobStore): Promise<string> {
  const id = crypto.randomUUID();
  await store.insert({
    id,
    pylon: store.pylon,
    status: "queued",
    trigger: "webhook",
    payload: {},
    headers: {},
  });
  return id;
}

/** A finished job that spent $1 (at the store's clock). */
async function spendDollar(store: JobStore): Promise<void> {
  const id = await queue(store);
  await store.transition(id, "queued", "running");
  await store.transition(id, "running", "completed", {
    usage: {
      costUsd: 1,
      costBasis: "api",
      inputTokens: 100,
      outputTokens: 10,
      cacheReadTokens: null,
      cacheCreationTokens: null,
      numTurns: 1,
      durationApiMs: null,
      models: [],
    },
  });
}

/**
 * Spends the $1 budget at `spendAt`, queues a job (held), and checks it is still held at
 * `stillHeldAt` and runs at `runsAt` (the next local midnight).
 */
async function heldUntilLocalMidnight(spendAt: string, stillHeldAt: string, runsAt: string) {
  const root = await Deno.makeTempDir({ prefix: "pylon-dst-" });
  const clock = { at: new Date(spendAt), now: () => clock.at };
  const stores = createStoreRegistry(createPylonPaths(root), { clock });
  const pylon = berlinPylon();
  const store = await stores.open("work");
  const runner = createScriptedRunner();
  const dispatcher = new Dispatcher({
    stores,
    runner,
    pylonOf: (name) => (name === "work" ? pylon : undefined),
    maxConcurrent: () => 1,
    globalBudget: () => undefined,
    log: createLogger({ write: () => {} }),
    clock,
  });
  try {
    await spendDollar(store);
    const id = await queue(store);
    dispatcher.wake();
    await eventually(async () => (await store.get(id))?.status === "held");
    assert.match((await store.get(id))?.error ?? "", /daily budget of \$1\.00 reached/);

    clock.at = new Date(stillHeldAt);
    dispatcher.wake();
    await dispatcher.settled();
    assert.equal((await store.get(id))?.status, "held", `still held at ${stillHeldAt}`);
    assert.equal(runner.ran.length, 0);

    clock.at = new Date(runsAt);
    dispatcher.wake();
    await eventually(async () => (await store.get(id))?.status === "completed");
    assert.deepEqual(runner.ran.map((j) => j.id), [id]);
  } finally {
    dispatcher.stop();
    runner.release();
    await eventually(() => Promise.resolve(dispatcher.runningCount === 0));
    await stores.closeAll();
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("Dispatcher: a Berlin daily budget spent just before the March change resets at 00:00 CET", async () => {
  // Spent Saturday 23:30 CET; still held at 23:59:59; released at 00:00:01 Sunday.
  await heldUntilLocalMidnight(
    "2026-03-28T22:30:00Z",
    "2026-03-28T22:59:59Z",
    "2026-03-28T23:00:01Z",
  );
});

Deno.test("Dispatcher: on the 23-hour March Sunday the budget resets at 00:00 CEST, 23 h later", async () => {
  // Spent Sunday 00:30 CET; at 23:30 CEST still Sunday; a 24-hour window would end an hour late.
  await heldUntilLocalMidnight(
    "2026-03-28T23:30:00Z",
    "2026-03-29T21:30:00Z",
    "2026-03-29T22:00:01Z",
  );
});

Deno.test("Dispatcher: on the 25-hour October Sunday the budget resets at 00:00 CET, not after 24 h", async () => {
  // Spent Sunday 00:30 CEST; 24 hours later it is 23:30 CET, still Sunday: held.
  await heldUntilLocalMidnight(
    "2026-10-24T22:30:00Z",
    "2026-10-25T22:30:00Z",
    "2026-10-25T23:00:01Z",
  );
});
