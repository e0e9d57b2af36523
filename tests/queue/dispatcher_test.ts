import assert from "node:assert/strict";
import {
  createPylonPaths,
  globalConfigSchema,
  pylonConfigSchema,
  resolvePylon,
} from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { Dispatcher, type JobRunner } from "../../src/queue/mod.ts";
import { createStoreRegistry, type JobStore, type StoreRegistry } from "../../src/store/mod.ts";
import { eventually } from "../_helpers/daemon.ts";

const pylon = resolvePylon(
  pylonConfigSchema.parse({
    name: "work",
    trigger: { type: "webhook", path: "/work" },
    agent: { prompt: "go" },
  }),
  globalConfigSchema.parse({}),
  { env: {}, systemTimezone: "UTC" },
);

/** A store whose writes that finish a job fail while `full` is set (a full disk). */
function failFinalWrites(store: JobStore, full: { on: boolean }): void {
  const transition = store.transition.bind(store);
  store.transition = (id, from, to, patch) => {
    if (full.on && to !== "running") {
      return Promise.reject(new Error("database or disk is full"));
    }
    return transition(id, from, to, patch);
  };
}

async function setup(): Promise<{
  root: string;
  stores: StoreRegistry;
  store: JobStore;
  logs: string[];
  cleanups: string[];
  dispatcher: Dispatcher;
}> {
  const root = await Deno.makeTempDir();
  const stores = createStoreRegistry(createPylonPaths(root));
  const store = await stores.open("work");
  const logs: string[] = [];
  const cleanups: string[] = [];
  const runner: JobRunner = {
    run: (job) =>
      Promise.resolve({
        status: "completed",
        exitCode: 0,
        result: "done",
        cleanup: () => {
          cleanups.push(job.id);
          return Promise.resolve();
        },
      }),
  };
  const dispatcher = new Dispatcher({
    stores,
    runner,
    pylonOf: () => pylon,
    maxConcurrent: () => 1,
    log: createLogger({ write: (l) => logs.push(l) }),
    clock: { now: () => new Date() },
    recordRetryMs: [20],
  });
  return { root, stores, store, logs, cleanups, dispatcher };
}

async function queue(store: JobStore): Promise<string> {
  const id = crypto.randomUUID();
  await store.insert({
    id,
    pylon: "work",
    status: "queued",
    trigger: "webhook",
    payload: {},
    headers: {},
  });
  return id;
}

