/**
 * `DELETE /api/pylons/<name>`: refuses unfinished jobs without force; with force kills the
 * running job through the dispatcher, cancels the waiting ones, waits for the kill, takes the
 * pylon out of service, closes its store and deletes its folders and job files.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createPylonPaths } from "../../src/config/mod.ts";
import { createStoreRegistry } from "../../src/store/mod.ts";
import { createScriptedRunner } from "../fakes/runner_fake.ts";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";

function webhookYaml(name: string): string {
  return `name: ${name}\ntrigger:\n  type: webhook\n  path: /${name}\nagent:\n  prompt: hi\n`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Files under `dir` this process (the daemon, in-process) holds open, deleted ones too. Read by
 * `find`: Deno asks for --allow-all to read `/proc/self` itself.
 */
async function openFilesUnder(dir: string): Promise<string[]> {
  const { stdout, success, stderr } = await new Deno.Command("find", {
    args: [`/proc/${Deno.pid}/fd`, "-lname", `${dir}/*`, "-printf", "%l\\n"],
  }).output();
  const error = new TextDecoder().decode(stderr);
  // A descriptor closed while find walks the folder is no error.
  assert.ok(success || /^(.*No such file or directory\n)+$/.test(error), error);
  return new TextDecoder().decode(stdout).split("\n").filter((l) => l !== "");
}

/** A job waiting for approval, written before the daemon starts. */
async function seedAwaiting(root: string): Promise<string> {
  const stores = createStoreRegistry(createPylonPaths(root));
  try {
    const { job } = await (await stores.open("hook")).insert({
      id: crypto.randomUUID(),
      pylon: "hook",
      status: "awaiting_approval",
      trigger: "webhook",
      payload: {},
      headers: {},
    });
    return job.id;
  } finally {
    await stores.closeAll();
  }
}

Deno.test("DELETE /api/pylons/<name> refuses unfinished jobs, then with force stops them and removes the pylon", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-destroy-" });
  await writeHome(root, {
    "config.yaml": "docker:\n  max_concurrent: 1\n",
    "pylons/hook/pylon.yaml": webhookYaml("hook"),
    "pylons/other/pylon.yaml": webhookYaml("other"),
  });
  const awaiting = await seedAwaiting(root);
  const runner = createScriptedRunner();
  runner.hold();
  const d = await startTestDaemon(root, { runner });
  const paths = d.paths;
  try {
    const post = async (path: string) => {
      const res = await fetch(d.url + path, { method: "POST", body: "{}" });
      return { status: res.status, body: await res.json() };
    };
    const running = (await post("/hook")).body.job_id as string;
    await eventually(() => Promise.resolve(runner.active.has(running)));
    const queued = (await post("/hook")).body.job_id as string;
    await Deno.mkdir(join(paths.jobsDir, running, "out"), { recursive: true });
    await Deno.writeTextFile(join(paths.jobsDir, `${running}.log`), "log\n");

    const unauthenticated = await fetch(`${d.url}/api/pylons/hook`, { method: "DELETE" });
    assert.equal(unauthenticated.status, 401);
    await unauthenticated.body?.cancel();

    const refused = await d.api("/api/pylons/hook", { method: "DELETE" });
    assert.equal(refused.status, 409);
    const why = await refused.json();
    assert.match(why.error, /Cannot destroy pylon "hook": it has unfinished jobs: /);
    assert.match(why.error, /--force/);
    assert.deepEqual(
      why.jobs.map((j: { id: string }) => j.id).sort(),
      [running, queued, awaiting].sort(),
    );
    assert.ok(runner.active.has(running), "a refusal touches nothing");
    assert.ok(await exists(paths.pylonConfig("hook")));

    const res = await d.api("/api/pylons/hook?force=1", { method: "DELETE" });
    assert.equal(res.status, 200);
    const report = await res.json();
    assert.deepEqual(report.killed, [running]);
    assert.deepEqual(report.cancelled.sort(), [queued, awaiting].sort());
    assert.equal(report.jobs, 3);
    assert.deepEqual(report.removed, [paths.pylonDir("hook"), paths.pylonDataDir("hook")]);
    assert.equal(runner.active.size, 0, "the running job ended before the answer");
    for (const path of [paths.pylonDir("hook"), paths.pylonDataDir("hook")]) {
      assert.equal(await exists(path), false, path);
    }
    assert.equal(await exists(join(paths.jobsDir, running)), false);
    assert.equal(await exists(join(paths.jobsDir, `${running}.log`)), false);

    // The store is closed (no descriptor keeps the deleted database's disk space) and the
    // pylon is out of service.
    if (Deno.build.os === "linux") {
      assert.deepEqual(await openFilesUnder(paths.pylonDataDir("hook")), []);
    }
    const list = await d.api("/api/jobs?pylon=hook");
    assert.equal(list.status, 404);
    await list.body?.cancel();
    assert.equal((await post("/hook")).status, 404);
    const again = await d.api("/api/pylons/hook?force=1", { method: "DELETE" });
    assert.equal(again.status, 404);
    await again.body?.cancel();

    // The other pylon is untouched; the watcher's reload of the vanished folder is harmless.
    runner.release();
    const other = (await post("/other")).body.job_id as string;
    await eventually(async () => {
      const job = await (await d.api(`/api/jobs/${other}`)).json();
      return job.status === "completed";
    });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(await exists(paths.pylonDataDir("hook")), false, "nothing re-created it");
    assert.ok(!d.logs.some((l) => /level=error/.test(l)), d.logs.join("\n"));
    assert.ok(d.logs.some((l) => /event=pylon\.destroyed pylon=hook killed=1 cancelled=2/.test(l)));
  } finally {
    runner.release();
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("DELETE /api/pylons/<name> removes a folder that is not a valid pylon name, and refuses path tricks", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-destroy-" });
  await writeHome(root, { "pylons/hook/pylon.yaml": webhookYaml("hook") });
  const d = await startTestDaemon(root);
  try {
    await writeHome(root, { "pylons/My Pylon/pylon.yaml": webhookYaml("my-pylon") });
    const res = await d.api("/api/pylons/My%20Pylon", { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).removed, [d.paths.pylonDir("My Pylon")]);
    assert.equal(await exists(d.paths.pylonDir("My Pylon")), false);

    const tricky = await d.api("/api/pylons/..%2Fpylons%2Fhook", { method: "DELETE" });
    assert.equal(tricky.status, 400);
    assert.match((await tricky.json()).error, /must not contain \//);
    assert.ok(await exists(d.paths.pylonConfig("hook")));
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
