import assert from "node:assert/strict";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import {
  buildContainerSpec,
  containerName,
  PROMPT_ENV_MAX_BYTES,
} from "../../src/runner/container_spec.ts";

function pylon(agent: Record<string, unknown>, global: Record<string, unknown> = {}) {
  const config = pylonConfigSchema.parse({
    name: "triage",
    trigger: { type: "webhook", path: "/triage" },
    agent: { prompt: "p", ...agent },
  });
  return resolvePylon(config, globalConfigSchema.parse(global), {
    env: { ANTHROPIC_API_KEY: "sk-env" },
    systemTimezone: "UTC",
  });
}

const BASE = {
  jobId: "0123abcd-0000-4000-8000-000000000000",
  image: "pylon/agent-claude:abc",
  prompt: "Fix it",
  sessionId: null,
  workspace: "/home/u/.pylon/jobs/x/workspace",
  workspaceReadOnly: false,
  extraMounts: [],
  outDir: "/home/u/.pylon/jobs/x/out",
  stateDir: "/home/u/.pylon/jobs/x/state",
  volumes: [],
  user: "1000:1000",
  home: "abcd1234",
  pidsLimit: 512,
};

Deno.test("buildContainerSpec() hardens the container and labels it", () => {
  const spec = buildContainerSpec({ ...BASE, pylon: pylon({ auth: "api_key" }) });
  const host = spec.HostConfig!;
  assert.deepEqual(host.CapDrop, ["ALL"]);
  assert.deepEqual(host.SecurityOpt, ["no-new-privileges"]);
  assert.equal(host.PidsLimit, 512);
  assert.equal(host.Init, true);
  assert.equal(spec.User, "1000:1000");
  assert.equal(spec.WorkingDir, "/workspace");
  assert.deepEqual(spec.Labels, {
    "pylon.job": BASE.jobId,
    "pylon.pylon": "triage",
    "pylon.managed": "1",
    "pylon.home": "abcd1234",
  });
  assert.equal(containerName("triage", BASE.jobId), "pylon-triage-0123abcd");
  // docker.memory defaults to 2g, with no swap on top.
  assert.equal(host.Memory, 2 * 1024 ** 3);
  assert.equal(host.MemorySwap, 2 * 1024 ** 3);
  assert.equal(host.NetworkMode, "bridge");
});

Deno.test("buildContainerSpec() sets no memory limit for docker.memory: 0", () => {
  const spec = buildContainerSpec({ ...BASE, pylon: pylon({}, { docker: { memory: 0 } }) });
  assert.equal(spec.HostConfig!.Memory, undefined);
  assert.equal(spec.HostConfig!.MemorySwap, undefined);
});

Deno.test("buildContainerSpec() passes a prompt over 128 KiB only as PROMPT_FILE", () => {
  const env = (prompt: string) =>
    buildContainerSpec({ ...BASE, prompt, promptFile: "/p/jobs/x/prompt", pylon: pylon({}) })
      .Env!.map((e) => e.split("=")[0]);
  assert.ok(env("small").includes("PROMPT"));
  assert.ok(env("small").includes("PROMPT_FILE"));
  // 128 KiB minus "PROMPT=" and the NUL, counted in UTF-8 bytes.
  assert.ok(env("x".repeat(PROMPT_ENV_MAX_BYTES)).includes("PROMPT"));
  assert.ok(!env("x".repeat(PROMPT_ENV_MAX_BYTES + 1)).includes("PROMPT"));
  assert.ok(!env("é".repeat(PROMPT_ENV_MAX_BYTES / 2 + 1)).includes("PROMPT"));
  assert.ok(env("x".repeat(PROMPT_ENV_MAX_BYTES + 1)).includes("PROMPT_FILE"));
  assert.equal(PROMPT_ENV_MAX_BYTES, 131_064);
});

Deno.test("buildContainerSpec() passes the contract's env and the API key, never more", () => {
  const spec = buildContainerSpec({
    ...BASE,
    sessionId: "sess-1",
    pylon: pylon({ auth: "api_key", env: { NODE_ENV: "production" } }),
  });
  const env = Object.fromEntries(spec.Env!.map((e) => e.split(/=(.*)/s).slice(0, 2)));
  assert.deepEqual(env, {
    PROMPT: "Fix it",
    JOB_ID: BASE.jobId,
    PYLON_OUT: "/pylon/out",
    PYLON_STATE: "/pylon/state",
    HOME: "/pylon/state/home",
    SESSION_ID: "sess-1",
    ANTHROPIC_API_KEY: "sk-env",
    NODE_ENV: "production",
  });
});

