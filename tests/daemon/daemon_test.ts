/**
 * The daemon end to end over loopback HTTP with real job databases: ingest answers, the queue,
 * approval and the control API, metrics, duplicate deliveries and restarts.
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { signRequest } from "../../src/daemon/mod.ts";
import { createStoreRegistry } from "../../src/store/mod.ts";
import { createScriptedRunner } from "../fakes/runner_fake.ts";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";

const GITHUB_SECRET = "It's a Secret to Everybody";

function pylonYaml(name: string, extra = ""): string {
  return `name: ${name}\ntrigger:\n  type: webhook\n  path: /${name}\n${extra}agent:\n  prompt: "PR {{ .body.number }}"\n`;
}

async function home(files: Record<string, string> = {}): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "pylon-daemon-" });
  await writeHome(root, {
    "pylons/gh/pylon.yaml": pylonYaml(
      "gh",
      '  secret: "${GH_SECRET}"\n  signature_header: X-Hub-Signature-256\n',
    ),
    "pylons/gh/.env": `GH_SECRET=${GITHUB_SECRET}\n`,
    "pylons/plain/pylon.yaml": pylonYaml("plain"),
    "pylons/gate/pylon.yaml": pylonYaml("gate", "channel:\n  approval: true\n"),
    ...files,
  });
  return root;
}

async function jobIn(root: string, pylon: string, id: string) {
  const stores = createStoreRegistry(createPylonPaths(root));
  try {
    const store = await stores.open(pylon);
    return await store.get(id);
  } finally {
    await stores.closeAll();
  }
}

async function signed(body: string, delivery?: string): Promise<Record<string, string>> {
  const headers = await signRequest(
    { secret: GITHUB_SECRET, header: "X-Hub-Signature-256", format: "auto" },
    new TextEncoder().encode(body),
  );
  return {
    "content-type": "application/json",
    "x-github-event": "pull_request",
    ...(delivery ? { "x-github-delivery": delivery } : {}),
    ...headers,
  };
}

Deno.test("daemon accepts a signed GitHub webhook, stores it before answering, and runs it", async () => {
  const root = await home();
  const runner = createScriptedRunner();
  const d = await startTestDaemon(root, { runner });
  try {
    const body = JSON.stringify({ action: "opened", number: 7 });
    const res = await fetch(`${d.url}/gh`, { method: "POST", headers: await signed(body), body });
    assert.equal(res.status, 202);
    const answer = await res.json();
    assert.equal(answer.status, "queued");
    assert.match(answer.job_id, /^[0-9a-f-]{36}$/);
    const job = await eventually(async () => {
      const r = await d.api(`/api/jobs/${answer.job_id}`);
      const j = await r.json();
      return j.status === "completed" ? j : undefined;
    });
    assert.equal(job.result, `done ${answer.job_id.slice(0, 8)}`);
    assert.deepEqual(job.payload, { action: "opened", number: 7 });
    assert.equal(job.headers["x-github-event"], "pull_request");
    assert.equal(job.headers["x-hub-signature-256"], undefined, "signatures are not stored");
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("daemon answers every bad request with the right status and a one-line reason", async () => {
  const root = await home({ "config.yaml": "server:\n  max_body: 1k\n" });
  const d = await startTestDaemon(root);
  try {
    const body = JSON.stringify({ number: 1 });
    const cases: [string, RequestInit, number, RegExp][] = [
      ["/gh", { method: "POST", body }, 401, /missing X-Hub-Signature-256/i],
      [
        "/gh",
        { method: "POST", body, headers: { "x-hub-signature-256": "sha256=" + "0".repeat(64) } },
        401,
        /does not match/,
      ],
      ["/plain", { method: "POST", body: "{not json" }, 400, /not valid JSON/],
      ["/plain", { method: "POST", body: "[1,2]" }, 400, /JSON object/],
      [
        "/plain",
        { method: "POST", body: JSON.stringify({ x: "y".repeat(2000) }) },
        413,
        /max_body/,
      ],
      ["/nowhere", { method: "POST", body }, 404, /no pylon listens on \/nowhere/],
      ["/plain", { method: "GET" }, 405, /use POST/],
      ["/api/jobs", {}, 401, /bearer token/],
      ["/metrics", {}, 401, /bearer token/],
    ];
    for (const [path, init, status, reason] of cases) {
      const res = await fetch(d.url + path, init);
      const text = await res.text();
      assert.equal(res.status, status, `${path} ${text}`);
      const { error } = JSON.parse(text);
      assert.match(error, reason);
      assert.doesNotMatch(error, /\n/);
    }
    const health = await fetch(`${d.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok", service: "pylon" });
    const closed = await fetch(`${d.url}/api/status`);
    assert.equal(closed.status, 401);
    await closed.body?.cancel();
    const status = await (await d.api("/api/status")).json();
    assert.equal(status.service, "pylon");
    assert.equal(status.pylons, 3);
    assert.match(status.version, /^\d+\.\d+\.\d+/);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("daemon returns the first job with 200 for a repeated delivery id", async () => {
  const root = await home();
  const d = await startTestDaemon(root);
  try {
    const body = JSON.stringify({ number: 3 });
    const first = await fetch(`${d.url}/gh`, {
      method: "POST",
      headers: await signed(body, "d-1"),
      body,
    });
    assert.equal(first.status, 202);
    const { job_id } = await first.json();
    const again = await fetch(`${d.url}/gh`, {
      method: "POST",
      headers: await signed(body, "d-1"),
      body,
    });
    assert.equal(again.status, 200);
    const dup = await again.json();
    assert.equal(dup.job_id, job_id);
    assert.equal(dup.duplicate, true);
    const other = await fetch(`${d.url}/gh`, {
      method: "POST",
      headers: await signed(body, "d-2"),
      body,
    });
    assert.equal(other.status, 202);
    await other.body?.cancel();
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("daemon answers 409 when a delivery id comes again with a different body", async () => {
  const root = await home();
  const d = await startTestDaemon(root);
  try {
    const post = async (body: string, delivery: string) => {
      const res = await fetch(`${d.url}/gh`, {
        method: "POST",
        headers: await signed(body, delivery),
        body,
      });
      return { status: res.status, body: await res.json() };
    };
    const first = await post(JSON.stringify({ number: 3, title: "a" }), "d-9");
    assert.equal(first.status, 202);
    const stored = await jobIn(root, "gh", first.body.job_id);
    assert.match(stored?.bodyDigest ?? "", /^[0-9a-f]{64}$/);
    // The same event re-serialised (other key order, spacing) is a redelivery.
    const again = await post('{ "title": "a", "number": 3 }', "d-9");
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.job_id, first.body.job_id);
    const other = await post(JSON.stringify({ number: 4, title: "a" }), "d-9");
    assert.equal(other.status, 409);
    assert.match(other.body.error, /already used by job [0-9a-f]{8} with a different body/);
    assert.match(d.logs.join("\n"), /webhook.rejected .*status=409/);
    const jobs = await (await d.api("/api/jobs?pylon=gh")).json();
    assert.equal(jobs.length, 1, "the different body made no job");
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("daemon bounds the backlog with 429 and Retry-After when the queue is full", async () => {
  const root = await home({ "config.yaml": "docker:\n  max_queue: 2\n" });
  const d = await startTestDaemon(root); // no runner: jobs stay queued
  try {
    const post = () => fetch(`${d.url}/plain`, { method: "POST", body: "{}" });
    assert.equal((await (await post()).json()).status, "queued");
    assert.equal((await (await post()).json()).status, "queued");
    const full = await post();
    assert.equal(full.status, 429);
    assert.equal(full.headers.get("retry-after"), "60");
    assert.match((await full.json()).error, /queue is full/);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("approval: a job waits, approve queues and runs it once, a second click is refused", async () => {
  const root = await home();
  const runner = createScriptedRunner();
  const d = await startTestDaemon(root, { runner });
  try {
    const res = await fetch(`${d.url}/gate`, {
      method: "POST",
      body: JSON.stringify({ number: 9 }),
    });
    const { job_id, status } = await res.json();
    assert.equal(status, "awaiting_approval");
    assert.equal(runner.ran.length, 0);
    const ok = await d.api(`/api/jobs/${job_id.slice(0, 8)}/approve`, { method: "POST" });
    assert.equal(ok.status, 200, await ok.clone().text());
    await ok.body?.cancel();
    const twice = await d.api(`/api/jobs/${job_id}/approve`, { method: "POST" });
    assert.equal(twice.status, 409);
    assert.match((await twice.json()).error, /not awaiting_approval/);
    await eventually(async () => (await jobIn(root, "gate", job_id))?.status === "completed");
    assert.equal(runner.ran.length, 1);

    const second = await (await fetch(`${d.url}/gate`, { method: "POST", body: "{}" })).json();
    const ignored = await d.api(`/api/jobs/${second.job_id}/ignore`, { method: "POST" });
    assert.equal((await ignored.json()).status, "dismissed");
    const late = await d.api(`/api/jobs/${second.job_id}/approve`, { method: "POST" });
    assert.equal(late.status, 409, "a dismissed job cannot be resurrected");
    await late.body?.cancel();
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("control API lists, triggers, kills and retries jobs; metrics report them", async () => {
  const root = await home();
  const runner = createScriptedRunner();
  runner.hold();
  const d = await startTestDaemon(root, { runner });
  try {
    const trig = await d.api("/api/pylons/plain/trigger", {
      method: "POST",
      body: '{"why":"manual"}',
    });
    assert.equal(trig.status, 202);
    const { job_id } = await trig.json();
    await eventually(() => Promise.resolve(runner.active.has(job_id)));
    const kill = await d.api(`/api/jobs/${job_id}/kill`, { method: "POST" });
    assert.equal(kill.status, 202);
    await kill.body?.cancel();
    await eventually(async () => (await jobIn(root, "plain", job_id))?.status === "killed");
    runner.release();
    const retry = await d.api(`/api/jobs/${job_id}/retry`, { method: "POST" });
    assert.equal(retry.status, 202);
    const again = await retry.json();
    assert.equal(again.attempt, 2);
    const retried = await eventually(async () => {
      const j = await jobIn(root, "plain", again.job_id);
      return j?.status === "completed" ? j : undefined;
    });
    assert.equal(retried!.parentId, job_id);
    assert.deepEqual(retried!.payload, { why: "manual" });
    const list = await (await d.api("/api/jobs?pylon=plain")).json();
    assert.deepEqual(list.map((j: { status: string }) => j.status), ["completed", "killed"]);
    const missing = await d.api("/api/jobs/ffffffff");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const metrics = await (await d.api("/metrics")).text();
    assert.match(metrics, /^pylon_jobs\{pylon="plain",status="completed"\} 1$/m);
    assert.match(metrics, /^pylon_jobs\{pylon="plain",status="killed"\} 1$/m);
    assert.match(metrics, /^pylon_queue_depth 0$/m);
  } finally {
    runner.release();
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("jobs acknowledged by a daemon without a free slot survive a restart and run in order", async () => {
  const root = await home();
  const first = await startTestDaemon(root);
  const ids: string[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${first.url}/plain`, {
        method: "POST",
        body: JSON.stringify({ i }),
      });
      ids.push((await res.json()).job_id);
    }
  } finally {
    await first.stop();
  }
  const runner = createScriptedRunner();
  const second = await startTestDaemon(root, { runner });
  try {
    await second.waitForLog(/event=jobs\.recovered queued=5/);
    await eventually(() => Promise.resolve(runner.ran.length === 5));
    assert.deepEqual(runner.ran.map((j) => j.id), ids, "FIFO order");
  } finally {
    await second.stop();
    await Deno.remove(root, { recursive: true });
  }
});
