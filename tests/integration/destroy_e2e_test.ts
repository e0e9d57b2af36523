/**
 * `pylon destroy --force` with a real running agent container: through the daemon (the
 * dispatcher kills it) and without one (the CLI removes the container by its job label).
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import type { CommandContext } from "../../src/cli/command.ts";
import type { DockerClient } from "../../src/docker/mod.ts";
import { cli } from "../_helpers/cli.ts";
import { eventually, startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";
import { dockerRunnerFor } from "./_agent.ts";
import { dockerTest, ensureTestImage, removeQuietly } from "./_docker.ts";

async function setup(docker: DockerClient): Promise<string> {
  const image = await ensureTestImage(docker);
  const root = await Deno.makeTempDir({ prefix: "pylon-destroy-e2e-" });
  await writeHome(root, {
    "pylons/doomed/pylon.yaml": [
      "name: doomed",
      "trigger:",
      "  type: webhook",
      "  path: /doomed",
      "agent:",
      "  type: custom",
      `  image: ${JSON.stringify(image)}`,
      '  command: ["sh", "-c", "sleep 60"]',
      "  prompt: wait",
    ].join("\n") + "\n",
  });
  return root;
}

async function startJob(d: TestDaemon, docker: DockerClient): Promise<string> {
  const res = await fetch(`${d.url}/doomed`, { method: "POST", body: "{}" });
  assert.equal(res.status, 202);
  const id = (await res.json()).job_id as string;
  await eventually(
    async () => (await docker.listContainers({ labels: { "pylon.job": id } })).length > 0,
    20_000,
  );
  return id;
}

async function gone(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => false, () => true);
}

dockerTest("destroy --force through the daemon kills the running container", async (docker) => {
  const root = await setup(docker);
  const d = await startTestDaemon(root, { createRunner: dockerRunnerFor(root) });
  let id: string | undefined;
  try {
    id = await startJob(d, docker);
    const refused = await d.api("/api/pylons/doomed", { method: "DELETE" });
    assert.equal(refused.status, 409);
    await refused.body?.cancel();
    const res = await d.api("/api/pylons/doomed?force=1", { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).killed, [id]);
    const left = await docker.listContainers({ all: true, labels: { "pylon.job": id } });
    assert.equal(left.length, 0, "the container is gone when the answer comes");
    assert.ok(await gone(d.paths.pylonDir("doomed")));
    assert.ok(await gone(d.paths.pylonDataDir("doomed")));
    assert.ok(await gone(`${d.paths.jobsDir}/${id}`));
  } finally {
    await d.stop();
    for (
      const c of await docker.listContainers({ all: true, labels: { "pylon.job": id ?? "-" } })
    ) {
      await removeQuietly(docker, c.Id);
    }
    await Deno.remove(root, { recursive: true });
  }
});

dockerTest("destroy --force without a daemon removes a running job's container", async (docker) => {
  const root = await setup(docker);
  let id: string | undefined;
  const d = await startTestDaemon(root, { createRunner: dockerRunnerFor(root) });
  try {
    id = await startJob(d, docker);
  } finally {
    await d.stop(); // leaves the agent running, its job `running`
  }
  let out = "", err = "";
  const ctx: CommandContext = {
    paths: createPylonPaths(root),
    env: { ...Deno.env.toObject(), HOME: root, PYLON_HOME: root },
    io: {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      readLine: () => Promise.resolve(null),
      isTty: false,
    },
    clock: { now: () => new Date() },
    spawnInteractive: () => Promise.resolve(0),
  };
  try {
    assert.equal(await cli(ctx, "destroy", "doomed", "--yes"), 1);
    assert.match(err, new RegExp(`${id.slice(0, 8)} \\(running\\).*\n.*--force`));
    assert.equal(await cli(ctx, "destroy", "doomed", "--yes", "--force"), 0, err);
    assert.match(out, new RegExp(`Killed job ${id.slice(0, 8)}\\.`));
    const left = await docker.listContainers({ all: true, labels: { "pylon.job": id } });
    assert.equal(left.length, 0);
    assert.ok(await gone(ctx.paths.pylonDir("doomed")));
    assert.ok(await gone(ctx.paths.pylonDataDir("doomed")));
    assert.ok(await gone(`${ctx.paths.jobsDir}/${id}`));
    assert.ok(await gone(`${ctx.paths.jobsDir}/${id}.log`));
  } finally {
    for (const c of await docker.listContainers({ all: true, labels: { "pylon.job": id } })) {
      await removeQuietly(docker, c.Id);
    }
    await Deno.remove(root, { recursive: true });
  }
});
