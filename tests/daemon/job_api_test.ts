/**
 * `GET /api/jobs/<id>` with the job's status history, and `GET /api/jobs/<id>/log`: byte
 * ranges of its saved output, readable while it grows, never through a link.
 */

import assert from "node:assert/strict";
import { startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";

const PYLON = "name: hook\ntrigger:\n  type: webhook\n  path: /hook\n" +
  "agent:\n  prompt: p\nworkspace:\n  type: none\n";

async function withDaemon(fn: (d: TestDaemon) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "pylon-jobapi-" });
  await writeHome(root, { "pylons/hook/pylon.yaml": PYLON });
  const d = await startTestDaemon(root); // no runner: jobs stay queued
  try {
    await fn(d);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
}

async function webhookJob(d: TestDaemon): Promise<string> {
  const res = await fetch(`${d.url}/hook`, { method: "POST", body: "{}" });
  assert.equal(res.status, 202);
  return (await res.json()).job_id;
}

Deno.test("GET /api/jobs/<id> includes the status history with reasons", async () => {
  await withDaemon(async (d) => {
    const id = await webhookJob(d);
    const killed = await d.api(`/api/jobs/${id}/kill`, { method: "POST" });
    assert.equal(killed.status, 200);
    await killed.body?.cancel();
    const res = await d.api(`/api/jobs/${id.slice(0, 8)}`);
    assert.equal(res.status, 200);
    const job = await res.json();
    assert.equal(job.status, "killed");
    assert.deepEqual(
      job.history.map((h: Record<string, unknown>) => [h.from, h.status, h.reason]),
      [[null, "queued", "webhook"], ["queued", "killed", "killed before it started"]],
    );
    for (const h of job.history) assert.ok(!Number.isNaN(Date.parse(h.at)));
    const open = await fetch(`${d.url}/api/jobs/${id}`);
    assert.equal(open.status, 401);
    await open.body?.cancel();
    const missing = await d.api("/api/jobs/ffffffff");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });
});

Deno.test("GET /api/jobs/<id>/log serves byte ranges of a growing log, never a link", async () => {
  await withDaemon(async (d) => {
    const id = await webhookJob(d);
    const read = async (query = "") => {
      const res = await d.api(`/api/jobs/${id}/log${query}`);
      const body = await res.text();
      return { status: res.status, body, headers: res.headers };
    };
    const none = await read();
    assert.equal(none.status, 200);
    assert.equal(none.body, "");
    assert.equal(none.headers.get("x-log-size"), "0");
    assert.equal(none.headers.get("content-type"), "text/plain; charset=utf-8");

    const log = `${d.paths.jobsDir}/${id}.log`;
    await Deno.mkdir(d.paths.jobsDir, { recursive: true });
    await Deno.writeTextFile(log, "line one\nline two ✓\n");
    const all = await read();
    assert.equal(all.body, "line one\nline two ✓\n");
    const size = new TextEncoder().encode(all.body).length;
    assert.equal(all.headers.get("x-log-size"), String(size));
    assert.equal(all.headers.get("x-log-next-offset"), String(size));
    const part = await read("?offset=5&limit=3");
    assert.equal(part.body, "one");
    assert.equal(part.headers.get("x-log-next-offset"), "8");

    await Deno.writeTextFile(log, "line three\n", { append: true });
    const more = await read(`?offset=${size}`);
    assert.equal(more.body, "line three\n");
    assert.equal(more.headers.get("x-log-size"), String(size + 11));
    const past = await read("?offset=100000");
    assert.equal(past.status, 200);
    assert.equal(past.body, "");

    for (const bad of ["?offset=-1", "?offset=x", "?limit=0", "?limit=1.5"]) {
      assert.equal((await read(bad)).status, 400, bad);
    }
    const open = await fetch(`${d.url}/api/jobs/${id}/log`);
    assert.equal(open.status, 401);
    await open.body?.cancel();
    const missing = await d.api("/api/jobs/ffffffff/log");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();

    const secret = `${d.paths.root}/secret.txt`;
    await Deno.writeTextFile(secret, "not for the API\n");
    await Deno.remove(log);
    await Deno.symlink(secret, log);
    const linked = await read();
    assert.equal(linked.status, 409);
    assert.doesNotMatch(linked.body, /not for the API/);
  });
});