Deno.test("buildContainerSpec() mounts out, state, workspace, oauth files read-only, CA and volumes", () => {
  const spec = buildContainerSpec({
    ...BASE,
    pylon: pylon({ network: "none", memory: "2g", cpus: 1.5 }, { docker: { pids_limit: 64 } }),
    promptFile: "/home/u/.pylon/jobs/x/prompt",
    oauthCredentials: "/home/u/.claude/.credentials.json",
    oauthJson: "/home/u/.claude.json",
    caBundle: "/home/u/.pylon/ca-bundle.pem",
    volumes: [{ Type: "bind", Source: "/home/u/.aws", Target: "/home/pylon/.aws", ReadOnly: true }],
  });
  const mounts = spec.HostConfig!.Mounts!.map((m) =>
    `${m.Source}:${m.Target}:${m.ReadOnly ? "ro" : "rw"}`
  );
  assert.deepEqual(mounts, [
    "/home/u/.pylon/jobs/x/out:/pylon/out:rw",
    "/home/u/.pylon/jobs/x/state:/pylon/state:rw",
    "/home/u/.pylon/jobs/x/prompt:/pylon/prompt:ro",
    "/home/u/.pylon/jobs/x/workspace:/workspace:rw",
    "/home/u/.claude/.credentials.json:/pylon/oauth/.credentials.json:ro",
    "/home/u/.claude.json:/pylon/oauth.json:ro",
    "/home/u/.pylon/ca-bundle.pem:/pylon/ca.pem:ro",
    "/home/u/.aws:/home/pylon/.aws:ro",
  ]);
  assert.equal(spec.HostConfig!.NetworkMode, "none");
  assert.equal(spec.HostConfig!.Memory, 2 * 1024 ** 3);
  assert.equal(spec.HostConfig!.NanoCpus, 1_500_000_000);
  assert.ok(spec.Env!.includes("NODE_EXTRA_CA_CERTS=/pylon/ca.pem"));
});

Deno.test("buildContainerSpec() runs a custom agent's command", () => {
  const spec = buildContainerSpec({
    ...BASE,
    image: "ghcr.io/acme/agent:1",
    pylon: pylon({ type: "custom", image: "ghcr.io/acme/agent:1", command: ["run", "--fast"] }),
  });
  assert.equal(spec.Image, "ghcr.io/acme/agent:1");
  assert.deepEqual(spec.Cmd, ["run", "--fast"]);
});

Deno.test("buildContainerSpec() passes Claude's agent settings as PYLON_AGENT_ARGS, MCP as a read-only file", () => {
  const spec = buildContainerSpec({
    ...BASE,
    pylon: pylon({
      model: "claude-sonnet-4-5",
      allowed_tools: ["Read"],
      mcp_servers: {
        sentry: { url: "https://mcp.sentry.dev/mcp", headers: { Authorization: "Bearer tok-1" } },
      },
    }),
    mcpConfigFile: "/home/u/.pylon/jobs/x/mcp.json",
  });
  const env = Object.fromEntries(spec.Env!.map((e) => e.split(/=(.*)/s).slice(0, 2)));
  assert.deepEqual(JSON.parse(env.PYLON_AGENT_ARGS!), [
    "--model",
    "claude-sonnet-4-5",
    "--tools",
    "Read",
    "--allowedTools",
    "Read",
    "--disallowedTools",
    "mcp__sentry",
    "--mcp-config",
    "/pylon/mcp.json",
    "--strict-mcp-config",
  ]);
  // The server's token stays in the file: never in the environment `docker inspect` shows.
  assert.ok(!spec.Env!.some((e) => e.includes("tok-1")));
  const mcp = spec.HostConfig!.Mounts!.find((m) => m.Target === "/pylon/mcp.json");
  assert.equal(mcp?.Source, "/home/u/.pylon/jobs/x/mcp.json");
  assert.equal(mcp?.ReadOnly, true);
});

Deno.test("buildContainerSpec() passes OpenCode's model as OPENCODE_MODEL and nothing else", () => {
  const spec = buildContainerSpec({
    ...BASE,
    pylon: pylon({ type: "opencode", model: "anthropic/claude-sonnet-4-5", max_turns: 3 }),
  });
  assert.ok(spec.Env!.includes("OPENCODE_MODEL=anthropic/claude-sonnet-4-5"));
  assert.ok(!spec.Env!.some((e) => e.startsWith("PYLON_AGENT_ARGS=")));
});
