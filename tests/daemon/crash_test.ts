// deno-lint-ignore-file no-console
/**
 * `kill -9` in the middle of a flood of webhooks: every job that got a 202 is in its database
 * afterwards, and the next daemon recovers it as queued.
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { createStoreRegistry } from "../../src/store/mod.ts";
import { freePort, startDaemonProcess } from "../_helpers/process.ts";
import { writeHome } from "../_helpers/daemon.ts";

Deno.test("kill -9 during a flood loses no acknowledged job", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-crash-" });
  await writeHome(root, {
    "config.yaml": "docker:\n  max_queue: 100000\n",
    "pylons/flood/pylon.yaml":
      "name: flood\ntrigger:\n  type: webhook\n  path: /flood\nagent:\n  prompt: hi\n",
  });
  const port = freePort();
  const child = await startDaemonProcess(root, port);
  const acknowledged: string[] = [];
  let stop = false;
  const sender = async (n: number) => {
    for (let i = 0; !stop; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/flood`, {
          method: "POST",
          body: JSON.stringify({ sender: n, i }),
        });
        if (res.status === 202) acknowledged.push((await res.json()).job_id);
        else await res.body?.cancel();
      } catch {
        return; // the daemon is gone
      }
    }
  };
  const senders = Array.from({ length: 16 }, (_, n) => sender(n));
  while (acknowledged.length < 300) await new Promise((r) => setTimeout(r, 10));
  child.kill("SIGKILL");
  stop = true;
  await Promise.all(senders);
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL");
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel().catch(() => {});

  const stores = createStoreRegistry(createPylonPaths(root));
  try {
    const store = await stores.open("flood");
    const missing: string[] = [];
    for (const id of acknowledged) if (!(await store.get(id))) missing.push(id);
    assert.deepEqual(
      missing,
      [],
      `${missing.length} of ${acknowledged.length} acknowledged jobs lost`,
    );
    console.log(`kill -9 after ${acknowledged.length} acknowledged jobs: all present`);
  } finally {
    await stores.closeAll();
  }

  const again = await startDaemonProcess(root, port);
  try {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    again.kill("SIGTERM");
    assert.equal((await again.status).code, 0);
    const err = await new Response(again.stderr).text();
    assert.match(err, /event=jobs\.recovered queued=\d+/);
    await again.stdout.cancel().catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
});
