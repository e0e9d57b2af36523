/**
 * The model API gateway's relay, over real HTTP on loopback: the gateway's routes served by
 * Deno.serve, an upstream that is a real server (the fake Messages API, or one whose stream
 * waits on the test), and an agent that is `fetch`.
 */

import assert from "node:assert/strict";
import { issueJobToken } from "../../src/agent_channel/mod.ts";
import { createGatewayRoutes, type GatewayJob } from "../../src/daemon/routes/gateway.ts";
import {
  costOf,
  type CountedUsage,
  GatewayLedger,
  OAUTH_BETA,
  readCountedUsage,
} from "../../src/gateway/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { FAKE_USAGE, startFakeAnthropicApi } from "../fakes/anthropic_api.ts";

const REAL_KEY = "sk-ant-real-key-never-in-the-container-0123456789";
const NOW = Date.parse("2026-12-05T12:00:00Z");

interface Seen {
  path: string;
  headers: Headers;
  body: string;
}

/** An upstream that records requests and answers with `answer`. */
function startUpstream(answer: (req: Request) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    seen.push({ path: url.pathname + url.search, headers: req.headers, body: await req.text() });
    return await answer(req);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function gateway(
  upstream: string,
  o: {
    credential?: GatewayJob["credential"];
    blocked?: string;
    limits?: { requestBytes?: number; responseBytes?: number };
  } = {},
) {
  const jobsDir = await Deno.makeTempDir({ prefix: "pylon-gateway-" });
  const logs: string[] = [];
  const ledger = new GatewayLedger(jobsDir);
  const usage: CountedUsage[] = [];
  const overBudget: string[] = [];
  const routes = createGatewayRoutes({
    jobsDir,
    clock: { now: () => new Date(NOW) },
    log: createLogger({ write: (l) => logs.push(l), level: "debug" }),
    ledger,
    jobOf: (id) =>
      Promise.resolve(
        id === "job-a"
          ? {
            pylon: "alpha",
            upstream,
            credential: o.credential ?? { kind: "api_key" as const, key: REAL_KEY },
          }
          : { refused: "this job is not running" },
      ),
    budgetBlock: () => Promise.resolve(o.blocked),
    onUsage: (_id, _pylon, total) => usage.push(total),
    onOverBudget: (id, reason) => overBudget.push(`${id}: ${reason}`),
    limits: o.limits,
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => routes.fetch(req),
  );
  const token = await issueJobToken(jobsDir, "job-a", {
    expiresAt: NOW + 60_000,
    stateJob: "job-a",
  });
  const other = await issueJobToken(jobsDir, "job-b", {
    expiresAt: NOW + 60_000,
    stateJob: "job-b",
  });
  const base = `http://127.0.0.1:${server.addr.port}/jobs/job-a/model/anthropic`;
  return {
    jobsDir,
    base,
    token,
    other,
    ledger,
    usage,
    overBudget,
    logs,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await ledger.flushed("job-a");
      await Deno.remove(jobsDir, { recursive: true });
    },
  };
}

const MESSAGE = JSON.stringify({
  model: "claude-sonnet-4-5",
  "max_tokens": 100,
  messages: [{ role: "user", content: "hi" }],
});

Deno.test("gateway: without the job's own token nothing reaches the upstream (401, API shape)", async () => {
  await using up = startUpstream(() => Response.json({}));
  await using g = await gateway(up.url);
  for (
    const headers of [
      {},
      { "x-api-key": "x".repeat(43) },
      { "x-api-key": g.other }, // another job's token
      { authorization: `Bearer ${REAL_KEY}` },
    ] as Record<string, string>[]
  ) {
    const res = await fetch(`${g.base}/v1/messages`, { method: "POST", headers, body: MESSAGE });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), {
      type: "error",
      error: { type: "authentication_error", message: "missing, wrong or expired job token" },
    });
  }
  assert.equal(up.seen.length, 0);
});

