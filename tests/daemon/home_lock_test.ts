/**
 * One daemon per pylon home: a second `pylon start` refuses, naming the running daemon, and
 * leaves its pid file alone; `kill -9` frees the home for the next start; a CLI write without a
 * daemon never runs beside one that is starting.
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { acquireHomeLock, HomeLockedError } from "../../src/daemon/mod.ts";
import { readPidFile } from "../../src/daemon/pidfile.ts";
import { createStoreRegistry } from "../../src/store/mod.ts";
import { cli, createTestContext } from "../_helpers/cli.ts";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { freePort, runPylon, startDaemonProcess } from "../_helpers/process.ts";

const PYLON = "name: hook\ntrigger:\n  type: webhook\n  path: /hook\nagent:\n  prompt: hi\n";

async function stopProcess(
  child: Deno.ChildProcess,
  signal: Deno.Signal,
): Promise<Deno.CommandStatus> {
  child.kill(signal);
  const status = await child.status;
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel().catch(() => {});
  return status;
}

Deno.test("a second daemon on the same home refuses to start and keeps the first one's pid file", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-lock-" });
  await writeHome(root, { "pylons/hook/pylon.yaml": PYLON });
  const first = await startTestDaemon(root);
  try {
    const port = Number(new URL(first.url).port);
    const second = startTestDaemon(root);
    const error = await second.then(() => null, (e) => e);
    assert.ok(error instanceof HomeLockedError, `expected HomeLockedError, got ${error}`);
    assert.match(
      error.message,
      new RegExp(`pid ${Deno.pid}, listening on 127\\.0\\.0\\.1:${port}`),
    );
    const info = await readPidFile(first.paths.daemonPid);
    assert.equal(info?.port, port, "the first daemon's pid file was replaced or removed");
    // The refused start opened and closed daemon.lock in this process: the lock must hold.
    await assert.rejects(() => acquireHomeLock(first.paths, "cli"), HomeLockedError);
    const res = await fetch(`${first.url}/hook`, { method: "POST", body: "{}" });
    assert.equal(res.status, 202, "the first daemon stopped serving");
    await res.body?.cancel();
  } finally {
    await first.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("pylon start beside a running daemon exits 1 naming its pid and port; kill -9 frees the home", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-lock-" });
  await writeHome(root, { "pylons/hook/pylon.yaml": PYLON });
  const port = freePort();
  const first = await startDaemonProcess(root, port);
  try {
    const second = await runPylon(["start", "--host", "127.0.0.1", "--port", String(freePort())], {
      PYLON_HOME: root,
      HOME: root,
    });
    assert.equal(second.code, 1, second.stdout + second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`pid ${first.pid}, listening on 127\\.0\\.0\\.1:${port}`),
    );
    assert.match(second.stderr, /pylon stop/);
    const stop = await runPylon(["doctor", "--offline"], { PYLON_HOME: root, HOME: root });
    assert.match(stop.stdout, new RegExp(`pid ${first.pid}`), "doctor no longer sees the daemon");
  } finally {
    assert.equal((await stopProcess(first, "SIGKILL")).signal, "SIGKILL");
  }
  try {
    // The kernel released the lock with the process: the next start needs no clean-up.
    const next = await startDaemonProcess(root, port);
    assert.equal((await stopProcess(next, "SIGTERM")).code, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an offline job command waits a moment for another command, and refuses a starting daemon", async () => {
  await using ctx = await createTestContext();
  const stores = createStoreRegistry(ctx.paths);
  const store = await stores.open("gate");
  const id = crypto.randomUUID();
  await store.insert({
    id,
    pylon: "gate",
    status: "awaiting_approval",
    trigger: "webhook",
    payload: {},
    headers: {},
  });
  await stores.closeAll();
  // A daemon that has taken the lock but does not answer yet (it is starting).
  const lock = await acquireHomeLock(createPylonPaths(ctx.paths.root), "daemon");
  try {
    assert.equal(await cli(ctx, "approve", id.slice(0, 8)), 1);
    assert.match(ctx.stderr(), /Cannot change the job database: another pylon process/);
  } finally {
    lock.release();
  }
  // Another command holding it for a moment: this one waits for it instead of refusing.
  const brief = await acquireHomeLock(createPylonPaths(ctx.paths.root), "cli");
  setTimeout(() => brief.release(), 300);
  assert.equal(await cli(ctx, "approve", id.slice(0, 8)), 0, ctx.stderr());
  const reopened = createStoreRegistry(ctx.paths);
  try {
    assert.equal((await (await reopened.open("gate")).get(id))?.status, "queued");
  } finally {
    await reopened.closeAll();
  }
});
