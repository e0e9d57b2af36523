/**
 * The runner's side of `agent.egress`: a job of a pylon with a list runs on the egress service's
 * network with its proxy variables, and fails closed when no egress service runs.
 */

import assert from "node:assert/strict";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import type { ContainerSpec } from "../../src/docker/mod.ts";
import type { EgressService } from "../../src/egress/mod.ts";
import { hostPathContext } from "../../src/host_paths.ts";
import { createLogger } from "../../src/log/mod.ts";
import { DockerRunner } from "../../src/runner/mod.ts";
import { createGitRunner } from "../../src/workspace/mod.ts";
import { FakeDockerClient } from "../fakes/docker_fake.ts";
import { fakeJob } from "../fakes/job.ts";

const IMAGE = "example/agent:1";

async function runWith(egress: EgressService | undefined, list: unknown) {
  const root = await Deno.makeTempDir({ prefix: "pylon-egress-runner-" });
  try {
    await Deno.mkdir(`${root}/jobs`);
    const docker = new FakeDockerClient();
    docker.addImage(IMAGE);
    const specs: ContainerSpec[] = [];
    const create = docker.createContainer.bind(docker);
    docker.createContainer = (spec, opts) => {
      specs.push(spec);
      return create(spec, opts);
    };
    const runner = new DockerRunner({
      docker,
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
      egress,
    });
    const pylon = resolvePylon(
      pylonConfigSchema.parse({
        name: "triage",
        trigger: { type: "webhook", path: "/triage" },
        agent: { type: "custom", image: IMAGE, prompt: "look", egress: list },
      }),
      globalConfigSchema.parse({}),
      { env: {}, systemTimezone: "UTC" },
    );
    const outcome = await runner.run(fakeJob({ pylon: "triage" }), pylon, {
      signal: new AbortController().signal,
      log: createLogger({ write: () => {} }),
      update: () => Promise.resolve(),
    });
    return { outcome, specs };
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const SERVICE: EgressService = {
  network: "pylon-egress",
  gateway: "172.19.0.1",
  proxyPort: 3128,
  containerSettings: (jobId, job) =>
    Promise.resolve(
      job.egress === "any" ? null : {
        networkMode: "pylon-egress",
        env: { HTTPS_PROXY: `http://${jobId}:x@172.19.0.1:3128` },
        gateway: "172.19.0.1",
      },
    ),
  close: () => Promise.resolve(),
};

Deno.test("a job with agent.egress fails closed when pylon's egress proxy is not running", async () => {
  const { outcome, specs } = await runWith(undefined, ["api.github.com"]);
  assert.equal(outcome.status, "failed");
  assert.match(outcome.error ?? "", /agent\.egress of triage needs pylon's egress proxy/);
  assert.equal(specs.length, 0);
});

Deno.test("a job with agent.egress runs on the job network with the proxy variables", async () => {
  const { specs } = await runWith(SERVICE, ["api.github.com"]);
  assert.equal(specs[0]?.HostConfig?.NetworkMode, "pylon-egress");
  assert.ok(specs[0]?.Env?.some((e) => e.startsWith("HTTPS_PROXY=http://")));
  const any = await runWith(SERVICE, "any");
  assert.equal(any.specs[0]?.HostConfig?.NetworkMode, "bridge");
});
