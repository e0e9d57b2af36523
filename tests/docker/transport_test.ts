import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createDockerClient,
  DockerError,
  HINT_NOT_RUNNING,
  MAX_API_VERSION,
} from "../../src/docker/mod.ts";
import { chooseApiVersion, compareVersions } from "../../src/docker/transport.ts";
import { startFakeEngine } from "../fakes/docker_engine.ts";

Deno.test("createDockerClient() negotiates the API version once from /version", async (t) => {
  const cases = [
    { engine: "1.41", min: "1.12", expect: "1.41" }, // Debian bookworm's docker.io
    { engine: "1.52", min: "1.44", expect: MAX_API_VERSION }, // Docker 29
    { engine: "1.60", min: "1.50", expect: "1.50" }, // a future engine that dropped ours
  ];
  for (const c of cases) {
    await t.step(`engine ${c.engine} (min ${c.min}) -> v${c.expect}`, async () => {
      await using engine = await startFakeEngine(
        (r) => r.path.endsWith("/containers/json") ? Response.json([]) : undefined,
        { apiVersion: c.engine, minApiVersion: c.min },
      );
      using docker = createDockerClient({ host: engine.host });
      await docker.listContainers();
      await docker.listContainers();
      assert.deepEqual(engine.requests.map((r) => r.path), [
        "/version",
        `/v${c.expect}/containers/json`,
        `/v${c.expect}/containers/json`,
      ]);
    });
  }
});

Deno.test("createDockerClient() refuses an engine older than API 1.41", async () => {
  await using engine = await startFakeEngine(() => undefined, { apiVersion: "1.40" });
  using docker = createDockerClient({ host: engine.host });
  const err = await docker.inspectContainer("x").catch((e) => e);
  assert.ok(err instanceof DockerError);
  assert.equal(err.op, "version");
  assert.match(err.message, /speaks API 1\.40, pylon needs 1\.41$/);
  assert.match(err.hint ?? "", /upgrade Docker/);
});

Deno.test("createDockerClient() pins DOCKER_API_VERSION without asking the engine", async () => {
  await using engine = await startFakeEngine((r) =>
    r.path.endsWith("/json")
      ? Response.json({ message: "No such container: x" }, { status: 404 })
      : undefined
  );
  using docker = createDockerClient({ host: engine.host, env: { DOCKER_API_VERSION: "1.43" } });
  assert.equal(await docker.inspectContainer("x"), null);
  assert.deepEqual(engine.requests.map((r) => r.path), ["/v1.43/containers/x/json"]);
});

Deno.test("chooseApiVersion() and compareVersions() order numerically", () => {
  assert.equal(compareVersions("1.9", "1.41"), -1);
  assert.equal(compareVersions("1.41", "1.41.0"), 0);
  assert.equal(chooseApiVersion("1.45", "1.24"), "1.45");
  assert.throws(() => chooseApiVersion("1.30", "1.12", "17.06"), /Docker Engine 17\.06/);
});

Deno.test("DockerError carries the engine message, a hint naming the image, and no env values", async () => {
  await using engine = await startFakeEngine((r) =>
    r.path.endsWith("/containers/create")
      ? Response.json({ message: "No such image: team/agent:2 (env TOKEN=hunter22-x)." }, {
        status: 404,
      })
      : undefined
  );
  using docker = createDockerClient({ host: engine.host });
  const err = await docker
    .createContainer({ Image: "team/agent:2", Env: ["TOKEN=hunter22-x", "EMPTY="] }, {
      name: "job-1",
    })
    .catch((e) => e);
  assert.ok(err instanceof DockerError);
  assert.equal(err.op, "container.create");
  assert.equal(err.status, 404);
  assert.equal(
    err.message,
    'Cannot create container "job-1": No such image: team/agent:2 (env TOKEN=***)',
  );
  assert.match(err.hint ?? "", /the image "team\/agent:2" is not present/);
  assert.equal(engine.requests.at(-1)?.query.get("name"), "job-1");
});

