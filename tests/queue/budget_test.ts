import assert from "node:assert/strict";
import {
  type Budget,
  createPylonPaths,
  globalConfigSchema,
  pylonConfigSchema,
  type ResolvedPylon,
  resolvePylon,
} from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { approveJob, budgetWindow, Dispatcher, RUN_ANYWAY } from "../../src/queue/mod.ts";
import {
  createStoreRegistry,
  type JobStore,
  type JobUsage,
  type StoreRegistry,
} from "../../src/store/mod.ts";
import { eventually } from "../_helpers/daemon.ts";
import { createScriptedRunner, type ScriptedRunner } from "../fakes/runner_fake.ts";

function pylonNamed(name: string, extra: Record<string, unknown> = {}): ResolvedPylon {
  return resolvePylon(
    pylonConfigSchema.parse({
      name,
      trigger: { type: "webhook", path: `/${name}` },
      agent: { prompt: "go" },
      ...extra,
    }),
    globalConfigSchema.parse({}),
    { env: {}, systemTimezone: "UTC" },
  );
}

function usage(costUsd: number): JobUsage {
  return {
    costUsd,
    costBasis: "api",
    inputTokens: 100,
    outputTokens: 10,
    cacheReadTokens: null,
    cacheCreationTokens: null,
    numTurns: 2,
    durationApiMs: null,
    models: [],
  };
}

interface World {
  root: string;
  stores: StoreRegistry;
  runner: ScriptedRunner;
  dispatcher: Dispatcher;
  clock: { at: Date; now(): Date };
  [Symbol.asyncDispose](): Promise<void>;
}

async function world(
  pylons: ResolvedPylon[],
  opts: { global?: Budget; maxConcurrent?: number } = {},
): Promise<World> {
  const root = await Deno.makeTempDir();
  const clock = {
    at: new Date("2026-03-10T12:00:00Z"),
    now() {
      return this.at;
    },
  };
  const stores = createStoreRegistry(createPylonPaths(root), { clock });
  for (const p of pylons) await stores.open(p.name);
  const runner = createScriptedRunner();
  const dispatcher = new Dispatcher({
    stores,
    runner,
    pylonOf: (name) => pylons.find((p) => p.name === name),
    maxConcurrent: () => opts.maxConcurrent ?? 1,
    globalBudget: () => opts.global,
    log: createLogger({ write: () => {} }),
    clock,
  });
  return {
    root,
    stores,
    runner,
    dispatcher,
    clock,
    async [Symbol.asyncDispose]() {
      dispatcher.stop();
      runner.release();
      await eventually(() => Promise.resolve(dispatcher.runningCount === 0));
      await stores.closeAll();
      await Deno.remove(root, { recursive: true });
    },
  };
}

async function queue(store: JobStore, trigger: "webhook" | "cron" = "webhook"): Promise<string> {
  const id = crypto.randomUUID();
  await store.insert({
    id,
    pylon: store.pylon,
    status: "queued",
    trigger,
    payload: {},
    headers: {},
  });
  return id;
}

/** A finished job that spent `usd` (now, by the store's clock). */
async function spent(store: JobStore, usd: number): Promise<void> {
  const id = await queue(store);
  await store.transition(id, "queued", "running");
  await store.transition(id, "running", "completed", { usage: usage(usd) });
}

async function statusOf(store: JobStore, id: string): Promise<string | undefined> {
  return (await store.get(id))?.status;
}

const DAILY_1: Record<string, unknown> = { budget: { daily_usd: 1, timezone: "UTC" } };

Deno.test("budgetWindow() follows the budget's zone for days and months", () => {
  const now = new Date("2026-03-10T23:30:00Z");
  assert.deepEqual(budgetWindow(now, "UTC", "day"), {
    start: new Date("2026-03-10T00:00:00Z"),
    end: new Date("2026-03-11T00:00:00Z"),
  });
  // 00:30 on the 11th in Berlin (UTC+1 in March before DST).
  assert.deepEqual(budgetWindow(now, "Europe/Berlin", "day"), {
    start: new Date("2026-03-10T23:00:00Z"),
    end: new Date("2026-03-11T23:00:00Z"),
  });
  assert.deepEqual(budgetWindow(now, "UTC", "month"), {
    start: new Date("2026-03-01T00:00:00Z"),
    end: new Date("2026-04-01T00:00:00Z"),
  });
});

