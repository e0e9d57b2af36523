/**
 * The Engine backend's token delivery (`docker.mounts: none`): the token is copied into the
 * created container with `PUT /containers/{id}/archive` before it starts, readable only by the
 * agent's uid, and absent from `docker inspect`.
 */

import assert from "node:assert/strict";
import { archiveTokenDelivery } from "../../src/runner/mod.ts";
import { collectLogs, dockerTest, ensureTestImage, removeQuietly, TEST_LABELS } from "./_docker.ts";

dockerTest(
  "archiveTokenDelivery() puts the token in a file only the agent's uid reads",
  async (docker) => {
    const image = await ensureTestImage(docker);
    const token = `tok-${crypto.randomUUID()}`;
    let id: string | undefined;
    try {
      id = await docker.createContainer({
        Image: image,
        Cmd: [
          "sh",
          "-c",
          "stat -c '%a %u' /.pylon-agent /.pylon-agent/token; cat /.pylon-agent/token",
        ],
        User: "1000:1000",
        Labels: TEST_LABELS,
        HostConfig: { CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges"] },
      });
      await archiveTokenDelivery(docker).deliver(id, token, { uid: 1000, gid: 1000 });
      const wait = await docker.armWait(id, { condition: "next-exit" });
      await docker.startContainer(id);
      assert.equal(await wait.exitCode, 0);
      const { stdout } = await collectLogs(
        docker.containerLogs(id, { stdout: true, stderr: true }),
      );
      assert.equal(stdout, `700 1000\n400 1000\n${token}`);
      const info = await docker.inspectContainer(id);
      assert.ok(!JSON.stringify(info).includes(token), "the token is not in docker inspect");
    } finally {
      await removeQuietly(docker, id);
    }
  },
);
