/**
 * Image operations of the Docker client against the real Engine: import, build, pull errors, and
 * the tar writer checked by GNU tar.
 */

import assert from "node:assert/strict";
import { DockerError, tarBytes, tarStream } from "../../src/docker/mod.ts";
import {
  collectLogs,
  dockerTest,
  ensureTestImage,
  removeQuietly,
  TEST_IMAGE_REPO,
  TEST_LABELS,
} from "./_docker.ts";

dockerTest("ensureTestImage() imports busybox once and then reuses the tag", async (docker) => {
  const ref = await ensureTestImage(docker);
  assert.match(ref, new RegExp(`^${TEST_IMAGE_REPO}:[0-9a-f]{12}$`));
  const info = await docker.inspectImage(ref);
  assert.ok(info);
  assert.deepEqual(info.Config?.Cmd, ["/bin/sh"]);
  assert.equal(info.Config?.Labels?.["pylon.test"], "1");
  const t0 = performance.now();
  assert.equal(await ensureTestImage(docker), ref);
  assert.ok(performance.now() - t0 < 1000);
});

dockerTest("DockerClient.importImage() takes a streamed rootfs and changes", async (docker) => {
  const busybox = await Deno.readFile("/bin/busybox");
  const tag = `import-${crypto.randomUUID().slice(0, 8)}`;
  const ref = `${TEST_IMAGE_REPO}:${tag}`;
  try {
    const id = await docker.importImage(
      tarStream([
        { type: "file", path: "bin/busybox", data: busybox, mode: 0o755 },
        { type: "symlink", path: "bin/sh", target: "busybox" },
      ]),
      { repo: TEST_IMAGE_REPO, tag, changes: ["LABEL pylon.test=1", "USER 1000"] },
    );
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const info = await docker.inspectImage(ref);
    assert.equal(info?.Id, id);
    assert.equal(info?.Config?.User, "1000");
  } finally {
    await docker.removeImage(ref, { force: true });
  }
});

dockerTest(
  "DockerClient.buildImage() builds FROM the test image with a file and USER 1000",
  async (docker) => {
    const base = await ensureTestImage(docker);
    const tag = `pylon-test/built:${crypto.randomUUID().slice(0, 8)}`;
    const dockerfile = [
      `FROM ${base}`,
      "ARG GREETING=unset",
      "COPY hello.txt /hello.txt",
      'RUN echo "$GREETING" > /greeting.txt',
      "USER 1000",
      'CMD ["sh", "-c", "cat /hello.txt /greeting.txt; id -u"]',
    ].join("\n");
    const lines: string[] = [];
    let id: string | undefined;
    try {
      const imageId = await docker.buildImage(
        tarBytes([
          { type: "file", path: "Dockerfile.pylon", data: dockerfile },
          { type: "file", path: "hello.txt", data: "hello\n" },
        ]),
        {
          tag,
          dockerfile: "Dockerfile.pylon",
          buildArgs: { GREETING: "hi there" },
          labels: TEST_LABELS,
          onProgress: (e) => e.stream && lines.push(e.stream),
        },
      );
      assert.match(imageId, /^sha256:/);
      assert.ok(lines.some((l) => l.includes("Step")), "build output reaches onProgress");
      const info = await docker.inspectImage(tag);
      assert.equal(info?.Config?.User, "1000");
      assert.equal(info?.Config?.Labels?.["pylon.test"], "1");
      id = await docker.createContainer({ Image: tag, Labels: TEST_LABELS });
      const wait = await docker.armWait(id, { condition: "next-exit" });
      await docker.startContainer(id);
      assert.equal(await wait.exitCode, 0);
      const logs = await collectLogs(docker.containerLogs(id));
      assert.equal(logs.stdout, "hello\nhi there\n1000\n");
    } finally {
      await removeQuietly(docker, id);
      // Same content, same image id: a concurrent run of this test on the same Engine may have
      // removed it already (cleanup, not the behaviour under test).
      await docker.removeImage(tag, { force: true }).catch(() => {});
    }
  },
);

dockerTest("DockerClient.buildImage() surfaces a failing step as DockerError", async (docker) => {
  const base = await ensureTestImage(docker);
  const tag = `pylon-test/broken:${crypto.randomUUID().slice(0, 8)}`;
  const context = tarBytes([
    { type: "file", path: "Dockerfile", data: `FROM ${base}\nRUN echo about to fail; exit 7\n` },
  ]);
  const err = await docker.buildImage(context, { tag, labels: TEST_LABELS }).catch((e) => e);
  assert.ok(err instanceof DockerError, String(err));
  assert.equal(err.op, "image.build");
  assert.match(err.message, /^Cannot build image "pylon-test\/broken:[0-9a-f]+": /);
  assert.match(err.message, /non-zero code: 7/);
  assert.equal(await docker.inspectImage(tag), null);
  const left = await docker.listContainers({ labels: TEST_LABELS, all: true });
  assert.ok(left.every((c) => !c.Image.includes("broken")));
});

dockerTest(
  "DockerClient.pullImage() of an unknown image is a DockerError naming it",
  async (docker) => {
    const ref = `pylon-test/never-published:${Date.now()}`;
    const err = await docker.pullImage(ref).catch((e) => e);
    assert.ok(err instanceof DockerError, String(err));
    assert.equal(err.op, "image.pull");
    assert.ok(err.message.includes(ref));
    assert.ok(err.hint?.includes(ref));
  },
);

Deno.test("tarBytes() output is read back by GNU tar with modes, links and long names", async () => {
  const long = `deep/${"d".repeat(120)}/${"f".repeat(90)}.txt`;
  const bytes = tarBytes([
    { type: "dir", path: "app", mode: 0o750 },
    { type: "file", path: "app/run.sh", data: "#!/bin/sh\necho hi\n", mode: 0o755 },
    { type: "symlink", path: "app/link", target: "run.sh" },
    { type: "file", path: long, data: "x" },
    { type: "file", path: "ünïcødé.txt", data: "u" },
  ]);
  const tar = new Deno.Command("tar", { args: ["-tvf", "-"], stdin: "piped", stdout: "piped" });
  const child = tar.spawn();
  const writer = child.stdin.getWriter();
  await writer.write(bytes);
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0);
  const listing = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.match(listing[0]!, /^drwxr-x--- root\/root\s+0 .* app\/$/);
  assert.match(listing[1]!, /^-rwxr-xr-x root\/root\s+18 .* app\/run\.sh$/);
  assert.match(listing[2]!, /^lrwxrwxrwx .* app\/link -> run\.sh$/);
  assert.ok(listing[3]!.endsWith(long));
  assert.ok(listing[4]!.endsWith("ünïcødé.txt"));
});