Deno.test("Dispatcher keeps a finished job's outcome and slot until the store records it", async () => {
  const { root, stores, store, logs, cleanups, dispatcher } = await setup();
  const full = { on: true };
  failFinalWrites(store, full);
  try {
    const first = await queue(store);
    const second = await queue(store);
    dispatcher.wake();
    await eventually(() =>
      Promise.resolve(logs.filter((l) => /job\.record_failed/.test(l)).length >= 3)
    );
    assert.equal((await store.get(first))!.status, "running");
    assert.ok(dispatcher.isRunning(first), "the slot stays taken");
    assert.equal((await store.get(second))!.status, "queued");
    assert.deepEqual(cleanups, [], "the runner keeps what holds the outcome");
    full.on = false;
    await eventually(async () => (await store.get(second))?.status === "completed");
    const done = (await store.get(first))!;
    assert.equal(done.status, "completed");
    assert.equal(done.result, "done");
    assert.equal(done.exitCode, 0);
    assert.deepEqual(cleanups, [first, second]);
    assert.ok(logs.some((l) => /event=job\.recorded .*attempts=/.test(l)));
  } finally {
    dispatcher.stop();
    await stores.closeAll();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Dispatcher.stop() leaves an unrecorded outcome for the next daemon", async () => {
  const { root, stores, store, logs, cleanups, dispatcher } = await setup();
  failFinalWrites(store, { on: true });
  try {
    const id = await queue(store);
    dispatcher.wake();
    await eventually(() => Promise.resolve(logs.some((l) => /job\.record_failed/.test(l))));
    dispatcher.stop();
    await eventually(() => Promise.resolve(!dispatcher.isRunning(id)));
    assert.ok(logs.some((l) => /event=job\.record_deferred/.test(l)));
    assert.equal((await store.get(id))!.status, "running");
    assert.deepEqual(cleanups, [], "the container stays for the next daemon to re-attach");
  } finally {
    await stores.closeAll();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Dispatcher.reattach() logs job.reattached and times the job from its real start", async () => {
  const root = await Deno.makeTempDir();
  const stores = createStoreRegistry(createPylonPaths(root));
  const store = await stores.open("work");
  const logs: string[] = [];
  const now = new Date("2026-11-24T10:00:21Z");
  const dispatcher = new Dispatcher({
    stores,
    runner: {
      run: () => Promise.reject(new Error("not a new run")),
      reattach: () => Promise.resolve({ status: "completed", exitCode: 0, result: "done" }),
    },
    pylonOf: () => pylon,
    maxConcurrent: () => 1,
    log: createLogger({ write: (l) => logs.push(l) }),
    clock: { now: () => now },
  });
  try {
    const id = await queue(store);
    // Started 21 s ago under an earlier daemon.
    const running = await store.transition(id, "queued", "running", {
      startedAt: new Date(now.getTime() - 21_000),
    });
    await dispatcher.reattach([running!]);
    await eventually(() => Promise.resolve(logs.some((l) => /event=job\.finished/.test(l))));
    assert.ok(logs.some((l) => /event=job\.reattached .*running_ms=21000/.test(l)), logs.join());
    assert.ok(!logs.some((l) => /event=job\.started/.test(l)), "not started a second time");
    assert.match(logs.find((l) => /event=job\.finished/.test(l))!, /ms=21000/);
  } finally {
    dispatcher.stop();
    await stores.closeAll();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Dispatcher records the agent's usage, its dollars labelled by the pylon's auth", async () => {
  const root = await Deno.makeTempDir();
  const stores = createStoreRegistry(createPylonPaths(root));
  const store = await stores.open("work");
  const usage = {
    costUsd: 0.42,
    costBasis: null,
    inputTokens: 10,
    outputTokens: 5,
    cacheReadTokens: null,
    cacheCreationTokens: null,
    numTurns: 3,
    durationApiMs: null,
    models: ["claude-sonnet-4-5"],
  };
  const dispatcher = new Dispatcher({
    stores,
    runner: { run: () => Promise.resolve({ status: "completed", result: "ok", usage }) },
    // The default auth of a claude pylon is oauth: the figure is an API-price estimate.
    pylonOf: () => pylon,
    maxConcurrent: () => 1,
    log: createLogger({ write: () => {} }),
    clock: { now: () => new Date() },
  });
  try {
    assert.equal(pylon.agent.auth, "oauth");
    const id = await queue(store);
    dispatcher.wake();
    const done = await eventually(async () => {
      const j = await store.get(id);
      return j?.status === "completed" ? j : undefined;
    });
    assert.deepEqual(done!.usage, { ...usage, costBasis: "oauth" });
  } finally {
    dispatcher.stop();
    await stores.closeAll();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("agent.max_concurrent: a pylon at its own limit lets another pylon's later job start", async () => {
  const root = await Deno.makeTempDir();
  const stores = createStoreRegistry(createPylonPaths(root));
  try {
    const resolve = (name: string, agent: Record<string, unknown>) =>
      resolvePylon(
        pylonConfigSchema.parse({
          name,
          trigger: { type: "webhook", path: `/${name}` },
          agent: { prompt: "go", ...agent },
        }),
        globalConfigSchema.parse({}),
        { env: {}, systemTimezone: "UTC" },
      );
    const pylons = { storm: resolve("storm", { max_concurrent: 1 }), quiet: resolve("quiet", {}) };
    const storm = await stores.open("storm");
    const quiet = await stores.open("quiet");
    const started: string[] = [];
    const release = Promise.withResolvers<void>();
    const runner: JobRunner = {
      run: async (job) => {
        started.push(job.pylon);
        await release.promise;
        return { status: "completed", exitCode: 0, result: "done" };
      },
    };
    const dispatcher = new Dispatcher({
      stores,
      runner,
      pylonOf: (name) => pylons[name as keyof typeof pylons],
      maxConcurrent: () => 3,
      log: createLogger({ write: () => {} }),
      clock: { now: () => new Date() },
    });
    const add = async (store: JobStore) => {
      await store.insert({
        id: crypto.randomUUID(),
        pylon: store.pylon,
        status: "queued",
        trigger: "webhook",
        payload: {},
        headers: {},
      });
    };
    // An alert storm: three of storm's jobs queued before quiet's one.
    await add(storm);
    await add(storm);
    await add(storm);
    await add(quiet);
    dispatcher.wake();
    await eventually(() => Promise.resolve(started.length === 2));
    await dispatcher.settled();
    // storm runs one (its limit), quiet's later job runs beside it; two slots of three are used.
    assert.deepEqual(started.sort(), ["quiet", "storm"]);
    assert.equal(dispatcher.runningCount, 2);
    assert.equal((await storm.list({ status: "queued" })).length, 2);
    release.resolve();
    await eventually(async () => (await storm.list({ status: "completed" })).length === 3);
    dispatcher.stop();
  } finally {
    await stores.closeAll();
    await Deno.remove(root, { recursive: true });
  }
});
