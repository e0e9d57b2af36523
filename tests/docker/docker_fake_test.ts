import assert from "node:assert/strict";
import { DockerError } from "../../src/docker/mod.ts";
import { FakeDockerClient } from "../fakes/docker_fake.ts";

Deno.test("FakeDockerClient plays a scripted run and records the calls", async () => {
  using docker = new FakeDockerClient();
  docker.addImage("pylon/agent-mock:1");
  docker.script = () => ({ exitCode: 3, stdout: "out\n", stderr: "err\n" });
  const id = await docker.createContainer({
    Image: "pylon/agent-mock:1",
    Labels: { "pylon.job": "j1" },
  });
  const wait = await docker.armWait(id, { condition: "next-exit" });
  await docker.startContainer(id);
  assert.equal(await wait.exitCode, 3);
  const streams = [];
  for await (const c of docker.containerLogs(id, { follow: true })) streams.push(c.stream);
  assert.deepEqual(streams, ["stdout", "stderr"]);
  assert.equal(
    (await docker.listContainers({ labels: { "pylon.job": "j1" }, all: true })).length,
    1,
  );
  assert.deepEqual(docker.calls.map((c) => c.method).slice(0, 4), [
    "createContainer",
    "armWait",
    "startContainer",
    "containerLogs",
  ]);
});

Deno.test("FakeDockerClient runs until killed and then exits 137", async () => {
  using docker = new FakeDockerClient();
  docker.addImage("img");
  docker.script = () => ({ untilKilled: true });
  const id = await docker.createContainer({ Image: "img" });
  await docker.startContainer(id);
  assert.equal((await docker.inspectContainer(id))?.State.Running, true);
  await docker.killContainer(id);
  assert.equal(await docker.waitContainer(id), 137);
  await assert.rejects(docker.killContainer(id), DockerError);
  assert.equal(await docker.removeContainer(id), true);
  assert.equal(await docker.inspectContainer(id), null);
});
