/**
 * `GET /api/pylons` as the dashboards read it: workspace, agent and channels without secrets,
 * why a pylon is disabled or not loaded, its last job, success rate, cost today and this month
 * (in its budget's zone), and the jobs waiting for a person. Through a real daemon on loopback
 * with real SQLite stores; the runner is scripted (no Docker needed for these figures).
 */

import assert from "node:assert/strict";
import type { JobRunner } from "../../src/queue/mod.ts";
import type { JobUsage } from "../../src/store/mod.ts";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";

/** What an agent reports it used: only the dollars matter here. */
function usage(costUsd: number): JobUsage {
  return {
    costUsd,
    costBasis: "api",
    inputTokens: 10,
    outputTokens: 5,
    cacheReadTokens: null,
    cacheCreationTokens: null,
    numTurns: 1,
    durationApiMs: 100,
    models: ["claude-sonnet-4-5"],
  };
}

/** Ends each job as its payload says: `{"outcome": "failed", "cost": 0.5}`. */
const scripted: JobRunner = {
  run(job) {
    const p = job.payload as { outcome?: "completed" | "failed"; cost?: number };
    return Promise.resolve({
      status: p.outcome ?? "completed",
      exitCode: p.outcome === "failed" ? 1 : 0,
      result: p.outcome === "failed" ? null : "ok",
      error: p.outcome === "failed" ? "the agent gave up" : null,
      usage: usage(p.cost ?? 0),
    });
  },
};

const TOKEN = "ghp_averylongsecrettokenvalue123";

Deno.test("GET /api/pylons shows each pylon's setup, figures and what waits for a person", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-pylons-figures-" });
  await writeHome(root, {
    "config.yaml": "server:\n  host: 127.0.0.1\n  port: 9911\n",
    "pylons/hook/.env": `GIT_TOKEN=${TOKEN}\n`,
    "pylons/hook/pylon.yaml": [
      "name: hook",
      "trigger:\n  type: webhook\n  path: /hook",
      "workspace:",
      "  type: git-clone",
      "  repo: https://oauth2:${GIT_TOKEN}@git.example.com/acme/app.git",
      "  ref: main",
      "agent:\n  prompt: fix it\n  model: sonnet",
      "budget:\n  daily_usd: 100\n  timezone: America/New_York",
      "",
    ].join("\n"),
    "pylons/gate/pylon.yaml": "name: gate\ntrigger:\n  type: webhook\n  path: /gate\n" +
      "channel:\n  approval: true\nagent:\n  prompt: p\n",
    "pylons/off/pylon.yaml": "name: off\ndisabled: true\ntrigger:\n  type: cron\n" +
      '  cron: "0 9 * * 1"\n  timezone: Europe/Berlin\nagent:\n  prompt: p\n',
    "pylons/broken/pylon.yaml": "name: broken\ntrigger:\n  type: webhook\n  path: /broken\n" +
      "  bogus: 1\nagent:\n  prompt: p\n",
  });
  const d = await startTestDaemon(root, { runner: scripted, env: { TZ: "Asia/Tokyo" } });
  try {
    for (const body of [{ cost: 0.25 }, { outcome: "failed", cost: 0.5 }, { cost: 0.125 }]) {
      const res = await fetch(`${d.url}/hook`, { method: "POST", body: JSON.stringify(body) });
      assert.equal(res.status, 202);
      const { job_id: id } = await res.json();
      // One at a time: the last one posted is the pylon's last job.
      await eventually(async () => {
        const job = await (await d.api(`/api/jobs/${id}`)).json();
        return job.finished_at !== null;
      });
    }
    const gated = await fetch(`${d.url}/gate`, { method: "POST", body: "{}" });
    assert.equal(gated.status, 202);
    const { job_id: gatedId } = await gated.json();

    const res = await d.api("/api/pylons");
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.doesNotMatch(text, new RegExp(TOKEN), "no secret in the listing");
    // deno-lint-ignore no-explicit-any
    const byName: Record<string, any> = Object.fromEntries(
      (JSON.parse(text) as { name: string }[]).map((p) => [p.name, p]),
    );

    const hook = byName.hook;
    assert.equal(hook.state, "active");
    assert.equal(hook.reason, null);
    assert.deepEqual(hook.trigger, {
      type: "webhook",
      path: "/hook",
      url: `${d.url}/hook`, // the address it listens on, not config.yaml's port
    });
    assert.deepEqual(hook.workspace, {
      type: "git-clone",
      repo: "https://git.example.com/acme/app.git",
      ref: "main",
      path: null,
    });
    assert.deepEqual(hook.agent, { type: "claude", model: "sonnet" });
    assert.deepEqual(hook.channels, ["stdout"]);
    assert.equal(hook.last_job.status, "completed");
    assert.ok(hook.last_job.finished_at);
    assert.deepEqual(hook.success_rate, { completed: 2, finished: 3, rate: 2 / 3, days: 30 });
    assert.deepEqual(hook.cost, {
      today_usd: 0.875,
      month_usd: 0.875,
      timezone: "America/New_York",
    });
    assert.deepEqual(hook.waiting, { awaiting_approval: 0, held: 0 });

    const gate = byName.gate;
    assert.deepEqual(gate.waiting, { awaiting_approval: 1, held: 0 });
    assert.equal(gate.last_job.id, gatedId);
    assert.equal(gate.last_job.status, "awaiting_approval");
    assert.deepEqual(gate.success_rate, { completed: 0, finished: 0, rate: null, days: 30 });
    // No budget: the daemon's local zone.
    assert.deepEqual(gate.cost, { today_usd: 0, month_usd: 0, timezone: "Asia/Tokyo" });

    const off = byName.off;
    assert.equal(off.state, "disabled");
    assert.equal(off.enabled, false);
    assert.match(off.reason, /disabled: true/);
    assert.equal(off.trigger.type, "cron");
    assert.equal(off.trigger.timezone, "Europe/Berlin");
    assert.match(off.trigger.description, /09:00/);
    assert.ok(new Date(off.trigger.next_run).getTime() > Date.now());

    const broken = byName.broken;
    assert.equal(broken.state, "not_loaded");
    assert.equal(broken.trigger, null);
    assert.match(broken.reason, /pylons\/broken\/pylon\.yaml:5: trigger\.bogus: unknown key/);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a pylon cannot take a webhook path under /dashboard, /api, /healthz or /metrics", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-pylons-reserved-" });
  await writeHome(root, {
    "pylons/dash/pylon.yaml": "name: dash\ntrigger:\n  type: webhook\n  path: /dashboard/x\n" +
      "agent:\n  prompt: p\n",
  });
  const d = await startTestDaemon(root);
  try {
    const pylons = await (await d.api("/api/pylons")).json();
    assert.equal(pylons[0].state, "not_loaded");
    assert.match(
      pylons[0].reason,
      /pylon\.yaml:4: trigger\.path: "\/dashboard\/x" is under \/dashboard, where the daemon serves the web dashboard; pick a path outside .*e\.g\. \/hooks\/dashboard\/x/,
    );
    const res = await fetch(`${d.url}/dashboard/x`, { method: "POST", body: "{}" });
    assert.notEqual(res.status, 202, "no job is made on a reserved path");
    await res.body?.cancel();
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
