/**
 * The Docker client against the real Engine: containers, logs, wait, kill, labels, exec, mounts.
 * Image import/build/pull are in `docker_images_test.ts`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type ContainerSpec, type DockerClient, DockerError } from "../../src/docker/mod.ts";
import { collectLogs, dockerTest, ensureTestImage, removeQuietly, TEST_LABELS } from "./_docker.ts";

/** Creates a labelled container from the test image; returns its id. */
async function create(
  docker: DockerClient,
  cmd: string[],
  extra: Partial<ContainerSpec> = {},
): Promise<string> {
  const Image = await ensureTestImage(docker);
  return await docker.createContainer({
    Image,
    Cmd: cmd,
    ...extra,
    Labels: { ...TEST_LABELS, ...extra.Labels },
  });
}

dockerTest("DockerClient.ping() and version() describe the Engine", async (docker) => {
  await docker.ping();
  const v = await docker.version();
  assert.match(v.ApiVersion, /^1\.\d+$/);
  assert.ok(v.Version.length > 0);
});

dockerTest(
  "DockerClient waits for exit code 3 and demultiplexes stdout and stderr",
  async (docker) => {
    let id: string | undefined;
    try {
      id = await create(docker, ["sh", "-c", "echo out1; echo err1 >&2; echo out2; exit 3"]);
      const wait = await docker.armWait(id, { condition: "next-exit" });
      await docker.startContainer(id);
      const logs = collectLogs(docker.containerLogs(id, { follow: true }));
      assert.equal(await wait.exitCode, 3);
      assert.deepEqual(await logs, { stdout: "out1\nout2\n", stderr: "err1\n" });
      const info = await docker.inspectContainer(id);
      assert.equal(info?.State.Status, "exited");
      assert.equal(info?.State.ExitCode, 3);
    } finally {
      await removeQuietly(docker, id);
    }
  },
);

dockerTest("DockerClient.armWait() before start never misses a fast exit", async (docker) => {
  const ids: string[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const id = await create(docker, ["true"], { HostConfig: { AutoRemove: true } });
      ids.push(id);
      const wait = await docker.armWait(id, { condition: "next-exit" });
      await docker.startContainer(id);
      assert.equal(await wait.exitCode, 0);
    }
  } finally {
    for (const id of ids) await removeQuietly(docker, id);
  }
});

dockerTest("DockerClient.killContainer() ends sleep 60 with exit code 137", async (docker) => {
  let id: string | undefined;
  try {
    id = await create(docker, ["sleep", "60"]);
    await docker.startContainer(id);
    const wait = await docker.armWait(id);
    await docker.killContainer(id);
    assert.equal(await wait.exitCode, 137);
    const err = await docker.killContainer(id).catch((e) => e);
    assert.ok(err instanceof DockerError);
    assert.equal(err.status, 409);
  } finally {
    await removeQuietly(docker, id);
  }
});

dockerTest("DockerClient aborts a followed log stream and a wait on signal", async (docker) => {
  let id: string | undefined;
  try {
    id = await create(docker, ["sh", "-c", "echo started; sleep 60"]);
    await docker.startContainer(id);
    const ctl = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const c of docker.containerLogs(id!, { follow: true, signal: ctl.signal })) {
        seen.push(new TextDecoder().decode(c.data));
        ctl.abort();
      }
    })();
    await assert.rejects(reading, (e: Error) => e.name === "AbortError");
    assert.deepEqual(seen, ["started\n"]);
    const wait = docker.waitContainer(id, { signal: AbortSignal.timeout(200) });
    await assert.rejects(wait, (e: Error) => e.name === "TimeoutError" || e.name === "AbortError");
  } finally {
    await removeQuietly(docker, id);
  }
});

dockerTest("DockerClient.containerLogs() passes a TTY's output through raw", async (docker) => {
  let id: string | undefined;
  try {
    id = await create(docker, ["sh", "-c", "echo tty-out; echo tty-err >&2"], { Tty: true });
    const wait = await docker.armWait(id, { condition: "next-exit" });
    await docker.startContainer(id);
    assert.equal(await wait.exitCode, 0);
    const logs = await collectLogs(docker.containerLogs(id));
    assert.equal(logs.stderr, "");
    assert.equal(logs.stdout.replaceAll("\r\n", "\n"), "tty-out\ntty-err\n");
  } finally {
    await removeQuietly(docker, id);
  }
});