Deno.test("gateway: the real key replaces the job token; hop-by-hop and client credentials stay behind", async () => {
  await using up = startUpstream(() => Response.json({ ok: true }, { headers: { "x-up": "1" } }));
  await using g = await gateway(up.url);
  const res = await fetch(`${g.base}/v1/messages?beta=true`, {
    method: "POST",
    headers: {
      "x-api-key": g.token,
      "anthropic-version": "2023-06-01",
      "anthropic-beta": "fine-grained-tool-streaming-2025-05-14",
      "content-type": "application/json",
      connection: "keep-alive, x-hop",
      "x-hop": "drop me",
      "proxy-authorization": "Basic c2VjcmV0",
      cookie: "a=b",
    },
    body: MESSAGE,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-up"), "1");
  assert.deepEqual(await res.json(), { ok: true });
  const [seen] = up.seen;
  assert.equal(seen!.path, "/v1/messages?beta=true");
  assert.equal(seen!.headers.get("x-api-key"), REAL_KEY);
  assert.equal(seen!.headers.get("authorization"), null);
  assert.equal(seen!.headers.get("anthropic-version"), "2023-06-01");
  assert.equal(seen!.headers.get("anthropic-beta"), "fine-grained-tool-streaming-2025-05-14");
  for (const h of ["x-hop", "proxy-authorization", "cookie"]) {
    assert.equal(seen!.headers.get(h), null, h);
  }
  assert.equal(seen!.body, MESSAGE);
  const all = [...seen!.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  assert.ok(!all.includes(g.token), "the job token went upstream");
});

Deno.test("gateway: an OAuth pylon's requests carry the bearer and Claude Code's OAuth beta", async () => {
  await using up = startUpstream(() => Response.json({}));
  await using g = await gateway(up.url, {
    credential: { kind: "oauth", accessToken: "sk-ant-oat01-host-session" },
  });
  const res = await fetch(`${g.base}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": g.token, "anthropic-beta": "claude-code-20250219" },
    body: MESSAGE,
  });
  await res.body?.cancel();
  const [seen] = up.seen;
  assert.equal(seen!.headers.get("authorization"), "Bearer sk-ant-oat01-host-session");
  assert.equal(seen!.headers.get("x-api-key"), null);
  assert.equal(seen!.headers.get("anthropic-beta"), `claude-code-20250219,${OAUTH_BETA}`);
});

Deno.test("gateway: SSE passes through byte for byte, the first event before the upstream finishes", async () => {
  const encoder = new TextEncoder();
  const start = `event: message_start\ndata: ${
    JSON.stringify({
      type: "message_start",
      message: {
        model: "claude-sonnet-4-5",
        usage: { "input_tokens": 1200, "output_tokens": 1, "cache_read_input_tokens": 300 },
      },
    })
  }\n\n`;
  // The rest arrives in awkward pieces: an event split mid-line, a CRLF line end.
  const rest = [
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hé"}}\n\n',
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"us',
    'age":{"output_tokens":42}}\r\n\r\n',
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  ];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  await using up = startUpstream(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode(start));
          await gate;
          for (const piece of rest) controller.enqueue(encoder.encode(piece));
          controller.close();
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    )
  );
  await using g = await gateway(up.url);
  const res = await fetch(`${g.base}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": g.token },
    body: MESSAGE,
  });
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const reader = res.body!.getReader();
  const chunks: Uint8Array[] = [];
  const first = await Promise.race([
    reader.read(),
    new Promise<"late">((r) => setTimeout(() => r("late"), 5000)),
  ]);
  assert.notEqual(first, "late", "the first event waited for the whole response");
  if (first === "late" || first.done) throw new Error("unreachable");
  chunks.push(first.value);
  // Tokens are known while the response still streams: message_start's input and cache.
  assert.equal(g.usage.at(-1)?.inputTokens, 1200);
  assert.equal(g.usage.at(-1)?.cacheReadTokens, 300);
  release();
  while (true) {
    const next = await reader.read();
    if (next.done) break;
    chunks.push(next.value);
  }
  const body = new TextDecoder().decode(
    new Uint8Array(chunks.flatMap((c) => [...c])),
  );
  assert.equal(body, start + rest.join(""));
  const total = g.usage.at(-1)!;
  assert.equal(total.outputTokens, 42);
  const expected = costOf("claude-sonnet-4-5", {
    inputTokens: 1200,
    outputTokens: 42,
    cacheReadTokens: 300,
    cacheCreationTokens: 0,
  });
  assert.equal(total.costUsd, expected);
  // $3/M input, $15/M output, $0.30/M cache reads.
  assert.equal(expected, (1200 * 3 + 42 * 15 + 300 * 0.3) / 1e6);
  await g.ledger.flushed("job-a");
  assert.deepEqual(await readCountedUsage(g.jobsDir, "job-a"), total);
});

Deno.test("gateway: usage of the fake Messages API adds up, JSON and streamed alike", async () => {
  await using api = startFakeAnthropicApi();
  await using g = await gateway(api.url);
  for (const stream of [false, true]) {
    const res = await fetch(`${g.base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": g.token, "content-type": "application/json" },
      body: JSON.stringify({ ...JSON.parse(MESSAGE), stream }),
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
  assert.equal(api.messageRequests().length, 2);
  for (const r of api.messageRequests()) assert.equal(r.headers.get("x-api-key"), REAL_KEY);
  const total = g.usage.at(-1)!;
  assert.equal(total.inputTokens, 2 * FAKE_USAGE.input_tokens);
  assert.equal(total.outputTokens, 2 * FAKE_USAGE.output_tokens);
  assert.equal(total.cacheReadTokens, 2 * FAKE_USAGE.cache_read_input_tokens);
  assert.equal(total.cacheCreationTokens, 2 * FAKE_USAGE.cache_creation_input_tokens);
  const one = costOf(api.messageRequests()[0]!.body!.model as string, {
    inputTokens: FAKE_USAGE.input_tokens,
    outputTokens: FAKE_USAGE.output_tokens,
    cacheReadTokens: FAKE_USAGE.cache_read_input_tokens,
    cacheCreationTokens: FAKE_USAGE.cache_creation_input_tokens,
  })!;
  assert.ok(Math.abs(total.costUsd - 2 * one) < 1e-12, `${total.costUsd} vs ${2 * one}`);
});

Deno.test("gateway: over budget, the agent gets an API error at once and the job is ended", async () => {
  await using up = startUpstream(() => Response.json({}));
  await using g = await gateway(up.url, { blocked: "daily budget of $1.00 reached: $1.02 spent" });
  const res = await fetch(`${g.base}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": g.token },
    body: MESSAGE,
  });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), {
    type: "error",
    error: {
      type: "invalid_request_error",
      message: "pylon: daily budget of $1.00 reached: $1.02 spent",
    },
  });
  assert.equal(up.seen.length, 0);
  assert.deepEqual(g.overBudget, ["job-a: daily budget of $1.00 reached: $1.02 spent"]);
});

