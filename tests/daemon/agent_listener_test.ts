import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  agentRoutesOnly,
  createAgentApp,
  isAgentPath,
  wantsAgentListeners,
} from "../../src/daemon/agent_listener.ts";
import { serveUntilStopped } from "../../src/daemon/server.ts";
import { createLogger } from "../../src/log/mod.ts";

/** Request targets sent as is (no client normalises them) that must not leave /agent/v1. */
const TRICKS = [
  "/api/jobs",
  "/hooks/sentry",
  "/dashboard/",
  "/agent/v1",
  "/agent/v2/jobs/x/ping",
  "/agent/v1/../api/jobs",
  "/agent/v1/jobs/../../../api/jobs",
  "/agent/v1/./jobs/x/ping",
  "/agent/v1/jobs/x/..",
  "//api/jobs",
  "//agent/v1/jobs/x/ping",
  "/agent/v1//jobs/x/ping",
  "/agent/v1/%2e%2e/api/jobs",
  "/agent/v1/%2E%2E/api/jobs",
  "/agent/v1/jobs/x/..%2f..%2f..%2fapi%2fjobs",
  "/agent/v1%2f..%2fapi/jobs",
  "/agent/v1/jobs/x/%252e%252e/ping",
  "/agent/v1/jobs\\..\\..\\api\\jobs",
  "/agent/v1/..\\api/jobs",
  "*",
];

Deno.test("isAgentPath() takes plain /agent/v1/ paths and refuses path tricks", async (t) => {
  for (const ok of ["/agent/v1/jobs/x/ping", "/agent/v1/jobs/x/model/anthropic/v1/messages?b=1"]) {
    await t.step(`takes ${ok}`, () => assert.equal(isAgentPath(`http://h${ok}`), true));
  }
  for (const target of TRICKS) {
    await t.step(`refuses ${target}`, () => assert.equal(isAgentPath(`http://h${target}`), false));
  }
  await t.step("refuses a URL with no path", () => assert.equal(isAgentPath("h"), false));
});

Deno.test("wantsAgentListeners() is true on loopback with a local Engine only", () => {
  const at = (host: string, dockerHost?: string, swarm = false) =>
    wantsAgentListeners({ host, dockerHost, swarm });
  assert.equal(at("127.0.0.1"), true);
  assert.equal(at("localhost", "unix:///var/run/docker.sock"), true);
  assert.equal(at("::1"), true);
  assert.equal(at("0.0.0.0"), false);
  assert.equal(at("10.0.0.5"), false);
  assert.equal(at("127.0.0.1", "tcp://10.0.0.9:2376"), false);
  assert.equal(at("127.0.0.1", undefined, true), false);
});

/** One raw HTTP/1.1 request (the target exactly as given); the status code. */
async function rawStatus(host: string, port: number, target: string): Promise<number> {
  const conn = await Deno.connect({ hostname: host, port });
  try {
    await conn.write(
      new TextEncoder().encode(`GET ${target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`),
    );
    let text = "";
    const buf = new Uint8Array(4096);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
    assert.ok(status, `no HTTP answer to ${target}: ${JSON.stringify(text.slice(0, 200))}`);
    return Number(status);
  } finally {
    conn.close();
  }
}

Deno.test("serveUntilStopped() serves only the agent routes on the agent listener", async () => {
  const channel = new Hono();
  channel.get("/jobs/:id/ping", (c) => c.json({ job: c.req.param("id") }));
  const main = new Hono();
  main.route("/agent/v1", channel);
  main.get("/api/jobs", (c) => c.json([]));
  // A webhook the main app serves under /agent/v1 must not leak to the agent listener either.
  main.all("*", (c) => c.json({ webhook: c.req.path }, 202));
  const logs: string[] = [];
  const stop = new AbortController();
  const { promise: listening, resolve } = Promise.withResolvers<
    { port: number; agentHosts: string[] }
  >();
  const done = serveUntilStopped(main.fetch, {
    host: "127.0.0.1",
    port: 0,
    log: createLogger({ write: (l) => logs.push(l), level: "debug" }),
    maxConnections: 64,
    signal: stop.signal,
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: logged and left out.
    agent: {
      hosts: ["127.0.0.2", "192.0.2.1"],
      handler: agentRoutesOnly(createAgentApp({ agentChannel: channel }).fetch),
    },
    onListen: resolve,
  });
  try {
    const { port, agentHosts } = await listening;
    assert.deepEqual(agentHosts, ["127.0.0.2"]);
    assert.ok(
      logs.some((l) => /event=daemon\.agent_listener\b.*127\.0\.0\.2:\d+/.test(l)),
      logs.join("\n"),
    );
    assert.ok(logs.some((l) => /daemon\.agent_listener_failed.*192\.0\.2\.1/.test(l)));
    // Loopback: everything, as before.
    assert.equal(await rawStatus("127.0.0.1", port, "/api/jobs"), 200);
    assert.equal(await rawStatus("127.0.0.1", port, "/agent/v1/jobs/a/ping"), 200);
    // The agent listener: the agent routes, and 404 for the rest and every trick.
    assert.equal(await rawStatus("127.0.0.2", port, "/agent/v1/jobs/a/ping"), 200);
    assert.equal(await rawStatus("127.0.0.2", port, "/agent/v1/hooks/x"), 404);
    for (const target of TRICKS) {
      // Deno's HTTP engine itself refuses the asterisk form with a 400.
      assert.equal(await rawStatus("127.0.0.2", port, target), target === "*" ? 400 : 404, target);
    }
  } finally {
    stop.abort();
    await done;
  }
});
