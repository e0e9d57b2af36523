/**
 * The gateway over the daemon's real parts: a running job in a real SQLite store, its pylon
 * resolved from pylon.yaml fields, its token issued as the runner does, and the fake Messages
 * API as the upstream (`agent.env.ANTHROPIC_BASE_URL`): usage is stored with the job as it runs
 * and budgets end it.
 */

import assert from "node:assert/strict";
import { issueJobToken } from "../../src/agent_channel/mod.ts";
import {
  type Budget,
  createPylonPaths,
  globalConfigSchema,
  pylonConfigSchema,
  type ResolvedPylon,
  resolvePylon,
} from "../../src/config/mod.ts";
import { createGatewayRoutes } from "../../src/daemon/routes/gateway.ts";
import { costOf, gatewayEnabled, gatewayJobs, GatewayLedger } from "../../src/gateway/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { RUN_ANYWAY } from "../../src/queue/mod.ts";
import { createStoreRegistry, type Job, type JobUsage } from "../../src/store/mod.ts";
import { FAKE_USAGE, startFakeAnthropicApi } from "../fakes/anthropic_api.ts";

const KEY = "sk-ant-api03-pylon-test-real-key";

function pylonWith(agent: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return resolvePylon(
    pylonConfigSchema.parse({
      name: "alpha",
      trigger: { type: "webhook", path: "/alpha" },
      agent: { prompt: "go", ...agent },
      ...extra,
    }),
    globalConfigSchema.parse({}),
    { env: { ANTHROPIC_API_KEY: KEY }, systemTimezone: "UTC" },
  );
}

async function world(pylon: ResolvedPylon, o: { global?: Budget } = {}) {
  const root = await Deno.makeTempDir({ prefix: "pylon-gateway-jobs-" });
  const clock = { now: () => new Date("2026-12-05T12:00:00Z") };
  const paths = createPylonPaths(root);
  const stores = createStoreRegistry(paths, { clock });
  const store = await stores.open(pylon.name);
  const ledger = new GatewayLedger(paths.jobsDir);
  const killed: string[] = [];
  const changed: Job[] = [];
  const routes = createGatewayRoutes({
    jobsDir: paths.jobsDir,
    clock,
    log: createLogger({ write: () => {} }),
    ledger,
    ...gatewayJobs({
      stores,
      pylonOf: (name) => name === pylon.name ? pylon : undefined,
      globalBudget: () => o.global,
      ledger,
      clock,
      home: undefined,
      kill: (id, reason) => killed.push(`${id}: ${reason}`),
      changed: (job) => changed.push(job),
    }),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => routes.fetch(req),
  );
  const running = async (o: { runAnyway?: boolean } = {}) => {
    const id = crypto.randomUUID();
    await store.insert({
      id,
      pylon: pylon.name,
      status: "queued",
      trigger: "webhook",
      payload: {},
      headers: {},
    });
    await store.transition(id, "queued", "running", o.runAnyway ? { error: RUN_ANYWAY } : {});
    const token = await issueJobToken(paths.jobsDir, id, {
      expiresAt: clock.now().getTime() + 60_000,
      stateJob: id,
    });
    return { id, token, base: `http://127.0.0.1:${server.addr.port}/jobs/${id}/model/anthropic` };
  };
  return {
    store,
    killed,
    changed,
    running,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await ledger.idle();
      await stores.closeAll();
      await Deno.remove(root, { recursive: true });
    },
  };
}

