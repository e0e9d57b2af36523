/** `pylon logs -f`: a running job's container output, then the job's final status line. */

import assert from "node:assert/strict";
import { parseCommandArgs } from "../../src/cli/main.ts";
import { createLogsCommand, statusLine } from "../../src/cli/commands/logs.ts";
import { LABELS } from "../../src/runner/mod.ts";
import type { Job } from "../../src/store/mod.ts";
import { createStoreRegistry } from "../../src/store/mod.ts";
import { createTestContext, writePylon } from "../_helpers/cli.ts";
import { FakeDockerClient } from "../fakes/docker_fake.ts";

Deno.test("pylon logs -f ends with the job's final status once the container ends", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "hook", "name: hook\ntrigger:\n  type: webhook\n  path: /hook\n");
  const stores = createStoreRegistry(ctx.paths);
  try {
    const store = await stores.open("hook");
    const id = crypto.randomUUID();
    await store.insert({
      id,
      pylon: "hook",
      status: "queued",
      trigger: "webhook",
      payload: {},
      headers: {},
    });
    const started = new Date(Date.now() - 94_000);
    await store.transition(id, "queued", "running", { startedAt: started });
    const docker = new FakeDockerClient();
    docker.addImage("agent");
    docker.script = () => ({ untilKilled: true, stdout: "working\n" });
    const container = await docker.createContainer({
      Image: "agent",
      Labels: { [LABELS.job]: id },
    });
    await docker.startContainer(container);
    let sleeps = 0;
    const logs = createLogsCommand({
      docker: () => docker,
      // The daemon records the result a moment after the container ends.
      async sleep() {
        sleeps++;
        await store.transition(id, "running", "completed");
      },
    });
    const done = logs.run(parseCommandArgs(logs, [id.slice(0, 8), "-f"]), ctx);
    // The container ends once its output is being followed (not before the command found it).
    (async () => {
      while (!docker.calls.some((c) => c.method === "containerLogs")) {
        await new Promise((r) => setTimeout(r, 5));
      }
      await docker.killContainer(container);
    })();
    assert.equal(await done, 0);
    assert.equal(sleeps, 1);
    assert.match(ctx.stdout(), /^working\n--- job [0-9a-f]{8} completed in 1m3[45]s ---\n$/);
  } finally {
    await stores.closeAll();
  }
});

Deno.test("pylon logs of a job that ended without output shows how it ended", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "hook", "name: hook\ntrigger:\n  type: webhook\n  path: /hook\n");
  const stores = createStoreRegistry(ctx.paths);
  try {
    const store = await stores.open("hook");
    const id = crypto.randomUUID();
    await store.insert({
      id,
      pylon: "hook",
      status: "queued",
      trigger: "webhook",
      payload: {},
      headers: {},
    });
    await store.transition(id, "queued", "running", { startedAt: new Date() });
    await store.transition(id, "running", "failed", {
      error: "workspace: Cannot clone https://github.com/acme/app.git: cannot resolve github.com",
    });
    const logs = createLogsCommand({ docker: () => new FakeDockerClient() });
    assert.equal(await logs.run(parseCommandArgs(logs, [id.slice(0, 8)]), ctx), 0);
    assert.match(
      ctx.stdout(),
      /^Job [0-9a-f]{8} printed no output\.\n--- job [0-9a-f]{8} failed in 0s: workspace: Cannot clone https:\/\/github\.com\/acme\/app\.git: cannot resolve github\.com ---\n$/,
    );
    assert.doesNotMatch(ctx.stdout(), /no output yet/);
  } finally {
    await stores.closeAll();
  }
});

Deno.test("statusLine() names a failure's reason and a status not recorded yet", () => {
  const base = { id: "1a2b3c4d-0000-4000-8000-000000000000", error: "exit code 2\nmore" };
  const failed = {
    ...base,
    status: "failed",
    startedAt: new Date(0),
    finishedAt: new Date(12_000),
  } as unknown as Job;
  assert.equal(statusLine(failed), "--- job 1a2b3c4d failed in 12s: exit code 2 ---\n");
  const running = { ...base, status: "running", startedAt: new Date(0), finishedAt: null };
  assert.match(statusLine(running as unknown as Job), /still running \(see `pylon jobs`\)/);
});
