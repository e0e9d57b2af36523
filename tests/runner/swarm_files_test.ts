/**
 * The Swarm backend's files, without Docker: which of a job's files become Swarm secrets (and
 * leave the bundle), how the service references them and the CA config, and the config's name.
 * The real swarm runs them in tests/integration/swarm_secrets_test.ts.
 */

import assert from "node:assert/strict";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import { buildContainerSpec, prepareChannelJob } from "../../src/runner/mod.ts";
import { channelSecretFiles } from "../../src/runner/no_mounts.ts";
import { caConfigName, jobSecrets, serviceSpecOf } from "../../src/runner/swarm.ts";

const MCP_SECRET = "mcp-secret-31f0";

function pylon() {
  const config = pylonConfigSchema.parse({
    name: "triage",
    trigger: { type: "webhook", path: "/triage" },
    workspace: { type: "none" },
    agent: {
      prompt: "p",
      auth: "api_key",
      "mcp_servers": { tracker: { command: "tracker-mcp", env: { TOKEN: MCP_SECRET } } },
    },
  });
  return resolvePylon(config, globalConfigSchema.parse({}), {
    env: { ANTHROPIC_API_KEY: "sk-env-key" },
    systemTimezone: "UTC",
  });
}

const JOB = "0123abcd-0000-4000-8000-000000000000";

function container() {
  return buildContainerSpec({
    jobId: JOB,
    pylon: pylon(),
    image: "pylon/agent-claude:abc",
    prompt: "Fix it",
    sessionId: null,
    workspace: null,
    workspaceReadOnly: false,
    extraMounts: [],
    outDir: "/o",
    stateDir: "/o",
    volumes: [],
    user: "1000:1000",
    home: "h",
    pidsLimit: 512,
    channel: { agentUrl: "http://172.17.0.1:8080" },
  });
}

Deno.test("channelSecretFiles() lists the MCP config and OAuth files at the agent's paths", () => {
  const files = channelSecretFiles(pylon(), { credentials: '{"c":1}', json: '{"j":1}' });
  assert.deepEqual(files.map((f) => f.path), [
    "/pylon/mcp.json",
    "/pylon/oauth/.credentials.json",
    "/pylon/oauth.json",
  ]);
  assert.ok(files[0]!.text.includes(MCP_SECRET));
  assert.deepEqual(channelSecretFiles(pylon(), {}).length, 1);
});

Deno.test("channelSecretFiles() gives an OpenCode pylon its MCP config in OpenCode's shape", () => {
  const config = pylonConfigSchema.parse({
    name: "oc",
    trigger: { type: "webhook", path: "/oc" },
    agent: {
      type: "opencode",
      prompt: "p",
      "mcp_servers": { tracker: { url: "https://t.example/mcp", headers: { A: MCP_SECRET } } },
    },
  });
  const oc = resolvePylon(config, globalConfigSchema.parse({}), { env: {}, systemTimezone: "UTC" });
  const files = channelSecretFiles(oc, {});
  assert.deepEqual(files.map((f) => f.path), ["/pylon/mcp.json"]);
  assert.deepEqual(JSON.parse(files[0]!.text).mcp.tracker, {
    type: "remote",
    url: "https://t.example/mcp",
    headers: { A: MCP_SECRET },
    enabled: true,
  });
});

Deno.test("jobSecrets() and serviceSpecOf() keep secret files and the API key out of the spec", () => {
  const c = container();
  const files = channelSecretFiles(pylon(), { credentials: "oauth-cred-99" });
  const { secrets } = jobSecrets(JOB, "tok-123", c, pylon(), "/.pylon-agent/token", files);
  assert.deepEqual(secrets.map((s) => [s.name, s.target]), [
    [`pylon-${JOB}-token`, "/.pylon-agent/token"],
    [`pylon-${JOB}-env1`, "/run/secrets/pylon-env1"],
    [`pylon-${JOB}-file1`, "/run/secrets/pylon-file1"],
    [`pylon-${JOB}-file2`, "/run/secrets/pylon-file2"],
  ]);
  const spec = serviceSpecOf({
    name: "pylon-triage-0123abcd",
    pylon: pylon(),
    container: c,
    image: "pylon/agent-claude:abc",
    secrets: secrets.map((s, i) => ({ ...s, id: `s${i}` })),
    configs: [{ id: "c1", name: "pylon-ca-0123456789ab", target: "/pylon/ca.pem" }],
    uid: 1000,
    gid: 1001,
  });
  const text = JSON.stringify(spec);
  for (const secret of [MCP_SECRET, "oauth-cred-99", "sk-env-key", "tok-123"]) {
    assert.ok(!text.includes(secret), `${secret} stays out of the service's spec`);
  }
  const cs = spec.TaskTemplate.ContainerSpec;
  assert.ok(cs.Env?.includes("PYLON_SECRET_ENV=ANTHROPIC_API_KEY=/run/secrets/pylon-env1"));
  assert.ok(
    cs.Env?.includes(
      "PYLON_SECRET_FILES=/pylon/mcp.json=/run/secrets/pylon-file1," +
        "/pylon/oauth/.credentials.json=/run/secrets/pylon-file2",
    ),
    JSON.stringify(cs.Env),
  );
  assert.deepEqual(cs.Secrets?.[2], {
    File: { Name: "/run/secrets/pylon-file1", UID: "1000", GID: "1001", Mode: 0o400 },
    SecretID: "s2",
    SecretName: `pylon-${JOB}-file1`,
  });
  assert.deepEqual(cs.Configs, [{
    File: { Name: "/pylon/ca.pem", UID: "1000", GID: "1001", Mode: 0o444 },
    ConfigID: "c1",
    ConfigName: "pylon-ca-0123456789ab",
  }]);
  // The hardening Swarm can express: no capabilities, no new privileges, a pids limit.
  assert.deepEqual(cs.CapabilityDrop, ["ALL"]);
  assert.deepEqual(cs.Privileges, { NoNewPrivileges: true });
  assert.equal(spec.TaskTemplate.Resources?.Limits?.Pids, 512);
});