const ask = (base: string, token: string, stream = true) =>
  fetch(`${base}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": token, "content-type": "application/json" },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      "max_tokens": 10,
      stream,
      messages: [{ role: "user", content: "hi" }],
    }),
  });

Deno.test("gatewayEnabled: on for claude with a credential, off for none, custom and network none", () => {
  assert.equal(gatewayEnabled(pylonWith({ auth: "api_key" }).agent), true);
  assert.equal(gatewayEnabled(pylonWith({ auth: "oauth" }).agent), true);
  assert.equal(gatewayEnabled(pylonWith({ auth: "none" }).agent), false);
  assert.equal(gatewayEnabled(pylonWith({ auth: "api_key", network: "none" }).agent), false);
  assert.equal(gatewayEnabled(pylonWith({ type: "custom", image: "x" }).agent), false);
  assert.equal(
    gatewayEnabled(pylonWith({ type: "custom", image: "x", auth: "api_key", gateway: true }).agent),
    true,
  );
  assert.equal(gatewayEnabled(pylonWith({ auth: "api_key", gateway: false }).agent), false);
});

Deno.test("gateway: a running job's usage is stored with it as it accrues", async () => {
  await using api = startFakeAnthropicApi();
  await using w = await world(
    pylonWith({ auth: "api_key", env: { ANTHROPIC_BASE_URL: api.url } }),
  );
  const job = await w.running();
  for (let i = 0; i < 3; i++) {
    const res = await ask(job.base, job.token);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
  assert.equal(api.messageRequests().at(-1)!.headers.get("x-api-key"), KEY);
  const model = api.messageRequests()[0]!.body!.model as string;
  const one = costOf(model, {
    inputTokens: FAKE_USAGE.input_tokens,
    outputTokens: FAKE_USAGE.output_tokens,
    cacheReadTokens: FAKE_USAGE.cache_read_input_tokens,
    cacheCreationTokens: FAKE_USAGE.cache_creation_input_tokens,
  })!;
  let usage: JobUsage | null = null;
  for (let i = 0; i < 50 && usage?.outputTokens !== 3 * FAKE_USAGE.output_tokens; i++) {
    await new Promise((r) => setTimeout(r, 20));
    usage = (await w.store.get(job.id))!.usage;
  }
  assert.equal(usage?.inputTokens, 3 * FAKE_USAGE.input_tokens);
  assert.equal(usage?.outputTokens, 3 * FAKE_USAGE.output_tokens);
  assert.equal(usage?.cacheReadTokens, 3 * FAKE_USAGE.cache_read_input_tokens);
  assert.equal(usage?.cacheCreationTokens, 3 * FAKE_USAGE.cache_creation_input_tokens);
  assert.ok(Math.abs(usage!.costUsd! - 3 * one) < 1e-12);
  assert.equal(usage?.costBasis, "api");
  // Published: the event stream got the job with its usage.
  assert.equal(w.changed.at(-1)?.usage?.outputTokens, 3 * FAKE_USAGE.output_tokens);
});

Deno.test("gateway: a job over its max_cost_usd is refused with the reason and ended", async () => {
  // Enough input tokens that one answer crosses $0.01 at Sonnet's $3/M.
  await using api = startFakeAnthropicApi({
    usage: { ...FAKE_USAGE, "input_tokens": 5000 },
  });
  await using w = await world(
    pylonWith({ auth: "api_key", env: { ANTHROPIC_BASE_URL: api.url }, "max_cost_usd": 0.01 }),
  );
  const job = await w.running();
  const first = await ask(job.base, job.token, false);
  assert.equal(first.status, 200);
  await first.arrayBuffer();
  const second = await ask(job.base, job.token);
  assert.equal(second.status, 400);
  const body = await second.json();
  assert.equal(body.type, "error");
  assert.match(
    body.error.message,
    /budget of \$0\.01 \(agent\.max_cost_usd\) reached: \$0\.02 spent/,
  );
  assert.equal(api.messageRequests().length, 1);
  assert.equal(w.killed.length, 1);
  assert.match(w.killed[0]!, /budget of \$0\.01/);
});

Deno.test("gateway: the pylon's daily budget counts finished jobs and running ones' live spend", async () => {
  await using api = startFakeAnthropicApi({ usage: { ...FAKE_USAGE, "input_tokens": 5000 } });
  await using w = await world(
    pylonWith({ auth: "api_key", env: { ANTHROPIC_BASE_URL: api.url } }, {
      budget: { "daily_usd": 0.05, timezone: "UTC" },
    }),
  );
  // A finished job spent $0.04 today.
  const done = await w.running();
  await w.store.transition(done.id, "running", "completed", {
    usage: {
      costUsd: 0.04,
      costBasis: "api",
      inputTokens: 1,
      outputTokens: 1,
      cacheReadTokens: null,
      cacheCreationTokens: null,
      numTurns: 1,
      durationApiMs: null,
      models: [],
    },
  });
  const job = await w.running();
  const first = await ask(job.base, job.token); // ~$0.015 more: over $0.05 together
  assert.equal(first.status, 200);
  await first.arrayBuffer();
  const second = await ask(job.base, job.token);
  assert.equal(second.status, 400);
  assert.match((await second.json()).error.message, /daily budget of \$0\.05 reached/);
  assert.equal(w.killed.length, 1);
  // A job a person let run once over budget ("Run anyway") is not stopped by the windows.
  const approved = await w.running({ runAnyway: true });
  const third = await ask(approved.base, approved.token);
  assert.equal(third.status, 200);
  await third.arrayBuffer();
  assert.equal(w.killed.length, 1);
});

Deno.test("gateway: a job that is not running (or a stranger's id) is refused", async () => {
  await using api = startFakeAnthropicApi();
  await using w = await world(pylonWith({ auth: "api_key", env: { ANTHROPIC_BASE_URL: api.url } }));
  const job = await w.running();
  await w.store.transition(job.id, "running", "completed", {});
  const res = await ask(job.base, job.token);
  assert.equal(res.status, 403);
  assert.equal((await res.json()).error.message, "this job is not running");
  assert.equal(api.messageRequests().length, 0);
});
