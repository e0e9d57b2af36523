/**
 * A job whose built-in agent image cannot be built fails with the build's reason, not only "no
 * image" and a pointer to the daemon log (issue 13: found on a machine without network).
 */

import assert from "node:assert/strict";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import { DockerError } from "../../src/docker/mod.ts";
import { hostPathContext } from "../../src/host_paths.ts";
import { createLogger } from "../../src/log/mod.ts";
import { DockerRunner } from "../../src/runner/mod.ts";
import { createGitRunner } from "../../src/workspace/mod.ts";
import { FakeDockerClient } from "../fakes/docker_fake.ts";
import { fakeJob } from "../fakes/job.ts";

/** An Engine that cannot reach the package mirrors: every build and import fails. */
class OfflineDocker extends FakeDockerClient {
  override buildImage(): Promise<string> {
    return Promise.reject(
      new DockerError("Cannot build image: apt-get update: Could not resolve deb.debian.org", {
        op: "image.build",
      }),
    );
  }
  override importImage(): Promise<string> {
    return this.buildImage();
  }
}

Deno.test("a job whose agent image cannot be built fails with the build's reason", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-image-failure-" });
  try {
    await Deno.mkdir(`${root}/jobs`);
    const runner = new DockerRunner({
      docker: new OfflineDocker(),
      git: createGitRunner(),
      jobsDir: `${root}/jobs`,
      reposDir: `${root}/repos`,
      env: { HOME: root },
      caCertificates: [],
      pidsLimit: 256,
      output: () => {},
      clock: { now: () => new Date() },
      uid: 1000,
      gid: 1000,
      hostPaths: await hostPathContext({ env: { HOME: root }, pylonHome: root }),
    });
    const pylon = resolvePylon(
      pylonConfigSchema.parse({
        name: "triage",
        trigger: { type: "webhook", path: "/triage" },
        agent: { type: "claude", auth: "none", prompt: "look" },
      }),
      globalConfigSchema.parse({}),
      { env: {}, systemTimezone: "UTC" },
    );
    const outcome = await runner.run(fakeJob({ pylon: "triage" }), pylon, {
      signal: new AbortController().signal,
      log: createLogger({ write: () => {} }),
      update: () => Promise.resolve(),
    });
    assert.equal(outcome.status, "failed");
    assert.match(
      outcome.error ?? "",
      /No image for the claude agent of pylon "triage": building it failed: .*deb\.debian\.org/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
