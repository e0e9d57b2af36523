/**
 * `GET /api/jobs` filters of the dashboards: `trigger=<kind>[,...]` and `q=<text>` (id prefix,
 * pylon name, error or result text), together with `pylon`, `status`, `limit` and `before`.
 * Through a real daemon on loopback with real SQLite stores and a scripted runner.
 */

import assert from "node:assert/strict";
import type { JobRunner } from "../../src/queue/mod.ts";
import { eventually, startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";

/** Fails with the payload's `error`, else completes with its `result`. */
const scripted: JobRunner = {
  run(job) {
    const p = job.payload as { error?: string; result?: string };
    return Promise.resolve(
      p.error
        ? { status: "failed", exitCode: 1, error: p.error }
        : { status: "completed", exitCode: 0, result: p.result ?? "ok" },
    );
  },
};

async function ids(d: TestDaemon, query: string): Promise<string[]> {
  const res = await d.api(`/api/jobs?${query}`);
  assert.equal(res.status, 200, `${query}: ${res.status}`);
  return (await res.json()).map((j: { id: string }) => j.id);
}

Deno.test("GET /api/jobs filters by trigger kind and text, with the other filters and paging", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-jobs-filters-" });
  const pylon = (name: string) =>
    `name: ${name}\ntrigger:\n  type: webhook\n  path: /${name}\nagent:\n  prompt: p\n`;
  await writeHome(root, {
    "pylons/alpha/pylon.yaml": pylon("alpha"),
    "pylons/beta/pylon.yaml": pylon("beta"),
  });
  const d = await startTestDaemon(root, { runner: scripted });
  try {
    const made: Record<string, string> = {};
    const send = async (key: string, path: string, payload: unknown) => {
      const res = path.startsWith("/api/")
        ? await d.api(path, { method: "POST", body: JSON.stringify(payload) })
        : await fetch(`${d.url}${path}`, { method: "POST", body: JSON.stringify(payload) });
      assert.equal(res.status, 202);
      made[key] = (await res.json()).job_id;
      await eventually(async () =>
        (await (await d.api(`/api/jobs/${made[key]}`)).json()).finished_at !== null
      );
    };
    await send("full", "/alpha", { error: "disk 100% full_now" });
    await send("plain", "/alpha", { error: "disk 1000 fullXnow" });
    await send("fixed", "/beta", { result: "Fixed the Flaky test" });
    await send("manual", "/api/pylons/beta/trigger", { result: "nothing to do" });
    await send("retry", `/api/jobs/${made.full}/retry`, {});

    assert.deepEqual(await ids(d, "trigger=manual"), [made.manual]);
    assert.deepEqual(await ids(d, "trigger=retry,manual"), [made.retry, made.manual]);
    assert.deepEqual(await ids(d, "trigger=webhook&pylon=beta"), [made.fixed]);
    // LIKE wildcards match themselves; matching ignores ASCII case.
    assert.deepEqual(await ids(d, `q=${encodeURIComponent("100%")}&trigger=webhook`), [made.full]);
    assert.deepEqual(await ids(d, `q=${encodeURIComponent("l_n")}`), [made.retry, made.full]);
    assert.deepEqual(await ids(d, "q=flaky"), [made.fixed]);
    assert.deepEqual(await ids(d, `q=${made.plain!.slice(0, 8)}`), [made.plain]);
    assert.deepEqual(await ids(d, "q=alph&status=failed&trigger=webhook"), [
      made.plain,
      made.full,
    ]);
    assert.deepEqual(await ids(d, `q=${encodeURIComponent("' OR 1=1 --")}`), []);

    // Paging keeps the filters: the next link carries them and goes on after the last job.
    const first = await d.api("/api/jobs?q=disk&limit=1");
    const link = first.headers.get("link")!;
    assert.match(link, /q=disk/);
    assert.deepEqual((await first.json()).map((j: { id: string }) => j.id), [made.retry]);
    const next = link.slice(1, link.indexOf(">"));
    assert.deepEqual(await ids(d, next.slice(next.indexOf("?") + 1)), [made.plain]);

    const badKind = await d.api("/api/jobs?trigger=push");
    assert.equal(badKind.status, 400);
    assert.match((await badKind.json()).error, /unknown trigger "push"; use webhook, cron/);
    const long = await d.api(`/api/jobs?q=${"x".repeat(201)}`);
    assert.equal(long.status, 400);
    assert.match((await long.json()).error, /longer than 200/);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