Deno.test("caConfigName() follows the bundle's content", async () => {
  const a = await caConfigName("-----BEGIN CERTIFICATE-----\nA\n");
  assert.match(a, /^pylon-ca-[0-9a-f]{12}$/);
  assert.equal(await caConfigName("-----BEGIN CERTIFICATE-----\nA\n"), a);
  assert.notEqual(await caConfigName("-----BEGIN CERTIFICATE-----\nB\n"), a);
});

Deno.test("prepareChannelJob() leaves secret files out on Swarm and carries the CA bundle", async () => {
  const jobsDir = await Deno.makeTempDir();
  try {
    const input = {
      jobsDir,
      stateJob: "job-0",
      restoreState: false,
      pylon: pylon(),
      prompt: "Fix it",
      repo: undefined,
      ref: undefined,
      oauth: { credentials: "oauth-cred-99" },
      home: "/home/u",
      deadlineMs: null,
      now: Date.now(),
    };
    await prepareChannelJob({ ...input, jobId: "engine", ca: "PEM\n" });
    const engine = JSON.parse(await Deno.readTextFile(`${jobsDir}/engine/channel/bundle.json`));
    assert.deepEqual(
      engine.files.map((f: { path: string; mode: number }) => [f.path, f.mode]),
      [
        ["/pylon/prompt", 0o600],
        ["/pylon/mcp.json", 0o600],
        ["/pylon/oauth/.credentials.json", 0o600],
        ["/pylon/ca.pem", 0o444],
      ],
    );
    await prepareChannelJob({ ...input, jobId: "swarm", secretFilesApart: true });
    const raw = await Deno.readTextFile(`${jobsDir}/swarm/channel/bundle.json`);
    assert.deepEqual(JSON.parse(raw).files.map((f: { path: string }) => f.path), [
      "/pylon/prompt",
    ]);
    assert.ok(!raw.includes(btoa(MCP_SECRET).slice(0, 12)));
  } finally {
    await Deno.remove(jobsDir, { recursive: true });
  }
});

Deno.test("jobSecrets() moves the egress proxy's URL (it holds the job's credential) out of the spec", () => {
  const c = container();
  const proxy = "http://job1:proxy-secret-77@pylon-egress-relay:3128";
  c.Env = [...(c.Env ?? []), `HTTPS_PROXY=${proxy}`, `http_proxy=${proxy}`, "NO_PROXY=relay"];
  const { secrets, secretEnv } = jobSecrets(JOB, "tok-1", c, pylon(), "/.pylon-agent/token");
  assert.ok(secretEnv.includes("HTTPS_PROXY") && secretEnv.includes("http_proxy"), `${secretEnv}`);
  const spec = serviceSpecOf({
    name: "pylon-triage-0123abcd",
    pylon: pylon(),
    container: c,
    image: "pylon/agent-claude:abc",
    secrets: secrets.map((s, i) => ({ ...s, id: `s${i}` })),
    uid: 1000,
    gid: 1000,
  });
  assert.ok(!JSON.stringify(spec).includes("proxy-secret-77"), "no proxy credential in the spec");
  assert.ok(spec.TaskTemplate.ContainerSpec.Env?.includes("NO_PROXY=relay"));
  // A proxy variable without a credential stays a plain variable.
  const plain = container();
  plain.Env = [...(plain.Env ?? []), "HTTPS_PROXY=http://corp-proxy:3128"];
  assert.ok(!jobSecrets(JOB, "t", plain, pylon(), "/t").secretEnv.includes("HTTPS_PROXY"));
});
