/**
 * Interactive exec over a hijacked connection (what `pylon attach` uses), against the real Engine.
 */

import assert from "node:assert/strict";
import { dockerTest, ensureTestImage, removeQuietly, TEST_LABELS } from "./_docker.ts";

dockerTest(
  "DockerClient.openExecSession() runs an interactive shell with a TTY",
  async (docker) => {
    let id: string | undefined;
    try {
      id = await docker.createContainer({
        Image: await ensureTestImage(docker),
        Cmd: ["sleep", "60"],
        Labels: TEST_LABELS,
      });
      await docker.startContainer(id);
      const session = await docker.openExecSession!(id, { cmd: ["/bin/sh"], workingDir: "/" });
      await session.resize(40, 100);
      await session.write(new TextEncoder().encode("echo tty-$(( 20 + 22 )); stty size\nexit 7\n"));
      let text = "";
      for await (const chunk of session.readable) text += new TextDecoder().decode(chunk);
      session.close();
      assert.match(text, /tty-42/);
      assert.match(text, /40 100/);
      assert.equal(await session.exitCode(), 7);
    } finally {
      await removeQuietly(docker, id);
    }
  },
);
