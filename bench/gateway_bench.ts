// deno-lint-ignore-file no-console
/**
 * The model API gateway's added latency per request (issue 19), in the same run: the fake
 * Messages API on loopback called directly, and through the gateway as the daemon runs it (the
 * job token checked against its hashed file, the running job looked up in a real SQLite store,
 * the pylon's daily budget checked, the real key swapped in, the response piped through the
 * usage meter and the usage stored with the job). Calls alternate between the two paths; each
 * is timed from `fetch()` to the last byte of the body, streamed (SSE) and JSON.
 *
 * Run with `deno run` only:
 *   deno run -A bench/gateway_bench.ts [--iterations 400] [--warmup 50]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { issueJobToken } from "../src/agent_channel/mod.ts";
import {
  createPylonPaths,
  globalConfigSchema,
  pylonConfigSchema,
  resolvePylon,
} from "../src/config/mod.ts";
import { createGatewayRoutes } from "../src/daemon/routes/gateway.ts";
import { gatewayJobs, GatewayLedger } from "../src/gateway/mod.ts";
import { createLogger } from "../src/log/mod.ts";
import { createStoreRegistry } from "../src/store/mod.ts";
import { startFakeAnthropicApi } from "../tests/fakes/anthropic_api.ts";

const { values } = parseArgs({
  options: {
    iterations: { type: "string", default: "400" },
    warmup: { type: "string", default: "50" },
  },
});
const iterations = Number(values.iterations);
const warmup = Number(values.warmup);

await using api = startFakeAnthropicApi();
const root = await Deno.makeTempDir({ prefix: "pylon-gateway-bench-" });
const paths = createPylonPaths(root);
const clock = { now: () => new Date() };
const pylon = resolvePylon(
  pylonConfigSchema.parse({
    name: "bench",
    trigger: { type: "webhook", path: "/bench" },
    agent: { prompt: "go", auth: "api_key", env: { ANTHROPIC_BASE_URL: api.url } },
    budget: { "daily_usd": 1_000_000, timezone: "UTC" },
  }),
  globalConfigSchema.parse({}),
  { env: { ANTHROPIC_API_KEY: "sk-ant-bench-key" }, systemTimezone: "UTC" },
);
const stores = createStoreRegistry(paths, { clock });
const store = await stores.open(pylon.name);
const ledger = new GatewayLedger(paths.jobsDir);
const routes = createGatewayRoutes({
  jobsDir: paths.jobsDir,
  clock,
  log: createLogger({ write: () => {} }),
  ledger,
  ...gatewayJobs({
    stores,
    pylonOf: () => pylon,
    globalBudget: () => undefined,
    ledger,
    clock,
    home: undefined,
    kill: () => {},
    changed: () => {},
  }),
});
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, routes.fetch);
const jobId = crypto.randomUUID();
await store.insert({
  id: jobId,
  pylon: pylon.name,
  status: "queued",
  trigger: "webhook",
  payload: {},
  headers: {},
});
await store.transition(jobId, "queued", "running");
const token = await issueJobToken(paths.jobsDir, jobId, {
  expiresAt: Date.now() + 3600_000,
  stateJob: jobId,
});
const viaGateway = `http://127.0.0.1:${server.addr.port}/jobs/${jobId}/model/anthropic`;

async function call(base: string, key: string, stream: boolean): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}/v1/messages`, {
    method: "POST",
    headers: {
      "x-api-key": key,
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
    },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      "max_tokens": 64,
      stream,
      messages: [{ role: "user", content: "Say hello. ".repeat(200) }],
    }),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${base}`);
  return performance.now() - started;
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p95: at(0.95), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

try {
  console.log(`gateway_bench: ${iterations} calls per path and mode (${warmup} warm-up)`);
  for (const stream of [true, false]) {
    const direct: number[] = [], gateway: number[] = [];
    for (let i = 0; i < warmup + iterations; i++) {
      // Alternate which path goes first, so neither always meets a warmer loopback.
      const order = i % 2 === 0;
      const a = await call(
        order ? api.url : viaGateway,
        order ? "sk-ant-bench-key" : token,
        stream,
      );
      const b = await call(
        order ? viaGateway : api.url,
        order ? token : "sk-ant-bench-key",
        stream,
      );
      if (i < warmup) continue;
      (order ? direct : gateway).push(a);
      (order ? gateway : direct).push(b);
    }
    const d = stats(direct), g = stats(gateway);
    const f = (n: number) => n.toFixed(2);
    console.log(
      `${stream ? "SSE " : "JSON"}  direct median ${f(d.median)} ms (p95 ${f(d.p95)})  ` +
        `gateway median ${f(g.median)} ms (p95 ${f(g.p95)})  ` +
        `added ${f(g.median - d.median)} ms median, ${f(g.p95 - d.p95)} ms p95  ` +
        `ratio ${(g.median / d.median).toFixed(2)}x`,
    );
  }
  const counted = await ledger.of(jobId, pylon.name);
  console.log(`counted through the gateway: ${counted?.reports} usage reports`);
} finally {
  await server.shutdown();
  await stores.closeAll();
  await Deno.remove(root, { recursive: true });
}
