import assert from "node:assert/strict";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import { mountsChecks } from "../../src/cli/doctor/mod.ts";
import { buildContainerSpec, noMountsProblem, prepareChannelJob } from "../../src/runner/mod.ts";
import { verifyJobToken } from "../../src/agent_channel/mod.ts";

function pylon(extra: Record<string, unknown> = {}, agent: Record<string, unknown> = {}) {
  const config = pylonConfigSchema.parse({
    name: "triage",
    trigger: { type: "webhook", path: "/triage" },
    workspace: { type: "git-clone", repo: "https://github.com/acme/app" },
    agent: { prompt: "p", ...agent },
    ...extra,
  });
  return resolvePylon(config, globalConfigSchema.parse({}), {
    env: { ANTHROPIC_API_KEY: "sk-env" },
    systemTimezone: "UTC",
  });
}

Deno.test("noMountsProblem() refuses what needs the daemon's host, naming file, field and fix", () => {
  assert.equal(noMountsProblem(pylon()), undefined);
  // Tool approval crosses the channel (tests/agent_channel/tool_calls_test.ts).
  assert.equal(noMountsProblem(pylon({}, { approve_tools: ["Bash"] })), undefined);
  const cases: [ReturnType<typeof pylon>, RegExp][] = [
    [pylon({ workspace: { type: "local", path: "/srv/app" } }), /workspace.type local/],
    [pylon({ workspace: { type: "git-worktree", repo: "/srv/app" } }), /git-worktree/],
    [pylon({}, { volumes: ["/srv/data:/data"] }), /agent.volumes/],
    [pylon({}, { network: "none" }), /agent.network: none/],
    [pylon({ workspace: { type: "git-clone", repo: "file:///srv/app.git" } }), /workspace.repo/],
  ];
  for (const [p, pattern] of cases) {
    const problem = noMountsProblem(p) ?? "";
    assert.match(problem, pattern);
    assert.match(problem, /pylons\/triage\/pylon.yaml: .*; fix: /);
  }
  const custom = pylon({}, { type: "custom", image: "acme/agent" });
  assert.equal(noMountsProblem(custom), undefined);
  // A custom image with docker.ca_certificates is no longer refused: the CA bundle reaches it
  // as a bundle file or a Swarm config (tests/integration/swarm_secrets_test.ts).
});

Deno.test("buildContainerSpec() with a channel has no mount and runs the init step", () => {
  const spec = buildContainerSpec({
    jobId: "0123abcd-0000-4000-8000-000000000000",
    pylon: pylon(),
    image: "pylon/agent-claude:abc",
    prompt: "Fix it",
    promptFile: "/home/u/.pylon/jobs/x/prompt",
    sessionId: null,
    workspace: "/home/u/.pylon/jobs/x/workspace",
    workspaceReadOnly: false,
    extraMounts: [],
    outDir: "/home/u/.pylon/jobs/x/out",
    stateDir: "/home/u/.pylon/jobs/x/state",
    caBundle: "/home/u/.pylon/ca-bundle.pem",
    volumes: [],
    user: "1000:1000",
    home: "h",
    pidsLimit: 512,
    channel: {
      agentUrl: "http://10.0.0.5:8080",
      extraHosts: ["host.docker.internal:host-gateway"],
    },
  });
  assert.deepEqual(spec.HostConfig?.Mounts, []);
  assert.equal(spec.HostConfig?.Binds, undefined);
  assert.ok(!JSON.stringify(spec).includes("/home/u/.pylon"), "no daemon path anywhere");
  assert.deepEqual(spec.Entrypoint?.slice(0, 4), [
    "node",
    "/usr/local/lib/pylon/pylon-init.mjs",
    "run",
    "--",
  ]);
  assert.ok(spec.Env?.includes("PYLON_AGENT_URL=http://10.0.0.5:8080"));
  assert.ok(spec.Env?.includes("PYLON_TOKEN_FILE=/.pylon-agent/token"));
  assert.ok(!spec.Env?.some((e) => e.startsWith("NODE_EXTRA_CA_CERTS=")));
  assert.deepEqual(spec.HostConfig?.ExtraHosts, ["host.docker.internal:host-gateway"]);
});