Deno.test("DockerClient.buildImage() turns an error line of a 200 stream into DockerError", async () => {
  const lines = [
    { stream: "Step 1/2 : FROM base\n" },
    {
      errorDetail: {
        code: 1,
        message: "The command '/bin/sh -c exit 7' returned a non-zero code: 7",
      },
      error: "x",
    },
  ];
  await using engine = await startFakeEngine((r) =>
    r.path.endsWith("/build")
      ? new Response(lines.map((l) => JSON.stringify(l)).join("\r\n") + "\r\n")
      : undefined
  );
  using docker = createDockerClient({ host: engine.host });
  const seen: string[] = [];
  const err = await docker
    .buildImage(new Uint8Array(1024), {
      tag: "t:1",
      buildArgs: { A: "1" },
      labels: { "pylon.test": "1" },
      onProgress: (e) => e.stream && seen.push(e.stream),
    })
    .catch((e) => e);
  assert.ok(err instanceof DockerError);
  assert.equal(err.status, undefined);
  assert.equal(
    err.message,
    `Cannot build image "t:1": The command '/bin/sh -c exit 7' returned a non-zero code: 7`,
  );
  assert.deepEqual(seen, ["Step 1/2 : FROM base\n"]);
  const q = engine.requests.at(-1)!.query;
  assert.deepEqual([q.get("t"), q.get("buildargs"), q.get("labels"), q.get("forcerm")], [
    "t:1",
    '{"A":"1"}',
    '{"pylon.test":"1"}',
    "1",
  ]);
});

Deno.test("DockerClient.listContainers() and pullImage() encode their queries", async () => {
  await using engine = await startFakeEngine((r) => {
    if (r.path.endsWith("/containers/json")) return Response.json([]);
    if (r.path.endsWith("/images/create")) return new Response('{"status":"Pulling"}\n');
    return undefined;
  });
  using docker = createDockerClient({ host: engine.host });
  await docker.listContainers({ labels: { "pylon.job": "abc", "pylon.pylon": true }, all: true });
  await docker.pullImage("registry:5000/team/agent");
  await docker.pullImage("team/agent@sha256:0123");
  const [, list, pull1, pull2] = engine.requests;
  assert.equal(list!.query.get("all"), "1");
  assert.deepEqual(JSON.parse(list!.query.get("filters")!), {
    label: ["pylon.job=abc", "pylon.pylon"],
  });
  assert.deepEqual([pull1!.query.get("fromImage"), pull1!.query.get("tag")], [
    "registry:5000/team/agent",
    "latest",
  ]);
  assert.deepEqual([pull2!.query.get("fromImage"), pull2!.query.get("tag")], [
    "team/agent",
    "sha256:0123",
  ]);
});

Deno.test("DockerClient.containerLogs() trusts the stream type header from API 1.42", async () => {
  await using engine = await startFakeEngine((r) =>
    r.path.endsWith("/logs")
      ? new Response("raw tty text", {
        headers: { "content-type": "application/vnd.docker.raw-stream" },
      })
      : undefined
  );
  using docker = createDockerClient({ host: engine.host });
  const chunks = [];
  for await (const c of docker.containerLogs("abc")) chunks.push(c);
  assert.deepEqual(chunks.map((c) => [c.stream, new TextDecoder().decode(c.data)]), [[
    "stdout",
    "raw tty text",
  ]]);
  assert.ok(
    !engine.requests.some((r) => r.path.endsWith("/containers/abc/json")),
    "no inspect needed",
  );
});

Deno.test("DockerClient reports a missing socket with the start-docker hint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using docker = createDockerClient({ host: `unix://${join(dir, "docker.sock")}` });
    const err = await docker.ping().catch((e) => e);
    assert.ok(err instanceof DockerError);
    assert.equal(err.op, "ping");
    assert.equal(
      err.message,
      `Cannot reach the Docker Engine: the Docker socket ${dir}/docker.sock does not exist`,
    );
    assert.equal(err.hint, HINT_NOT_RUNNING);
    assert.ok(err.cause instanceof Error);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DockerClient speaks plain HTTP to a tcp:// DOCKER_HOST", async () => {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    return new URL(req.url).pathname === "/_ping"
      ? new Response("OK")
      : new Response("", { status: 500 });
  });
  try {
    using docker = createDockerClient({
      env: { DOCKER_HOST: `tcp://127.0.0.1:${server.addr.port}` },
    });
    await docker.ping();
  } finally {
    await server.shutdown();
  }
});

Deno.test("DockerClient names the operation when the engine is unreachable before negotiation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using docker = createDockerClient({ host: `unix://${join(dir, "docker.sock")}` });
    const err = await docker.createContainer({ Image: "img" }, { name: "job-1" }).catch((e) => e);
    assert.ok(err instanceof DockerError);
    assert.equal(err.op, "container.create");
    assert.match(
      err.message,
      /^Cannot create container "job-1": the Docker socket .* does not exist$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
