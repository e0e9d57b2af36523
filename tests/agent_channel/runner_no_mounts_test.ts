import assert from "node:assert/strict";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import { verifyJobToken } from "../../src/agent_channel/mod.ts";
import type { ContainerSpec } from "../../src/docker/mod.ts";
import { hostPathContext } from "../../src/host_paths.ts";
import { createLogger } from "../../src/log/mod.ts";
import { DockerRunner, type TokenDelivery } from "../../src/runner/mod.ts";
import { createGitRunner } from "../../src/workspace/mod.ts";
import { FakeDockerClient } from "../fakes/docker_fake.ts";
import { fakeJob } from "../fakes/job.ts";

function pylon(workspace: Record<string, unknown>) {
  const config = pylonConfigSchema.parse({
    name: "alpha",
    trigger: { type: "webhook", path: "/alpha" },
    workspace,
    agent: { type: "custom", image: "acme/agent:1", prompt: "do {{ .body.what }}" },
  });
  return resolvePylon(config, globalConfigSchema.parse({}), { env: {}, systemTimezone: "UTC" });
}

async function setup() {
  const root = await Deno.makeTempDir({ prefix: "pylon-nomounts-runner-" });
  const docker = new FakeDockerClient();
  docker.addImage("acme/agent:1");
  const order: string[] = [];
  const delivered: { id: string; token: string; valid: boolean }[] = [];
  const jobsDir = `${root}/jobs`;
  await Deno.mkdir(jobsDir);
  const tokenDelivery: TokenDelivery = {
    async deliver(id, token) {
      // Before the container starts: the init step reads the file first thing.
      order.push(docker.calls.some((c) => c.method === "startContainer") ? "late" : "deliver");
      const jobId = docker.calls.find((c) => c.method === "createContainer")!;
      const spec = jobId.args[0] as ContainerSpec;
      const job = spec.Labels?.["pylon.job"] ?? "";
      const checked = await verifyJobToken(jobsDir, job, token, Date.now());
      delivered.push({ id, token, valid: checked.ok });
    },
  };
  const runner = new DockerRunner({
    docker,
    git: createGitRunner(),
    jobsDir,
    reposDir: `${root}/repos`,
    env: { HOME: root },
    caCertificates: [],
    pidsLimit: 256,
    output: () => {},
    clock: { now: () => new Date() },
    uid: 1000,
    gid: 1000,
    hostPaths: await hostPathContext({ env: { HOME: root }, pylonHome: root }),
    mounts: "none",
    agentUrl: "http://10.0.0.5:8080",
    tokenDelivery,
  });
  const ctx = {
    signal: new AbortController().signal,
    log: createLogger({ write: () => {} }),
    update: () => Promise.resolve(),
  };
  return { root, docker, order, delivered, jobsDir, runner, ctx };
}

Deno.test("DockerRunner (docker.mounts: none) creates a container without mounts and hands it the token before start", async () => {
  const s = await setup();
  try {
    const job = fakeJob({ payload: { what: "it" } });
    const outcome = await s.runner.run(
      job,
      pylon({ type: "git-clone", repo: "https://bot:s3cret@git.example.com/acme/app.git" }),
      s.ctx,
    );
    assert.equal(outcome.status, "completed", JSON.stringify(outcome));
    const create = s.docker.calls.find((c) => c.method === "createContainer")!;
    const spec = create.args[0] as ContainerSpec;
    assert.deepEqual(spec.HostConfig?.Mounts, []);
    const text = JSON.stringify(spec);
    assert.ok(!text.includes(s.root), "no daemon path in the create request");
    assert.ok(!text.includes("s3cret"), "no credential in the create request");
    assert.ok(!text.includes(s.delivered[0]!.token), "no token in the create request");
    assert.ok(spec.Env?.includes("PYLON_AGENT_URL=http://10.0.0.5:8080"));
    assert.deepEqual(s.order, ["deliver"]);
    assert.ok(s.docker.calls.some((c) => c.method === "startContainer"));
    assert.equal(s.delivered[0]?.valid, true);
    // The token is revoked once the job has ended.
    const after = await verifyJobToken(s.jobsDir, job.id, s.delivered[0]!.token, Date.now());
    assert.equal(after.ok, false);
    // The bundle holds the rendered prompt and the repository without its credential.
    const bundle = JSON.parse(
      await Deno.readTextFile(`${s.jobsDir}/${job.id}/channel/bundle.json`),
    );
    assert.equal(atob(bundle.files[0].content_base64), "do it");
    assert.equal(bundle.repo.url, "https://git.example.com/acme/app.git");
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});

Deno.test("DockerRunner (docker.mounts: none) fails a local workspace before any container", async () => {
  const s = await setup();
  try {
    const outcome = await s.runner.run(
      fakeJob(),
      pylon({ type: "local", path: s.root }),
      s.ctx,
    );
    assert.equal(outcome.status, "failed");
    assert.match(outcome.error ?? "", /pylons\/alpha\/pylon.yaml: workspace.type local .*fix: /);
    assert.ok(!s.docker.calls.some((c) => c.method === "createContainer"));
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});
