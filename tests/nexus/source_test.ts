import assert from "node:assert/strict";
import type { JobView } from "../../src/nexus/model.ts";
import { checkForUpdate, startDaemon, stopDaemon } from "../../src/nexus/outside.ts";
import { freePort } from "../_helpers/process.ts";
import { followLog, performAction, readSnapshot, watchJobs } from "../../src/nexus/source.ts";
import { eventually, startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { contextFor, holdingRunner, HOSTILE, nexusHome } from "./_home.ts";

async function post(d: TestDaemon, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${d.url}${path}`, { method: "POST", body: '{"title":"x"}' });
  return { status: res.status, body: await res.json().catch(() => null) };
}

Deno.test("the data layer reads, acts and streams through a real daemon, then reads the files without one", async () => {
  const root = await nexusHome();
  const ctx = contextFor(root);
  const runner = holdingRunner(() => ctx.paths.jobsDir, () => `working\n${HOSTILE}`);
  const d = await startTestDaemon(root, { runner });
  const stop = new AbortController();
  let watching: Promise<void> | undefined;
  try {
    const deps = { ctx };
    const first = await readSnapshot(deps);
    assert.equal(first.daemon, true);
    assert.deepEqual(first.pylons.map((p) => [p.name, p.state]), [
      ["gated", "active"],
      ["hook", "active"],
      ["nightly", "active"],
    ]);
    const nightly = first.pylons.find((p) => p.name === "nightly")!;
    assert.equal(nightly.trigger?.type, "cron");
    assert.ok(nightly.trigger?.type === "cron" && nightly.trigger.nextRun instanceof Date);
    assert.equal(first.pylons.find((p) => p.name === "gated")!.autoRun, false);
    assert.match(first.pylons.find((p) => p.name === "hook")!.webhookUrl ?? "", /\/hook$/);

    // A job change arrives on the event stream.
    const seen: JobView[] = [];
    const open = Promise.withResolvers<void>();
    watching = watchJobs(deps, (j) => seen.push(j), {
      signal: stop.signal,
      retryMs: 50,
      onOpen: () => open.resolve(),
    });
    await open.promise;
    const gated = await post(d, "/gated");
    const gatedId = (gated.body as { job_id: string }).job_id;
    await eventually(() =>
      Promise.resolve(seen.some((j) => j.id === gatedId && j.status === "awaiting_approval"))
    );
    const waiting = await readSnapshot(deps);
    assert.deepEqual(waiting.waiting.map((j) => j.id), [gatedId]);

    // Approve it; it runs (and waits in the runner).
    assert.match(await performAction(deps, { kind: "approve", job: gatedId }), /approved/);
    await eventually(() => Promise.resolve(runner.running.has(gatedId)));

    // Its log streams, as written (the view sanitises).
    let log = "";
    const logStop = new AbortController();
    const following = followLog(deps, gatedId, (t) => log += t, {
      signal: logStop.signal,
      retryMs: 50,
    });
    await eventually(() => Promise.resolve(log.includes("after-escapes")));
    assert.match(log, /^working\n/);
    logStop.abort();
    await following;

    // Kill it: the daemon stops the run.
    assert.match(await performAction(deps, { kind: "kill", job: gatedId }), /kill requested/);
    await eventually(async () =>
      (await readSnapshot(deps)).jobs.find((j) => j.id === gatedId)?.status === "killed"
    );
    // A finished job cannot be killed again: the daemon refuses, nothing changes.
    await assert.rejects(performAction(deps, { kind: "kill", job: gatedId }), /cannot kill/);

    // Fire the cron pylon.
    assert.match(await performAction(deps, { kind: "fire", pylon: "nightly" }), /nightly fired/);
    runner.release();

    // Disable: its path stops running jobs; enable brings it back.
    assert.equal(await performAction(deps, { kind: "disable", pylon: "hook" }), "hook disabled");
    const off = await post(d, "/hook");
    assert.notEqual(off.status, 202);
    assert.equal(
      (await readSnapshot(deps)).pylons.find((p) => p.name === "hook")!.state,
      "disabled",
    );
    assert.equal(await performAction(deps, { kind: "enable", pylon: "hook" }), "hook enabled");
    await eventually(async () => (await post(d, "/hook")).status === 202);
    runner.release();
  } finally {
    stop.abort();
    runner.release();
    await d.stop();
    await watching;
  }
  // Without a daemon: the same jobs, read-only; actions that need one say so.
  const offline = await readSnapshot({ ctx });
  assert.equal(offline.daemon, false);
  assert.ok(offline.jobs.some((j) => j.pylon === "gated" && j.status === "killed"));
  await assert.rejects(
    performAction({ ctx }, { kind: "approve", job: offline.jobs[0]!.id }),
    /press d to start it/,
  );
  assert.match(
    await performAction({ ctx }, { kind: "disable", pylon: "nightly" }),
    /nightly disabled \(applies when the daemon starts\)/,
  );
  assert.equal(
    (await readSnapshot({ ctx })).pylons.find((p) => p.name === "nightly")!.state,
    "disabled",
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("checkForUpdate() reports a newer release, and nothing when it cannot tell", async () => {
  let tag = "v9.9.9";
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => Response.json({ "tag_name": tag }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/releases/latest`;
  const binary = "/usr/local/bin/pylon";
  assert.equal(await checkForUpdate({ url, execPath: binary, current: "0.1.0" }), "9.9.9");
  tag = "v0.1.0";
  assert.equal(await checkForUpdate({ url, execPath: binary, current: "0.1.0" }), null);
  // A build ahead of the latest release is not offered a downgrade (numbers, not strings).
  tag = "v0.9.0";
  assert.equal(await checkForUpdate({ url, execPath: binary, current: "0.10.0" }), null);
  tag = "v0.10.0";
  assert.equal(await checkForUpdate({ url, execPath: binary, current: "0.9.3" }), "0.10.0");
  tag = "v9.9.9";
  assert.equal(
    await checkForUpdate({ url, execPath: "/usr/bin/deno", current: "0.1.0" }),
    null,
    "from source there is nothing to upgrade",
  );
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadUrl = `http://127.0.0.1:${(closed.addr as Deno.NetAddr).port}/`;
  closed.close();
  assert.equal(await checkForUpdate({ url: deadUrl, execPath: binary, current: "0.1.0" }), null);
});

Deno.test("startDaemon() starts a detached daemon that logs to daemon.log; stopDaemon() stops it", async () => {
  const root = await nexusHome();
  const port = freePort();
  await Deno.writeTextFile(`${root}/config.yaml`, `server:\n  host: 127.0.0.1\n  port: ${port}\n`);
  const ctx = contextFor(root);
  try {
    const said = await startDaemon(ctx);
    assert.match(said, /started the daemon \(log: .*daemon\.log\)/);
    assert.equal((await readSnapshot({ ctx })).daemon, true);
    assert.match(await Deno.readTextFile(`${root}/daemon.log`), /daemon\.listening/);
    assert.match(await stopDaemon(ctx), /stop|Stopped|stopped/);
    await eventually(async () => !(await readSnapshot({ ctx })).daemon, 15_000);
  } finally {
    // Whatever happened above, no daemon of this test outlives it.
    const pid = await Deno.readTextFile(`${root}/daemon.pid`).then((t) => JSON.parse(t).pid)
      .catch(() => undefined);
    if (typeof pid === "number") {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await Deno.remove(root, { recursive: true });
  }
});