Deno.test("Dispatcher holds a job over its pylon's daily budget; approve runs it once; the next day releases the rest", async () => {
  await using w = await world([pylonNamed("work", DAILY_1)]);
  const store = w.stores.get("work")!;
  await spent(store, 1.2);
  const a = await queue(store);
  const b = await queue(store);
  w.dispatcher.wake();
  await eventually(async () => (await statusOf(store, b)) === "held");
  assert.equal(await statusOf(store, a), "held");
  const held = (await store.get(a))!;
  assert.match(held.error ?? "", /daily budget of \$1\.00 reached: \$1\.20 spent/);
  assert.equal(w.runner.ran.length, 0);
  assert.equal(await store.countQueued(), 2, "held jobs count toward max_queue");
  // The history keeps the reason.
  const history = await store.history(a);
  assert.equal(history.at(-1)?.status, "held");
  assert.match(history.at(-1)?.reason ?? "", /daily budget/);

  // pylon approve: runs anyway, once.
  const approved = await approveJob(store, held);
  assert.equal(approved?.error, RUN_ANYWAY);
  w.dispatcher.wake();
  await eventually(async () => (await statusOf(store, a)) === "completed");
  await w.dispatcher.settled();
  assert.equal(await statusOf(store, b), "held", "the approval released only that job");

  // The next day (UTC) the window resets: the rest start.
  w.clock.at = new Date("2026-03-11T00:00:01Z");
  w.dispatcher.wake();
  await eventually(async () => (await statusOf(store, b)) === "completed");
  assert.deepEqual(w.runner.ran.map((j) => j.id), [a, b]);
});

Deno.test("Dispatcher starts held jobs after a reset only while under the cap", async () => {
  await using w = await world([pylonNamed("work", DAILY_1)], { maxConcurrent: 5 });
  const store = w.stores.get("work")!;
  await spent(store, 1);
  const ids = [await queue(store), await queue(store), await queue(store)];
  w.dispatcher.wake();
  await eventually(async () => (await statusOf(store, ids[2]!)) === "held");
  w.runner.hold();
  w.clock.at = new Date("2026-03-11T08:00:00Z");
  w.dispatcher.wake();
  // The first one starts and reserves the average cost of the last jobs ($1): the cap.
  await eventually(async () => (await statusOf(store, ids[0]!)) === "running");
  await w.dispatcher.settled();
  assert.equal(await statusOf(store, ids[1]!), "held");
  assert.equal(await statusOf(store, ids[2]!), "held");
  assert.equal(w.runner.ran.length, 1);
});

Deno.test("Dispatcher: a running job's reservation keeps ten jobs from starting at $19.90 of $20", async () => {
  const capped = pylonNamed("work", {
    budget: { daily_usd: 20, timezone: "UTC" },
    agent: { prompt: "go", max_cost_usd: 0.5 },
  });
  await using w = await world([capped], { maxConcurrent: 10 });
  const store = w.stores.get("work")!;
  await spent(store, 19.9);
  w.runner.hold();
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) ids.push(await queue(store));
  w.dispatcher.wake();
  await eventually(async () => (await statusOf(store, ids[9]!)) === "held");
  await w.dispatcher.settled();
  const statuses = await Promise.all(ids.map((id) => statusOf(store, id)));
  assert.deepEqual(statuses, ["running", ...Array(9).fill("held")]);
  assert.match((await store.get(ids[1]!))!.error ?? "", /\$0\.50 reserved by 1 running job/);
});

