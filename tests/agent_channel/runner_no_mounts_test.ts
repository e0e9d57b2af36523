import assert from "node:assert/strict";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import { verifyJobToken } from "../../src/agent_channel/mod.ts";
import type { ContainerSpec } from "../../src/docker/mod.ts";
import { hostPathContext } from "../../src/host_paths.ts";
import { createLogger } from "../../src/log/mod.ts";
import { type ApprovalFolders, DockerRunner, type TokenDelivery } from "../../src/runner/mod.ts";
import type { Job } from "../../src/store/mod.ts";
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

/** `{path, uid, mode, text}` of each entry of a ustar archive. */
function tarEntries(tar: Uint8Array) {
  const out: { path: string; uid: number; mode: number; text: string }[] = [];
  const field = (b: Uint8Array, from: number, len: number) =>
    new TextDecoder().decode(b.subarray(from, from + len)).replace(/\0.*$/s, "").trim();
  for (let at = 0; at + 512 <= tar.length;) {
    const head = tar.subarray(at, at + 512);
    const path = field(head, 0, 100);
    if (path === "") break;
    const size = parseInt(field(head, 124, 12) || "0", 8);
    out.push({
      path,
      uid: parseInt(field(head, 108, 8), 8),
      mode: parseInt(field(head, 100, 8), 8),
      text: new TextDecoder().decode(tar.subarray(at + 512, at + 512 + size)),
    });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

Deno.test("DockerRunner (docker.mounts: none) copies the approval hook in as root's files and watches the job", async () => {
  const s = await setup();
  try {
    const { docker, runner, root } = s;
    const archives: { id: string; path: string; tar: Uint8Array; started: boolean }[] = [];
    const started = () => docker.calls.some((c) => c.method === "startContainer");
    Object.assign(docker, {
      putArchive: (id: string, path: string, tar: Uint8Array) => {
        archives.push({ id, path, tar, started: started() });
        return Promise.resolve();
      },
    });
    const watched: { event: string; job: string; folders?: ApprovalFolders }[] = [];
    runner.useApprovals({
      watch: (job: Job, folders: ApprovalFolders) =>
        watched.push({ event: started() ? "watch" : "watch-early", job: job.id, folders }),
      unwatch: (job: string) => watched.push({ event: "unwatch", job }),
    });
    const claude = resolvePylon(
      pylonConfigSchema.parse({
        name: "alpha",
        trigger: { type: "webhook", path: "/alpha" },
        workspace: { type: "none" },
        agent: {
          type: "claude",
          image: "acme/agent:1",
          auth: "api_key",
          "api_key": "sk-test",
          prompt: "p",
          "approve_tools": ["Bash(git push:*)"],
          "approve_timeout": "3m",
        },
      }),
      globalConfigSchema.parse({}),
      { env: {}, systemTimezone: "UTC" },
    );
    const job = fakeJob({ pylon: "alpha" });
    const outcome = await runner.run(job, claude, s.ctx);
    assert.notEqual(outcome.status, "failed", JSON.stringify(outcome));

    assert.equal(archives.length, 1);
    assert.equal(archives[0]!.path, "/");
    assert.equal(archives[0]!.started, false, "copied in before the container starts");
    const entries = tarEntries(archives[0]!.tar);
    assert.deepEqual(entries.map((e) => [e.path.replace(/\/$/, ""), e.uid, e.mode]), [
      ["pylon/approval", 0, 0o755],
      ["pylon/approval/pylon-approve.mjs", 0, 0o644],
      ["pylon/approval/config.json", 0, 0o644],
      ["etc/claude-code", 0, 0o755],
      ["etc/claude-code/managed-settings.json", 0, 0o644],
    ]);
    const config = JSON.parse(entries.find((e) => e.path.endsWith("config.json"))!.text);
    assert.deepEqual(config, {
      rules: ["Bash(git push:*)"],
      "timeout_ms": 180_000,
      channel: { url: "http://10.0.0.5:8080", job: job.id },
    });
    const settings = JSON.parse(entries.find((e) => e.path.endsWith("settings.json"))!.text);
    assert.equal(
      settings.hooks.PreToolUse[0].hooks[0].command,
      "node /pylon/approval/pylon-approve.mjs",
    );

    // Watched while the container ran, from the daemon's own copy of the folders.
    assert.deepEqual(watched.map((w) => w.event), ["watch", "unwatch"]);
    assert.equal(watched[0]!.folders!.dir, `${root}/jobs/${job.id}/approval`);
    const spec = docker.calls.find((c) => c.method === "createContainer")!.args[0] as {
      HostConfig?: { Mounts?: unknown[] };
    };
    assert.deepEqual(spec.HostConfig?.Mounts, []);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});