Deno.test("prepareChannelJob() keeps the credential out of the bundle and issues a token", async () => {
  const jobsDir = await Deno.makeTempDir();
  try {
    const now = Date.parse("2026-12-05T12:00:00Z");
    const token = await prepareChannelJob({
      jobsDir,
      jobId: "job-1",
      stateJob: "job-0",
      restoreState: true,
      pylon: pylon(),
      prompt: "Fix it",
      repo: "https://bot:s3cret@git.example.com/acme/app.git",
      ref: "main",
      oauth: {},
      home: "/home/u",
      deadlineMs: now + 60_000,
      now,
    });
    const bundle = await Deno.readTextFile(`${jobsDir}/job-1/channel/bundle.json`);
    assert.ok(!bundle.includes("s3cret"));
    const parsed = JSON.parse(bundle);
    assert.deepEqual(parsed.repo, {
      url: "https://git.example.com/acme/app.git",
      ref: "main",
      credential: true,
      push: false,
    });
    assert.equal(atob(parsed.files[0].content_base64), "Fix it");
    const cred = JSON.parse(
      await Deno.readTextFile(`${jobsDir}/job-1/channel/git-credential.json`),
    );
    assert.equal(cred.password, "s3cret");
    // For that repository only: the helper in the image checks the origin and the path.
    assert.equal(cred.origin, "https://git.example.com");
    assert.equal(cred.path, "acme/app.git");
    assert.equal((await Deno.stat(`${jobsDir}/job-1/channel/access.json`)).mode! & 0o777, 0o600);
    const access = await Deno.readTextFile(`${jobsDir}/job-1/channel/access.json`);
    assert.ok(!access.includes(token), "only the token's hash is kept");
    const ok = await verifyJobToken(jobsDir, "job-1", token, now);
    assert.equal(ok.ok && ok.access.stateJob, "job-0");
    // Ten minutes past the deadline it no longer works.
    const late = await verifyJobToken(jobsDir, "job-1", token, now + 60_000 + 10 * 60_000 + 1);
    assert.deepEqual(late, { ok: false, why: "expired" });
  } finally {
    await Deno.remove(jobsDir, { recursive: true });
  }
});

Deno.test("doctor suggests docker.mounts: none on a remote engine and checks pylons in it", () => {
  const global = (docker: Record<string, unknown>) => ({
    config: globalConfigSchema.parse({ docker }),
    env: {},
    exists: true,
  });
  assert.deepEqual(mountsChecks({}, [pylon()], global({})), []);
  const remote = mountsChecks({ DOCKER_HOST: "tcp://10.0.0.9:2376" }, [pylon()], global({}));
  assert.equal(remote[0]?.status, "WARN");
  assert.match(remote[0]?.hint ?? "", /docker.mounts: none/);
  const local = pylon({ workspace: { type: "local", path: "/srv/app" } });
  const rows = mountsChecks({}, [pylon(), local], global({ mounts: "none" }));
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.status, "FAIL");
  assert.match(rows[0]?.hint ?? "", /git-clone/);
});

Deno.test("doctor fails a server.agent_url that Swarm's tasks or a remote engine cannot reach", () => {
  const global = (server: Record<string, unknown>, docker: Record<string, unknown>) => ({
    config: globalConfigSchema.parse({ server, docker }),
    env: {},
    exists: true,
  });
  const agentRow = (rows: { label: string }[]) => rows.find((r) => r.label === "Agent URL");
  const swarm = { backend: "swarm" };
  for (
    const url of [undefined, "http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:80"]
  ) {
    const row = agentRow(mountsChecks({}, [pylon()], global(url ? { agent_url: url } : {}, swarm)));
    assert.equal(row && "status" in row ? row.status : undefined, "FAIL", String(url));
  }
  const remote = { DOCKER_HOST: "tcp://10.0.0.9:2376" };
  assert.ok(agentRow(mountsChecks(remote, [pylon()], global({}, { mounts: "none" }))));
  // Reachable addresses, and a local engine (its containers reach host.docker.internal): no row.
  assert.equal(
    agentRow(mountsChecks({}, [pylon()], global({ agent_url: "http://10.0.0.5:8080" }, swarm))),
    undefined,
  );
  assert.equal(agentRow(mountsChecks({}, [pylon()], global({}, { mounts: "none" }))), undefined);
});
