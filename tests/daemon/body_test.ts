/** readBody(): size and time limits on a request body, over real HTTP on loopback. */

import assert from "node:assert/strict";
import { type BodyResult, readBody } from "../../src/daemon/routes/body.ts";

const encoder = new TextEncoder();

/** A loopback server whose handler reads each body with `timeoutMs` (from `?t=`) and `max`. */
function bodyServer(max: number) {
  const results: { result: BodyResult; ms: number }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const started = performance.now();
    const timeoutMs = Number(new URL(req.url).searchParams.get("t"));
    const result = await readBody(req, { max, timeoutMs });
    results.push({ result, ms: performance.now() - started });
    return new Response(result.ok ? `ok ${result.bytes.length}` : result.reason);
  });
  return { server, port: server.addr.port, results };
}

/**
 * Sends a request head declaring `length` bytes (or `chunked`: chunks of a length not declared
 * up front), then `parts` with `gapMs` between them.
 */
async function send(
  port: number,
  timeoutMs: number,
  length: number | "chunked",
  parts: string[],
  gapMs = 0,
): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const framing = length === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${length}`;
  await conn.write(
    encoder.encode(`POST /?t=${timeoutMs} HTTP/1.1\r\nHost: x\r\n${framing}\r\n\r\n`),
  );
  for (const part of parts) {
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
    await conn.write(encoder.encode(part));
  }
  return conn;
}

async function answer(conn: Deno.TcpConn): Promise<string> {
  const buf = new Uint8Array(4096);
  const n = await conn.read(buf);
  conn.close();
  return new TextDecoder().decode(buf.subarray(0, n ?? 0));
}

Deno.test("readBody() cuts off each stalled body at its own timeout, not long after", async () => {
  const { server, port, results } = bodyServer(1024);
  try {
    const started = performance.now();
    const answers = await Promise.all([
      send(port, 150, 100, ['{"a":']).then(answer),
      send(port, 600, 100, ['{"b":']).then(answer),
      // Read in chunks (no declared length): the same deadline.
      send(port, 300, "chunked", ['10\r\n{"c":']).then(answer),
    ]);
    for (const text of answers) assert.match(text, /\r\n\r\ntimeout$/);
    const [first, second, third] = results;
    // The deadline is swept every eighth of the timeout, so a read runs over by at most that.
    assert.ok(first!.ms >= 150 && first!.ms < 150 + 19 + 100, `150 ms timeout after ${first!.ms}`);
    assert.ok(second!.ms >= 300 && second!.ms < 300 + 38 + 100, `300 ms after ${second!.ms}`);
    assert.ok(third!.ms >= 600 && third!.ms < 600 + 75 + 100, `600 ms after ${third!.ms}`);
    assert.ok(performance.now() - started < 2000);
  } finally {
    await server.shutdown();
  }
});

Deno.test("readBody() reads a body that arrives in pieces within its timeout", async () => {
  const { server, port } = bodyServer(1024);
  try {
    // Three pieces 100 ms apart: 300 ms in all, within 500 ms though past several sweeps.
    const text = await send(port, 500, 9, ["abc", "def", "ghi"], 100).then(answer);
    assert.match(text, /\r\n\r\nok 9$/);
    const chunks = ["3\r\nabc\r\n", "3\r\ndef\r\n", "0\r\n\r\n"];
    assert.match(await send(port, 500, "chunked", chunks, 100).then(answer), /\r\n\r\nok 6$/);
    // Many quick reads in a row leave no deadline behind to cut a later one short.
    for (let i = 0; i < 50; i++) {
      assert.match(await send(port, 500, 2, ["{}"]).then(answer), /ok 2$/);
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("readBody() refuses a body over the limit, declared or sent", async () => {
  const { server, port } = bodyServer(8);
  try {
    assert.match(await send(port, 500, 9, ["123456789"]).then(answer), /too_large$/);
    const chunks = ["5\r\n12345\r\n", "5\r\n67890\r\n", "0\r\n\r\n"];
    assert.match(await send(port, 500, "chunked", chunks).then(answer), /too_large$/);
    const res = await fetch(`http://127.0.0.1:${port}/?t=500`, {
      method: "POST",
      body: new ReadableStream({
        start(c) {
          c.enqueue(encoder.encode("12345"));
          c.enqueue(encoder.encode("67890"));
          c.close();
        },
      }),
    });
    assert.equal(await res.text(), "too_large");
  } finally {
    await server.shutdown();
  }
});