Deno.test("gateway: request and response bodies are capped", async () => {
  const big = "x".repeat(64 * 1024);
  await using up = startUpstream(() =>
    new Response(big, { headers: { "content-type": "application/json" } })
  );
  await using g = await gateway(up.url, { limits: { requestBytes: 1024, responseBytes: 4096 } });
  const tooBig = await fetch(`${g.base}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": g.token },
    body: "y".repeat(2048),
  });
  assert.equal(tooBig.status, 413);
  assert.equal((await tooBig.json()).error.type, "request_too_large");
  assert.equal(up.seen.length, 0);
  const cut = await fetch(`${g.base}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": g.token },
    body: MESSAGE,
  });
  const received = await cut.arrayBuffer().then((b) => b.byteLength, () => -1);
  assert.ok(received < big.length, `the whole ${big.length} bytes passed`);
});

Deno.test("gateway: a job that is not running gets a permission error, not the upstream", async () => {
  await using up = startUpstream(() => Response.json({}));
  await using g = await gateway(up.url);
  const res = await fetch(`${g.base.replace("job-a", "job-b")}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": g.other },
    body: MESSAGE,
  });
  assert.equal(res.status, 403);
  assert.equal((await res.json()).error.message, "this job is not running");
  assert.equal(up.seen.length, 0);
});
