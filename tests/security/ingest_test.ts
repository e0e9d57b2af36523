/**
 * Attacks on the daemon's HTTP ingest, made the way the probe of issue 12 made them (items 4
 * and 16): a flood of half-sent request heads against a daemon under `ulimit -n 1024`, slow
 * heads and bodies, and inputs that used to answer 500.
 */

import assert from "node:assert/strict";
import { readDescriptorUse } from "../../src/daemon/fd_budget.ts";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { freePort, startDaemonProcess } from "../_helpers/process.ts";

const encoder = new TextEncoder();
const HALF_HEAD = encoder.encode("POST /x HTTP/1.1\r\nHost: pylon\r\nContent-Len");
const PYLON_X = "name: x\ntrigger:\n  type: webhook\n  path: /x\nagent:\n  prompt: hi\n";
/** No Docker: the daemon starts, queues jobs and builds no image. */
const NO_DOCKER = { DOCKER_HOST: "unix:///nonexistent/pylon-test-docker.sock" };

/** Reads until the peer closes (true) or `ms` pass (false); the bytes read. */
async function waitClosed(conn: Deno.Conn, ms: number): Promise<{ closed: boolean; text: string }> {
  const buf = new Uint8Array(2048);
  let text = "";
  const until = Date.now() + ms;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0) return { closed: false, text };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buf).catch(() => null),
      new Promise<"wait">((r) => timer = setTimeout(() => r("wait"), left)),
    ]);
    clearTimeout(timer);
    if (n === "wait") return { closed: false, text };
    if (n === null) return { closed: true, text };
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
}

/** Opens `count` connections to `port`, each sending half a request head. */
async function halfHeads(port: number, count: number): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) {
    let conn: Deno.Conn;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch (e) {
      if (e instanceof Deno.errors.ConnectionRefused) break; // the daemon is gone
      throw e;
    }
    await conn.write(HALF_HEAD).catch(() => {});
    conns.push(conn);
  }
  return conns;
}

/** Whether `child` is still running after a short look. */
async function running(child: Deno.ChildProcess): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const alive = await Promise.race([
    child.status.then(() => false),
    new Promise<boolean>((r) => timer = setTimeout(() => r(true), 300)),
  ]);
  clearTimeout(timer);
  return alive;
}

async function stopChild(child: Deno.ChildProcess, stderr: Promise<string>): Promise<string> {
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  const status = await child.status;
  await child.stdout.cancel().catch(() => {});
  const err = await stderr;
  assert.equal(status.code, 0, `the daemon exited with ${status.code}:\n${err.slice(-2000)}`);
  return err;
}

/** Each case needs ~1,150 descriptors of its own: Deno raises its soft limit to the hard one. */
async function assertOwnLimit(needed: number): Promise<void> {
  const { limit } = await readDescriptorUse();
  assert.ok(
    limit === undefined || limit.soft >= needed,
    `this test opens ${needed} connections but may open ${limit?.soft} files: raise \`ulimit -n\``,
  );
}

Deno.test({
  name: "1,100 half-sent request heads under ulimit -n 1024 neither end nor block the daemon",
  sanitizeResources: false,
  async fn() {
    await assertOwnLimit(1200);
    const root = await Deno.makeTempDir({ prefix: "pylon-ingest-" });
    await writeHome(root, {
      "config.yaml": "server:\n  header_timeout: 2s\n",
      "pylons/x/pylon.yaml": PYLON_X,
    });
    const port = freePort();
    const child = await startDaemonProcess(root, port, { nofile: 1024, env: NO_DOCKER });
    const stderr = new Response(child.stderr).text();
    const conns = await halfHeads(port, 1100);
    try {
      assert.ok(await running(child), "the daemon exited under 1,100 connections");
      const health = await fetch(`http://127.0.0.1:${port}/healthz`, {
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const hook = await fetch(`http://127.0.0.1:${port}/x`, {
        method: "POST",
        body: "{}",
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(hook.status, 202);
      await hook.body?.cancel();
      // Every half-sent head is cut off once server.header_timeout (2 s) has passed.
      const closed = await Promise.all(conns.map((c) => waitClosed(c, 6000)));
      assert.equal(closed.filter((c) => !c.closed).length, 0, "connections still held open");
    } finally {
      for (const c of conns) c.close();
    }
    const err = await stopChild(child, stderr);
    assert.doesNotMatch(err, /Uncaught|Too many open files/);
    assert.match(err, /event=server\.limits max_connections=\d{3} /);
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name: "an accept that fails with EMFILE is retried, and the daemon serves again",
  sanitizeResources: false,
  async fn() {
    await assertOwnLimit(1200);
    const root = await Deno.makeTempDir({ prefix: "pylon-ingest-" });
    await writeHome(root, {
      // A limit above what the descriptors allow: accept itself runs out of files.
      "config.yaml": "server:\n  header_timeout: 2s\n  max_connections: 5000\n",
      "pylons/x/pylon.yaml": PYLON_X,
    });
    const port = freePort();
    const child = await startDaemonProcess(root, port, { nofile: 1024, env: NO_DOCKER });
    const stderr = new Response(child.stderr).text();
    const conns = await halfHeads(port, 1100);
    try {
      assert.ok(await running(child), "the daemon exited on EMFILE");
      await Promise.all(conns.map((c) => waitClosed(c, 8000)));
    } finally {
      for (const c of conns) c.close();
    }
    assert.ok(await running(child), "the daemon exited on EMFILE");
    const health = await fetch(`http://127.0.0.1:${port}/healthz`, {
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const err = await stopChild(child, stderr);
    assert.match(err, /event=server\.accept_failed error="Too many open files/);
    assert.doesNotMatch(err, /Uncaught/);
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test("a request head or body sent too slowly is cut off", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "pylon-ingest-" });
  await writeHome(root, {
    "config.yaml": "server:\n  header_timeout: 1s\n  body_timeout: 1s\n",
    "pylons/x/pylon.yaml": PYLON_X,
  });
  const daemon = await startTestDaemon(root);
  const port = Number(new URL(daemon.url).port);
  try {
    await t.step("a head that stops halfway: closed after server.header_timeout", async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(HALF_HEAD);
      const { closed } = await waitClosed(conn, 5000);
      conn.close();
      assert.ok(closed, "a half-sent head held its connection for 5 s");
    });
    await t.step("a head dripped a byte at a time: closed all the same", async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const started = Date.now();
      let cut = false;
      for (let i = 0; i < 40 && !cut; i++) {
        await conn.write(encoder.encode(i === 0 ? "POST /x HTTP/1.1\r\n" : "X-A: b\r\n"))
          .catch(() => cut = true);
        await new Promise((r) => setTimeout(r, 150));
      }
      const { closed } = await waitClosed(conn, 3000);
      conn.close();
      assert.ok(cut || closed, `a dripped head held its connection ${Date.now() - started} ms`);
    });
    await t.step("a body that stops halfway: 408 after server.body_timeout", async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(
        encoder.encode('POST /x HTTP/1.1\r\nHost: pylon\r\nContent-Length: 100\r\n\r\n{"a":'),
      );
      const { text } = await waitClosed(conn, 5000);
      conn.close();
      assert.match(text, /^HTTP\/1\.1 408 /);
      assert.match(text, /server\.body_timeout/);
    });
    await t.step("the daemon still answers", async () => {
      const res = await fetch(`${daemon.url}/x`, { method: "POST", body: "{}" });
      assert.equal(res.status, 202);
      await res.body?.cancel();
    });
  } finally {
    await daemon.stop();
    await Deno.remove(root, { recursive: true });
  }
});
