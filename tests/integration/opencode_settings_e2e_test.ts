/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): an OpenCode pylon's `allowed_tools`, `disallowed_tools` and
 * `mcp_servers` end to end, as a user sets them up: `pylon.yaml` with the MCP token as `${VAR}`
 * from the pylon's `.env`, the real daemon and Docker runner, the real
 * OpenCode CLI in the image pylon builds, the fake Messages API and a fake MCP server on loopback;
 * with `docker.mounts: host`, with `docker.mounts: none` (the agent channel) and on
 * `docker.backend: swarm` (the MCP file a Swarm secret).
 *
 * - the model is offered only the listed tools and the MCP server's tools, by OpenCode's names;
 * - the `git push` the fake asks for is refused (nothing reaches the bare remote, not even the
 *   command before it in the same call: its output is not in the tool result), and the job still
 *   completes;
 * - a stdio MCP server (`node -e` in the container) runs with its `env` (its tool's description
 *   carries the token the fake sees);
 * - the http MCP server is called with the token from `.env`, which is in neither the job's JSON, its
 *   log, the daemon's log nor the running container's `docker inspect`.
 *
 * And `agent.max_turns` / `agent.max_cost_usd` through the daemon: against a model that never stops
 * calling tools, the job ends `failed` with "turn limit of 2 reached after 3 turns" or "budget of
 * $0.0002 reached after 2 turns".
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { eventually, writeHome } from "../_helpers/daemon.ts";
import { FAKE_ANSWER, startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
import { startFakeMcpServer } from "../fakes/mcp_server.ts";
import { openTestDocker } from "./_docker.ts";
import { ENDED, finishedJob, jobOf, postJob, startDockerDaemon } from "./_daemon.ts";
import { buildOnDebian, printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";
import { startAgentProxy } from "./no_mounts_helpers.ts";
import { requireSwarm, serviceOfJob, SWARM_IGNORE } from "./swarm_helpers.ts";

printSlowSkipReason("OpenCode agent settings");

const TOKEN = `mcp-secret-${crypto.randomUUID().slice(0, 8)}`;

async function git(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `git ${args.join(" ")}: ${text}`);
  return text;
}

/**
 * A stdio MCP server run by `node -e` inside the agent's container: one tool, `ping`, whose
 * description carries `LOCAL_TOKEN` from its environment (so the fake sees the env arrived).
 */
const LOCAL_MCP = [
  'const rl = require("readline").createInterface({ input: process.stdin });',
  'rl.on("line", (l) => { let m; try { m = JSON.parse(l); } catch { return; }',
  "  if (m.id === undefined) return;",
  '  const r = m.method === "initialize"',
  '    ? { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "local", version: "1" } }',
  '    : m.method === "tools/list"',
  '    ? { tools: [{ name: "ping", description: "token:" + process.env.LOCAL_TOKEN, inputSchema: { type: "object", properties: {} } }] }',
  "    : {};",
  '  process.stdout.write(JSON.stringify({ jsonrpc: "2.0", id: m.id, result: r }) + "\\n"); });',
].join("\n");

/** What the denied call prints if it runs (the command holds no such text). */
const RAN = "RAN-42";

/**
 * The `agent.env` lines of a pylon.yaml that point OpenCode's provider at the fake model API and
 * keep its model list offline (test plumbing, under `  env:`).
 */
function fakeProviderEnv(apiUrl: string): string[] {
  const config = { provider: { anthropic: { options: { baseURL: `${apiUrl}/v1` } } } };
  return [
    `    OPENCODE_CONFIG_CONTENT: ${JSON.stringify(JSON.stringify(config))}`,
    '    OPENCODE_DISABLE_MODELS_FETCH: "1"',
  ];
}

/**
 * One job of an OpenCode pylon with the settings; `mounts`: the docker.mounts mode. With `host`
 * the workspace is a host folder whose repository's origin is a bare one inside it, so a push
 * that ran would show on the host; with `none` there are no host folders: the MCP file travels in
 * the job's bundle over the agent channel.
 */
async function scenario(mounts: "host" | "none" | "swarm") {
  if (mounts === "swarm") requireSwarm();
  using docker = openTestDocker();
  const image = await buildOnDebian(docker, "opencode");
  await using api = startFakeAnthropicApi({
    toolUse: {
      name: "bash",
      input: {
        command: "echo RAN-$((40+2)) | tee before-push.txt && git push origin HEAD:pushed",
        description: "push",
      },
    },
  });
  await using mcp = startFakeMcpServer({ sentry: ["get_issue"], other: ["other_tool"] });
  const root = await Deno.makeTempDir({ prefix: "pylon-opencode-settings-" });
  const workspace = await Deno.makeTempDir({ prefix: "pylon-opencode-ws-" });
  const remote = join(workspace, ".remote.git");
  if (mounts === "host") {
    await git(workspace, "init", "-q", "-b", "main");
    await git(workspace, "init", "-q", "--bare", remote);
    await git(workspace, "remote", "add", "origin", "./.remote.git");
    await Deno.writeTextFile(join(workspace, "README"), "hi\n");
    await git(workspace, "add", "README");
    await git(workspace, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "seed");
    await git(workspace, "push", "-q", "origin", "main");
    await new Deno.Command("chmod", { args: ["-R", "a+rwX", workspace] }).output();
  }
  const proxy = mounts === "host" ? undefined : startAgentProxy();
  const backend = mounts === "swarm" ? "backend: swarm" : "mounts: none";
  await writeHome(root, {
    ...(proxy
      ? { "config.yaml": `server:\n  agent_url: ${proxy.url}\ndocker:\n  ${backend}\n` }
      : {}),
    "pylons/oc/.env": `ANTHROPIC_API_KEY=sk-ant-fake\nSENTRY_TOKEN=${TOKEN}\n`,
    "pylons/oc/pylon.yaml": [
      "name: oc",
      "trigger: { type: webhook, path: /oc }",
      ...(mounts === "host"
        ? ["workspace:", "  type: local", `  path: ${JSON.stringify(workspace)}`]
        : []),
      "agent:",
      "  type: opencode",
      `  image: ${JSON.stringify(image)}`,
      "  provider: anthropic",
      "  auth: api_key",
      "  gateway: false",
      "  network: host",
      '  prompt: "push it"',
      "  allowed_tools: [Read, Grep, Bash, 'mcp__sentry__*', 'mcp__local__ping']",
      "  disallowed_tools: ['Bash(git push:*)']",
      "  mcp_servers:",
      "    sentry:",
      `      url: ${mcp.url}/sentry`,
      "      headers: { Authorization: 'Bearer ${SENTRY_TOKEN}' }",
      "    other:",
      `      url: ${mcp.url}/other`,
      "    local:",
      "      command: node",
      `      args: ["-e", ${JSON.stringify(LOCAL_MCP)}]`,
      "      env: { LOCAL_TOKEN: '${SENTRY_TOKEN}' }",
      "  env:",
      ...fakeProviderEnv(api.url),
    ].join("\n") + "\n",
  });
  const d = await startDockerDaemon(root, proxy ? { proxy } : {});
  try {
    const id = await postJob(d, "/oc").catch((e) => {
      throw new Error(`${e.message}\n${d.logs.join("\n")}`);
    });
    // The running container, as `docker inspect` shows it (on Swarm, the job's service).
    let inspected = mounts === "swarm"
      ? JSON.stringify(await docker.swarm!.inspectService((await serviceOfJob(docker, id)).ID))
      : "";
    for (let i = 0; i < 2400 && inspected === ""; i++) {
      const [c] = await docker.listContainers({ labels: { "pylon.job": id } });
      if (c) inspected = JSON.stringify(await docker.inspectContainer(c.Id) ?? "");
      else if (ENDED.includes((await jobOf(d, id)).status)) break;
      else await new Promise((r) => setTimeout(r, 50));
    }
    const job = await finishedJob(d, id, 240_000);
    const log = await Deno.readTextFile(join(root, "jobs", `${id}.log`)).catch(() => "");
    assert.equal(job.status, "completed", `${JSON.stringify(job)}\n${log}`);
    assert.equal(job.result, FAKE_ANSWER);

    const main = api.messageRequests().filter((q) =>
      Array.isArray(q.body?.tools) && q.body.tools.length > 0
    );
    assert.ok(main.length >= 2, "the tool call and the answer after it");
    for (const q of main) {
      const tools = q.body?.tools as { name: string; description?: string }[];
      const names = tools.map((t) => t.name).sort();
      assert.deepEqual(names, ["bash", "grep", "local_ping", "read", "sentry_get_issue"]);
      // The stdio server ran with its environment (the token from .env).
      assert.equal(tools.find((t) => t.name === "local_ping")?.description, `token:${TOKEN}`);
    }
    // Refused whole: the command before the push did not run either.
    const results = JSON.stringify(main.at(-1)?.body?.messages);
    assert.match(results, /tool_result/);
    assert.ok(!results.includes(RAN), results);
    if (mounts === "host") {
      assert.doesNotMatch(await git(workspace, "--git-dir", remote, "branch", "--list"), /pushed/);
      await assert.rejects(Deno.stat(join(workspace, "before-push.txt")), Deno.errors.NotFound);
    }

    const init = mcp.requests.find((q) => q.server === "sentry" && q.method === "initialize");
    assert.equal(init?.headers.get("authorization"), `Bearer ${TOKEN}`);
    assert.ok(mcp.requests.some((q) => q.server === "sentry" && q.method === "tools/list"));

    assert.notEqual(inspected, "", "the job's container was never seen running");
    assert.ok(inspected.includes("OPENCODE_PERMISSION="), "the permission map is passed");
    if (mounts === "host") assert.ok(inspected.includes("/pylon/mcp.json"), "the file is mounted");
    assert.ok(!inspected.includes(TOKEN), "the MCP token is in docker inspect");
    assert.ok(!JSON.stringify(await jobOf(d, id)).includes(TOKEN), "the token is in the job");
    assert.ok(!log.includes(TOKEN), "the token is in the job's log");
    assert.ok(!d.logs.join("\n").includes(TOKEN), "the token is in the daemon's log");
  } finally {
    await d.stop();
    await proxy?.close();
    await Deno.remove(root, { recursive: true }).catch(() => {});
    await Deno.remove(workspace, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "OpenCode pylon: allowed_tools, a denied git push and an MCP server from pylon.yaml",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => scenario("host"),
});

Deno.test({
  name: "OpenCode pylon with docker.mounts: none: the same, the MCP file over the agent channel",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => scenario("none"),
});

Deno.test({
  name: "OpenCode pylon on docker.backend: swarm: the same, the MCP file as a Swarm secret",
  ignore: SLOW_IGNORE || SWARM_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => scenario("swarm"),
});

Deno.test({
  name:
    "OpenCode pylon: agent.max_turns and max_cost_usd end a job that never stops, failed with why",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "opencode");
    // A model that never stops calling tools: without a cap the job would run to its timeout.
    await using api = startFakeAnthropicApi({
      toolUse: { name: "bash", input: { command: "echo turn", description: "turn" } },
      toolCalls: Infinity,
    });
    const root = await Deno.makeTempDir({ prefix: "pylon-opencode-caps-" });
    const pylon = (name: string, cap: string) =>
      [
        `name: ${name}`,
        `trigger: { type: webhook, path: /${name} }`,
        "agent:",
        "  type: opencode",
        `  image: ${JSON.stringify(image)}`,
        "  provider: anthropic",
        "  auth: api_key",
        "  gateway: false",
        "  network: host",
        '  prompt: "go on forever"',
        `  ${cap}`,
        "  env:",
        ...fakeProviderEnv(api.url),
      ].join("\n") + "\n";
    await writeHome(root, {
      "pylons/turns/.env": "ANTHROPIC_API_KEY=sk-ant-fake\n",
      "pylons/turns/pylon.yaml": pylon("turns", "max_turns: 2"),
      "pylons/spend/.env": "ANTHROPIC_API_KEY=sk-ant-fake\n",
      "pylons/spend/pylon.yaml": pylon("spend", "max_cost_usd: 0.0002"),
    });
    const d = await startDockerDaemon(root);
    try {
      await t.step("max_turns: 2", async () => {
        const job = await finishedJob(d, await postJob(d, "/turns"), 240_000);
        assert.equal(job.status, "failed", JSON.stringify(job));
        assert.equal(job.error, "turn limit of 2 reached after 3 turns");
        assert.ok(Number(job.num_turns) >= 3, JSON.stringify(job));
      });
      await t.step("max_cost_usd: 0.0002", async () => {
        const job = await finishedJob(d, await postJob(d, "/spend"), 240_000);
        assert.equal(job.status, "failed", JSON.stringify(job));
        assert.equal(job.error, "budget of $0.0002 reached after 2 turns");
        assert.ok(Number(job.cost_usd) >= 0.0002, JSON.stringify(job));
      });
    } finally {
      await d.stop();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});

/** The text of the tool_result the CLI sent back after the tool call (the last request). */
function lastToolResult(api: ReturnType<typeof startFakeAnthropicApi>): string {
  const last = api.messageRequests().at(-1)?.body?.messages as { content?: unknown }[] | undefined;
  const content = last?.at(-1)?.content;
  return JSON.stringify(
    Array.isArray(content)
      ? content.find((c) => (c as { type?: string }).type === "tool_result") ?? null
      : null,
  );
}

/**
 * `agent.approve_tools` of an OpenCode pylon through the daemon: the `git push` call (after an
 * `echo` that shows, when it ran, `RAN-42`) waits, the job shows `waiting: tool approval`, and the
 * decision made through the API lets it run or refuses it. `mounts`: with `none` the plugin and its
 * managed config are root's files copied into the container (on `swarm`, Swarm secrets), and the
 * plugin asks over the channel.
 */
async function approvalScenario(t: Deno.TestContext, mounts: "host" | "none" | "swarm") {
  if (mounts === "swarm") requireSwarm();
  using docker = openTestDocker();
  const image = await buildOnDebian(docker, "opencode");
  const command = "echo RAN-$((40+2)) && git push origin HEAD:pushed";
  await using allowApi = startFakeAnthropicApi({
    toolUse: { name: "bash", input: { command, description: "push" } },
  });
  await using denyApi = startFakeAnthropicApi({
    toolUse: { name: "bash", input: { command, description: "push" } },
  });
  const root = await Deno.makeTempDir({ prefix: `pylon-opencode-approve-${mounts}-` });
  const proxy = mounts === "host" ? undefined : startAgentProxy();
  const pylon = (name: string, api: ReturnType<typeof startFakeAnthropicApi>) =>
    [
      `name: ${name}`,
      `trigger: { type: webhook, path: /${name} }`,
      "agent:",
      "  type: opencode",
      `  image: ${JSON.stringify(image)}`,
      "  provider: anthropic",
      "  auth: api_key",
      "  gateway: false",
      "  network: host",
      '  prompt: "push it"',
      "  approve_tools: ['Bash(git push:*)']",
      "  approve_timeout: 5m",
      "  env:",
      ...fakeProviderEnv(api.url),
    ].join("\n") + "\n";
  await writeHome(root, {
    ...(proxy
      ? {
        "config.yaml": `server:\n  agent_url: ${proxy.url}\ndocker:\n  ${
          mounts === "swarm" ? "backend: swarm" : "mounts: none"
        }\n`,
      }
      : {}),
    "pylons/allow/.env": "ANTHROPIC_API_KEY=sk-ant-fake\n",
    "pylons/allow/pylon.yaml": pylon("allow", allowApi),
    "pylons/deny/.env": "ANTHROPIC_API_KEY=sk-ant-fake\n",
    "pylons/deny/pylon.yaml": pylon("deny", denyApi),
  });
  const d = await startDockerDaemon(root, proxy ? { proxy } : {});
  /** Waits for the job's one waiting call, checks the job shows it, and decides it. */
  const decide = async (id: string, action: "allow" | "deny") => {
    const call = await eventually(async () => {
      const calls = await (await d.api(`/api/jobs/${id}/tool-calls`)).json();
      if (Array.isArray(calls) && calls.length === 1) return calls[0];
      const job = await jobOf(d, id);
      if (ENDED.includes(job.status)) throw new Error(`ended unasked: ${JSON.stringify(job)}`);
      return undefined;
    }, 120_000);
    assert.equal(call.tool, "Bash");
    const job = await jobOf(d, id);
    assert.equal(job.status, "running");
    assert.equal(job.waiting, "tool approval");
    const res = await d.api(`/api/jobs/${id}/tool-calls/${call.call_id}/${action}`, {
      method: "POST",
    });
    assert.equal(res.status, 200, await res.clone().text());
    await res.body?.cancel();
  };
  try {
    await t.step("Allow: the call runs", async () => {
      const id = await postJob(d, "/allow");
      await decide(id, "allow");
      const job = await finishedJob(d, id, 240_000);
      assert.equal(job.status, "completed", JSON.stringify(job));
      assert.match(lastToolResult(allowApi), /RAN-42/);
    });
    await t.step("Deny: refused, the model told why", async () => {
      const id = await postJob(d, "/deny");
      await decide(id, "deny");
      const job = await finishedJob(d, id, 240_000);
      assert.equal(job.status, "completed", JSON.stringify(job));
      const result = lastToolResult(denyApi);
      assert.match(result, /denied by/, result);
      assert.doesNotMatch(result, /RAN-42/, result);
    });
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "OpenCode pylon: approve_tools holds a git push until the API allows or denies it",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: (t) => approvalScenario(t, "host"),
});

Deno.test({
  name: "OpenCode pylon with docker.mounts: none: approve_tools over the agent channel",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: (t) => approvalScenario(t, "none"),
});

Deno.test({
  name: "OpenCode pylon on docker.backend: swarm: approve_tools, the plugin a Swarm secret",
  ignore: SLOW_IGNORE || SWARM_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: (t) => approvalScenario(t, "swarm"),
});
