/**
 * A Docker Engine that never answers must not make a job unkillable (issue 12, item 11). The
 * daemon runs against a fake Engine on a Unix socket that accepts `POST /containers/create` and
 * never responds: `pylon kill` and the job's deadline must still end the job within seconds, and
 * a call without a job (cleanup) gives up after the client's timeout.
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { createDockerClient, DockerError } from "../../src/docker/mod.ts";
import { createDockerRunner } from "../../src/runner/mod.ts";
import { eventually, startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";
import { type FakeEngine, startFakeEngine } from "../fakes/docker_engine.ts";

/** A fake Engine whose container create hangs until the test ends. */
async function hangingEngine(): Promise<FakeEngine & { release(): void }> {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  const engine = await startFakeEngine(async (req) => {
    if (req.method === "POST" && req.path.endsWith("/containers/create")) {
      await released;
      return Response.json({ message: "too late" }, { status: 500 });
    }
    if (req.path.endsWith("/containers/json")) return Response.json([]);
    return undefined; // /version and /_ping answer; everything else is a 404
  });
  return {
    ...engine,
    release,
    async [Symbol.asyncDispose]() {
      release();
      await engine[Symbol.asyncDispose]();
    },
  };
}

function pylonYaml(name: string, extra = ""): string {
  return [
    `name: ${name}`,
    "trigger:",
    "  type: webhook",
    `  path: /${name}`,
    "agent:",
    "  type: custom",
    '  image: "pylon-test/never:1"',
    "  prompt: sleep 1",
    extra,
  ].join("\n") + "\n";
}

async function post(d: TestDaemon, path: string): Promise<string> {
  const res = await fetch(d.url + path, { method: "POST", body: "{}" });
  assert.equal(res.status, 202, await res.clone().text());
  return (await res.json()).job_id;
}

async function job(d: TestDaemon, id: string): Promise<Record<string, unknown>> {
  return await (await d.api(`/api/jobs/${id}`)).json();
}

Deno.test("a job stuck in container create ends on kill and at its deadline", async () => {
  await using engine = await hangingEngine();
  const root = await Deno.makeTempDir({ prefix: "pylon-hang-" });
  await writeHome(root, {
    "pylons/hold/pylon.yaml": pylonYaml("hold"),
    "pylons/late/pylon.yaml": pylonYaml("late", "  timeout: 2s"),
  });
  const d = await startTestDaemon(root, {
    createRunner: (config) =>
      createDockerRunner(config, {
        paths: createPylonPaths(root),
        env: { HOME: root, DOCKER_HOST: engine.host },
        output: () => {},
        clock: { now: () => new Date() },
      }),
  });
  try {
    const hold = await post(d, "/hold");
    const late = await post(d, "/late");
    // Both jobs reach the hanging create.
    await eventually(
      () =>
        Promise.resolve(
          engine.requests.filter((r) => r.path.endsWith("/containers/create")).length >= 2,
        ),
      10_000,
    );
    const asked = Date.now();
    const kill = await d.api(`/api/jobs/${hold}/kill`, { method: "POST" });
    await kill.body?.cancel();
    const killed = await eventually(async () => {
      const j = await job(d, hold);
      return j.status === "running" ? undefined : j;
    }, 5000);
    assert.equal(killed.status, "killed", JSON.stringify(killed));
    assert.ok(Date.now() - asked < 3000, `kill took ${Date.now() - asked} ms`);

    const timedOut = await eventually(async () => {
      const j = await job(d, late);
      return j.status === "running" ? undefined : j;
    }, 6000);
    assert.equal(timedOut.status, "timed_out", JSON.stringify(timedOut));
    assert.match(String(timedOut.error), /timeout \(2s\)/);
  } finally {
    engine.release();
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an Engine call without a signal gives up after the client's timeout", async () => {
  await using engine = await hangingEngine();
  using docker = createDockerClient({ host: engine.host, timeoutMs: 300 });
  const started = Date.now();
  await assert.rejects(
    () => docker.createContainer({ Image: "x" }),
    (e: unknown) => {
      assert.ok(e instanceof DockerError, String(e));
      assert.equal(e.op, "container.create");
      assert.match(e.message, /did not answer within 0\.3 s/);
      return true;
    },
  );
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});
