/**
 * `POST /api/pylons/<name>/enable` and `/disable`: the flag is written into pylon.yaml with its
 * comments kept, and applied at once (the watcher's later reload changes nothing).
 */

import assert from "node:assert/strict";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";

const FILE = `# Triage for Sentry alerts.
name: hook  # keep in sync with the folder
trigger:
  type: webhook
  path: /hook   # Sentry posts here
agent:
  prompt: p
workspace:
  type: none
`;

Deno.test("POST /api/pylons/<name>/disable and /enable toggle the pylon, keeping comments", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-toggle-" });
  await writeHome(root, { "pylons/hook/pylon.yaml": FILE });
  const d = await startTestDaemon(root);
  const file = `${root}/pylons/hook/pylon.yaml`;
  const post = async (path: string, init: RequestInit = {}) => {
    const res = await d.api(path, { method: "POST", ...init });
    return { status: res.status, body: await res.json() };
  };
  try {
    const open = await fetch(`${d.url}/api/pylons/hook/disable`, { method: "POST" });
    assert.equal(open.status, 401);
    await open.body?.cancel();
    assert.equal((await post("/api/pylons/nope/disable")).status, 404);
    assert.equal((await post("/api/pylons/..%2Fx/disable")).status, 400);
    assert.equal(await Deno.readTextFile(file), FILE, "refused requests change nothing");

    const off = await post("/api/pylons/hook/disable");
    assert.equal(off.status, 200);
    assert.deepEqual(off.body, { name: "hook", enabled: false, changed: true, state: "disabled" });
    assert.equal(
      await Deno.readTextFile(file),
      FILE.replace("the folder\n", "the folder\ndisabled: true\n"),
    );
    const ignored = await fetch(`${d.url}/hook`, { method: "POST", body: "{}" });
    assert.equal(ignored.status, 200);
    assert.equal((await ignored.json()).status, "ignored");
    assert.equal((await post("/api/pylons/hook/disable")).body.changed, false);

    const on = await post("/api/pylons/hook/enable");
    assert.deepEqual(on.body, { name: "hook", enabled: true, changed: true, state: "active" });
    assert.equal(await Deno.readTextFile(file), FILE);
    const accepted = await fetch(`${d.url}/hook`, { method: "POST", body: "{}" });
    assert.equal(accepted.status, 202);
    await accepted.body?.cancel();
    const pylons = await (await d.api("/api/pylons")).json();
    assert.equal(pylons[0].enabled, true);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