dockerTest("DockerClient.listContainers() filters by labels", async (docker) => {
  const run = crypto.randomUUID();
  const ids: string[] = [];
  try {
    ids.push(await create(docker, ["true"], { Labels: { "pylon.run": run, "pylon.role": "a" } }));
    ids.push(await create(docker, ["true"], { Labels: { "pylon.run": run } }));
    const all = await docker.listContainers({ labels: { "pylon.run": run }, all: true });
    assert.deepEqual(all.map((c) => c.Id).sort(), [...ids].sort());
    const a = await docker.listContainers({
      labels: { "pylon.run": run, "pylon.role": "a" },
      all: true,
    });
    assert.deepEqual(a.map((c) => c.Id), [ids[0]]);
    const keyed = await docker.listContainers({
      labels: { "pylon.run": run, "pylon.role": true },
      all: true,
    });
    assert.deepEqual(keyed.map((c) => c.Id), [ids[0]]);
    assert.equal(keyed[0]?.Labels?.["pylon.test"], "1");
    assert.deepEqual(await docker.listContainers({ labels: { "pylon.run": run } }), []); // not running
  } finally {
    for (const id of ids) await removeQuietly(docker, id);
  }
});

dockerTest("DockerClient answers null or false for what does not exist", async (docker) => {
  const name = `pylon-test-missing-${crypto.randomUUID()}`;
  assert.equal(await docker.inspectContainer(name), null);
  assert.equal(await docker.inspectImage(`pylon-test/missing:${Date.now()}`), null);
  assert.equal(await docker.removeContainer(name, { force: true }), false);
  const err = await docker.startContainer(name).catch((e) => e);
  assert.ok(err instanceof DockerError);
  assert.equal(err.status, 404);
  assert.equal(err.op, "container.start");
});

dockerTest(
  "DockerClient.createContainer() names a missing image and hides env values",
  async (docker) => {
    const image = `pylon-test/missing:${Date.now()}`;
    const err = await docker.createContainer({ Image: image, Env: ["TOKEN=s3cr3t-value"] })
      .catch((e) => e);
    assert.ok(err instanceof DockerError);
    assert.equal(err.status, 404);
    assert.match(err.message, /^Cannot create container from image/);
    assert.ok(err.hint?.includes(image));
    assert.ok(!`${err.message} ${err.hint}`.includes("s3cr3t-value"));
  },
);

dockerTest(
  "DockerClient.createExec()/startExec() capture output and the exit code",
  async (docker) => {
    let id: string | undefined;
    try {
      id = await create(docker, ["sleep", "60"]);
      await docker.startContainer(id);
      const exec = await docker.createExec(id, {
        Cmd: ["sh", "-c", 'echo "hi $WHO"; echo oops >&2; exit 5'],
        Env: ["WHO=exec"],
      });
      const res = await docker.startExec(exec);
      assert.equal(res.exitCode, 5);
      assert.equal(new TextDecoder().decode(res.stdout), "hi exec\n");
      assert.equal(new TextDecoder().decode(res.stderr), "oops\n");
    } finally {
      await removeQuietly(docker, id);
    }
  },
);

dockerTest(
  "a container writes result.json into a mounted folder the host reads",
  async (docker) => {
    const dir = await Deno.makeTempDir({ prefix: "pylon-test-out-" });
    let id: string | undefined;
    try {
      await Deno.chmod(dir, 0o777); // the container runs as uid 1000
      const script = `printf '{"status":"ok","result":"%s"}' "$(id -u)" > /pylon/out/result.json`;
      id = await create(docker, ["sh", "-c", script], {
        User: "1000",
        HostConfig: { Binds: [`${dir}:/pylon/out`], CapDrop: ["ALL"] },
      });
      const wait = await docker.armWait(id, { condition: "next-exit" });
      await docker.startContainer(id);
      assert.equal(await wait.exitCode, 0);
      const result = JSON.parse(await Deno.readTextFile(join(dir, "result.json")));
      assert.deepEqual(result, { status: "ok", result: "1000" });
    } finally {
      await removeQuietly(docker, id);
      await Deno.remove(dir, { recursive: true });
    }
  },
);
