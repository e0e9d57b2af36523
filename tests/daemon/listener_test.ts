/**
 * The accept loop on loopback, with each engine that serves a connection: header deadline, idle
 * keep-alive, the connection limit, handler errors and draining.
 */

import assert from "node:assert/strict";
import {
  createLegacyServe,
  createNativeServe,
  type ServeConnection,
} from "../../src/daemon/_conn_serve.ts";
import { serveListener } from "../../src/daemon/listener.ts";
import { createLogger } from "../../src/log/mod.ts";

const encoder = new TextEncoder();

/** Reads from `conn` until it closes or `ms` pass; what was read, and whether it closed. */
async function readUntilClosed(
  conn: Deno.Conn,
  ms: number,
): Promise<{ text: string; closed: boolean }> {
  const buf = new Uint8Array(4096);
  let text = "";
  const until = Date.now() + ms;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0) return { text, closed: false };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buf).catch(() => null),
      new Promise<"wait">((r) => timer = setTimeout(() => r("wait"), left)),
    ]);
    clearTimeout(timer);
    if (n === "wait") return { text, closed: false };
    if (n === null) return { text, closed: true };
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
}

async function withServer(
  serveConnection: ServeConnection,
  options: { maxConnections?: number; headerTimeoutMs?: number },
  fn: (port: number, logs: string[]) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const logs: string[] = [];
  const server = serveListener(listener, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/boom") throw new Error("boom");
    if (path === "/slow") await new Promise((r) => setTimeout(r, 300));
    await req.body?.cancel();
    return new Response(`ok ${path}`);
  }, {
    maxConnections: options.maxConnections ?? 100,
    headerTimeoutMs: options.headerTimeoutMs ?? 300,
    serveConnection,
    log: createLogger({ write: (l) => logs.push(l), level: "debug" }),
  });
  try {
    await fn(listener.addr.port, logs);
  } finally {
    await server.stop(1000);
  }
}

const ENGINES: [string, ServeConnection | undefined][] = [
  ["Deno.serve's engine", createNativeServe()],
  ["Deno.serveHttp", createLegacyServe()],
];

Deno.test("createNativeServe() finds Deno.serve's per-connection engine on this Deno", () => {
  assert.ok(createNativeServe(), "Deno[Deno.internal].serveHttpOnConnection is gone");
});

for (const [name, engine] of ENGINES) {
  Deno.test(`serveListener() with ${name}`, { ignore: !engine }, async (t) => {
    const serve = engine!;
    await t.step("answers requests on a kept-alive connection", async () => {
      await withServer(serve, {}, async (port) => {
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`http://127.0.0.1:${port}/a${i}`);
          assert.equal(await res.text(), `ok /a${i}`);
        }
      });
    });
    await t.step("closes a connection whose request head stops halfway", async () => {
      await withServer(serve, { headerTimeoutMs: 300 }, async (port) => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await conn.write(encoder.encode("POST /a HTTP/1.1\r\nHost: x\r\nContent-Le"));
        const started = Date.now();
        const { closed } = await readUntilClosed(conn, 3000);
        conn.close();
        assert.ok(closed, "still open after 3 s");
        assert.ok(Date.now() - started >= 250, "closed before the deadline");
      });
    });
    await t.step("closes an idle keep-alive connection after the deadline", async () => {
      await withServer(serve, { headerTimeoutMs: 300 }, async (port) => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await conn.write(encoder.encode("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
        const { text, closed } = await readUntilClosed(conn, 3000);
        conn.close();
        assert.match(text, /^HTTP\/1\.1 200/);
        assert.ok(closed, "idle connection still open after 3 s");
      });
    });
    await t.step("keeps a connection whose request is in flight past the deadline", async () => {
      await withServer(serve, { headerTimeoutMs: 100 }, async (port) => {
        const res = await fetch(`http://127.0.0.1:${port}/slow`);
        assert.equal(await res.text(), "ok /slow");
      });
    });
    await t.step("at the limit, the longest-idle connection makes room", async () => {
      await withServer(
        serve,
        { maxConnections: 4, headerTimeoutMs: 60_000 },
        async (port, logs) => {
          const idle: Deno.Conn[] = [];
          for (let i = 0; i < 4; i++) {
            const c = await Deno.connect({ hostname: "127.0.0.1", port });
            await c.write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n"));
            idle.push(c);
          }
          const res = await fetch(`http://127.0.0.1:${port}/after`, {
            signal: AbortSignal.timeout(3000),
          });
          assert.equal(await res.text(), "ok /after");
          const first = await readUntilClosed(idle[0]!, 1000);
          assert.ok(first.closed, "the oldest idle connection was not closed");
          for (const c of idle) c.close();
          assert.ok(logs.some((l) => /event=server\.connections_full max=4/.test(l)));
        },
      );
    });
    await t.step("a handler that throws answers 500 and the server goes on", async () => {
      await withServer(serve, {}, async (port, logs) => {
        const res = await fetch(`http://127.0.0.1:${port}/boom`);
        assert.equal(res.status, 500);
        await res.body?.cancel();
        const ok = await fetch(`http://127.0.0.1:${port}/a`);
        assert.equal(await ok.text(), "ok /a");
        assert.ok(logs.some((l) => /event=http\.error error=boom/.test(l)));
      });
    });
  });
}

Deno.test("serveListener() stop() lets a request in flight finish", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { promise: entered, resolve: enter } = Promise.withResolvers<void>();
  const server = serveListener(listener, async () => {
    enter();
    await new Promise((r) => setTimeout(r, 200));
    return new Response("done");
  }, {
    maxConnections: 10,
    headerTimeoutMs: 1000,
    serveConnection: createNativeServe() ?? createLegacyServe()!,
    log: createLogger({ write: () => {} }),
  });
  const res = fetch(`http://127.0.0.1:${listener.addr.port}/`);
  await entered;
  const stopped = server.stop(2000);
  assert.equal(await (await res).text(), "done");
  await stopped;
  assert.equal(server.open, 0);
});
