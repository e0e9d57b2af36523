/**
 * The real program as a subprocess: help, a config error, and the daemon starting on an empty
 * home, answering /healthz and stopping cleanly on SIGTERM.
 */

import assert from "node:assert/strict";
import { pylonCommand, runPylon } from "../_helpers/process.ts";

Deno.test("pylon (subprocess) prints help and exits 0", async () => {
  const r = await runPylon(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage:\n {2}pylon <command>/);
});

Deno.test("pylon (subprocess) exits 1 with file, line and fix for a broken config.yaml", async () => {
  const home = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${home}/config.yaml`, "server:\n  port: eighty\n");
    const r = await runPylon(["list"], { PYLON_HOME: home, HOME: "/nonexistent" });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `Error: Cannot load config.yaml: ${home}/config.yaml:2:9: server.port: must be a number, not text ("eighty")\n` +
        "  fix the file, then check it with `pylon doctor`\n",
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
  seen: { text: string },
): Promise<RegExpMatchArray> {
  for (;;) {
    const m = seen.text.match(pattern);
    if (m) return m;
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`output ended before ${pattern}: ${seen.text}`);
    seen.text += chunk.value;
  }
}

Deno.test("pylon start (subprocess) runs on built-in defaults with no PYLON_HOME at all", async () => {
  const parent = await Deno.makeTempDir();
  const home = `${parent}/does-not-exist`;
  const child = pylonCommand(["start", "--host", "127.0.0.1", "--port", "0"], {
    env: { PYLON_HOME: home, HOME: parent },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const seen = { text: "" };
    const [, port] = await readUntil(reader, /listening on 127\.0\.0\.1:(\d+)/, seen);
    assert.match(seen.text, /No pylons yet\. Create one/);
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, "ok");
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0);
  } finally {
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    const err = await new Response(child.stderr).text();
    assert.match(err, /event=config\.loaded file="built-in defaults"/);
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("pylon start (subprocess) names a taken port and points at pylon doctor", async () => {
  const home = await Deno.makeTempDir();
  using blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (blocker.addr as Deno.NetAddr).port;
  try {
    const r = await runPylon(["start", "--host", "127.0.0.1", "--port", String(port)], {
      PYLON_HOME: home,
      HOME: home,
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`Error: Port ${port} on 127\\.0\\.0\\.1 is already in use\n`),
    );
    assert.match(r.stderr, /pylon doctor/);
    assert.match(r.stderr, /use another port \(`pylon start --port N` for this run/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("pylon stop (subprocess) stops a daemon started in another terminal", async () => {
  const home = await Deno.makeTempDir();
  const child = pylonCommand(["start", "--host", "127.0.0.1", "--port", "0"], {
    env: { PYLON_HOME: home, HOME: home },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    await readUntil(reader, /listening on/, { text: "" });
    await readPidFileEventually(`${home}/daemon.pid`);
    const r = await runPylon(["stop"], { PYLON_HOME: home, HOME: home });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Stopping the daemon \(pid \d+\)\.\.\.\nStopped\.\n/);
    assert.equal((await child.status).code, 0);
    const again = await runPylon(["stop"], { PYLON_HOME: home, HOME: home });
    assert.match(again.stdout, /No daemon is running/);
    const restart = await runPylon(["restart"], { PYLON_HOME: home, HOME: home });
    assert.equal(restart.code, 1);
    assert.match(restart.stderr, /No daemon is running for this PYLON_HOME/);
  } finally {
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    await Deno.remove(home, { recursive: true });
  }
});

async function readPidFileEventually(path: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`${path} never appeared`);
}