Deno.test("Dispatcher holds jobs of two pylons at the cap on all pylons together", async () => {
  const global: Budget = {
    dailyUsd: 2,
    monthlyUsd: undefined,
    dailyTokens: undefined,
    timezone: "UTC",
  };
  await using w = await world([pylonNamed("a"), pylonNamed("b")], { global, maxConcurrent: 5 });
  const a = w.stores.get("a")!, b = w.stores.get("b")!;
  await spent(a, 1.5);
  await spent(b, 0.6);
  const ja = await queue(a);
  const jb = await queue(b);
  w.dispatcher.wake();
  await eventually(async () => (await statusOf(b, jb)) === "held");
  assert.equal(await statusOf(a, ja), "held");
  assert.match((await a.get(ja))!.error ?? "", /all pylons' daily budget of \$2\.00 reached/);
});

Deno.test("Dispatcher records a cron run over budget as skipped instead of holding it", async () => {
  await using w = await world([pylonNamed("work", DAILY_1)]);
  const store = w.stores.get("work")!;
  await spent(store, 1);
  const id = await queue(store, "cron");
  w.dispatcher.wake();
  await eventually(async () => (await statusOf(store, id)) === "dismissed");
  assert.match((await store.get(id))!.error ?? "", /^skipped: over budget/);
});

Deno.test("Dispatcher holds at a daily token budget (for oauth, where dollars are not paid)", async () => {
  await using w = await world([pylonNamed("work", { budget: { daily_tokens: 200 } })]);
  const store = w.stores.get("work")!;
  await spent(store, 0.01);
  await spent(store, 0.01); // 110 tokens each
  const id = await queue(store);
  w.dispatcher.wake();
  await eventually(async () => (await statusOf(store, id)) === "held");
  assert.match(
    (await store.get(id))!.error ?? "",
    /^daily token budget of 200 tokens reached: 220 tokens spent/,
  );
  w.clock.at = new Date("2026-03-11T00:00:01Z");
  w.dispatcher.wake();
  await eventually(async () => (await statusOf(store, id)) === "completed");
});

Deno.test("Dispatcher holds at a monthly budget spent over several days until the month turns", async () => {
  await using w = await world([
    pylonNamed("work", { budget: { monthly_usd: 3, timezone: "UTC" } }),
  ]);
  const store = w.stores.get("work")!;
  w.clock.at = new Date("2026-03-02T09:00:00Z");
  await spent(store, 2);
  w.clock.at = new Date("2026-03-20T09:00:00Z");
  await spent(store, 1.5);
  const id = await queue(store);
  w.dispatcher.wake();
  await eventually(async () => (await statusOf(store, id)) === "held");
  assert.match((await store.get(id))!.error ?? "", /^monthly budget of \$3\.00 reached: \$3\.50/);
  w.clock.at = new Date("2026-03-31T23:59:00Z");
  w.dispatcher.wake();
  await w.dispatcher.settled();
  assert.equal(await statusOf(store, id), "held", "still March");
  w.clock.at = new Date("2026-04-01T00:00:01Z");
  w.dispatcher.wake();
  await eventually(async () => (await statusOf(store, id)) === "completed");
});

Deno.test("defaults.budget is each pylon's budget, field by field, in the pylon's zone", () => {
  const global = globalConfigSchema.parse({
    defaults: { timezone: "Europe/Berlin", budget: { daily_usd: 5, daily_tokens: 1000 } },
  });
  const resolve = (extra: Record<string, unknown>) =>
    resolvePylon(
      pylonConfigSchema.parse({
        name: "p",
        agent: { prompt: "go" },
        ...extra,
        trigger: { type: "webhook", path: "/p", ...(extra.trigger as object | undefined) },
      }),
      global,
      { env: {}, systemTimezone: "UTC" },
    ).budget;
  assert.deepEqual(resolve({}), {
    dailyUsd: 5,
    monthlyUsd: undefined,
    dailyTokens: 1000,
    timezone: "Europe/Berlin",
  });
  assert.deepEqual(
    resolve({
      budget: { daily_usd: 1, monthly_usd: 20 },
      trigger: { timezone: "Asia/Tokyo" },
    }),
    {
      dailyUsd: 1,
      monthlyUsd: 20,
      dailyTokens: 1000,
      timezone: "Asia/Tokyo",
    },
  );
});
