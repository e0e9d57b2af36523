/**
 * `GET /api/pylons`: every pylon with its trigger, webhook URL and job counts.
 */

import assert from "node:assert/strict";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";

const AGENT = "agent:\n  prompt: p\nworkspace:\n  type: none\n";

Deno.test("GET /api/pylons lists triggers, next cron runs, URLs and job counts", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-pylons-" });
  await writeHome(root, {
    "config.yaml": "server:\n  public_url: https://hooks.example.com/\n",
    "pylons/hook/pylon.yaml": `name: hook\ntrigger:\n  type: webhook\n  path: /hook\n${AGENT}`,
    "pylons/nightly/pylon.yaml": "name: nightly\ntrigger:\n  type: cron\n" +
      `  cron: "30 2 * * *"\n  timezone: Europe/Berlin\n${AGENT}`,
    "pylons/off/pylon.yaml": `name: off\ndisabled: true\ntrigger:\n  type: webhook\n` +
      `  path: /off\n${AGENT}`,
    "pylons/broken/pylon.yaml": `name: broken\ntrigger:\n  type: webhook\n  path: /broken\n` +
      `  bogus: 1\n${AGENT}`,
  });
  const d = await startTestDaemon(root); // no runner: jobs stay queued
  try {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${d.url}/hook`, { method: "POST", body: "{}" });
      assert.equal(res.status, 202);
      await res.body?.cancel();
    }
    const unauthorized = await fetch(`${d.url}/api/pylons`);
    assert.equal(unauthorized.status, 401);
    await unauthorized.body?.cancel();
    const res = await d.api("/api/pylons");
    assert.equal(res.status, 200);
    const pylons = await res.json();
    const byName = Object.fromEntries(pylons.map((p: { name: string }) => [p.name, p]));
    assert.deepEqual(pylons.map((p: { name: string }) => p.name), [
      "broken",
      "hook",
      "nightly",
      "off",
    ]);
    assert.equal(byName.hook.enabled, true);
    assert.equal(byName.hook.state, "active");
    assert.deepEqual(byName.hook.trigger, {
      type: "webhook",
      path: "/hook",
      url: "https://hooks.example.com/hook",
    });
    assert.equal(byName.hook.webhook_url, "https://hooks.example.com/hook");
    assert.equal(byName.hook.jobs.queued, 2);
    assert.equal(byName.hook.jobs.completed, 0);

    const cron = byName.nightly.trigger;
    assert.equal(cron.type, "cron");
    assert.equal(cron.cron, "30 2 * * *");
    assert.equal(cron.timezone, "Europe/Berlin");
    assert.match(cron.description, /02:30/);
    const next = new Date(cron.next_run);
    assert.ok(next.getTime() > Date.now() && next.getTime() <= Date.now() + 25 * 3_600_000);
    const berlin = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/Berlin",
      hour: "2-digit",
      minute: "2-digit",
    }).format(next);
    assert.equal(berlin, "02:30");
    assert.equal(byName.nightly.webhook_url, null);

    assert.equal(byName.off.enabled, false);
    assert.equal(byName.off.state, "disabled");
    assert.equal(byName.broken.enabled, true);
    assert.equal(byName.broken.state, "not_loaded");
    assert.equal(byName.broken.trigger, null);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
