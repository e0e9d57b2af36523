import assert from "node:assert/strict";
import {
  globalConfigSchema,
  pylonConfigSchema,
  resolvePylon,
  unsupportedSettingsNote,
} from "../../src/config/mod.ts";

function resolve(agent: Record<string, unknown>, defaults: Record<string, unknown> = {}) {
  const config = pylonConfigSchema.parse({
    name: "sentry",
    trigger: { type: "webhook", path: "/sentry" },
    agent: { prompt: "p", ...agent },
  });
  const global = globalConfigSchema.parse({ defaults: { agent: defaults } });
  return resolvePylon(config, global, { env: {}, systemTimezone: "UTC" });
}

Deno.test("resolvePylon() takes agent settings from the pylon over defaults.agent.<type>", () => {
  const pylon = resolve(
    {
      model: "claude-sonnet-4-5",
      allowed_tools: ["Read", "Grep"],
      mcp_servers: { sentry: { url: "https://mcp.sentry.dev/mcp" } },
    },
    {
      claude: {
        model: "claude-haiku-4-5",
        fallback_model: "sonnet",
        max_turns: 30,
        disallowed_tools: ["Bash(git push:*)"],
        mcp_servers: { docs: { command: "npx", args: ["-y", "docs-mcp"] } },
        args: ["--verbose"],
      },
    },
  );
  const s = pylon.agent.settings;
  assert.equal(s.model, "claude-sonnet-4-5");
  assert.equal(s.fallbackModel, "sonnet");
  assert.equal(s.maxTurns, 30);
  assert.deepEqual(s.allowedTools, ["Read", "Grep"]);
  assert.deepEqual(s.disallowedTools, ["Bash(git push:*)"]);
  assert.deepEqual(Object.keys(s.mcpServers), ["docs", "sentry"]);
  assert.deepEqual(s.args, ["--verbose"]);
  assert.deepEqual(pylon.agent.unsupported, []);
});

Deno.test("resolvePylon() keeps unset agent settings empty and allowed_tools: [] as no tools", () => {
  const none = resolve({}).agent.settings;
  assert.equal(none.allowedTools, undefined);
  assert.deepEqual(none.disallowedTools, []);
  assert.deepEqual(none.mcpServers, {});
  assert.deepEqual(none.args, []);
  assert.deepEqual(resolve({ allowed_tools: [] }).agent.settings.allowedTools, []);
});

Deno.test("resolvePylon() redacts MCP servers' env and header values", () => {
  const pylon = resolve({
    mcp_servers: {
      sentry: { url: "https://mcp.sentry.dev/mcp", headers: { Authorization: "Bearer sntrys_x1" } },
      gh: { command: "gh-mcp", env: { GITHUB_TOKEN: "ghp_secret_1" } },
    },
  });
  assert.ok(pylon.secrets.includes("Bearer sntrys_x1"));
  assert.ok(pylon.secrets.includes("ghp_secret_1"));
});

Deno.test("resolvePylon() lists the settings OpenCode and custom images ignore", () => {
  const opencode = resolve({
    type: "opencode",
    model: "anthropic/claude-sonnet-4-5",
    max_turns: 5,
    max_cost_usd: 1,
    fallback_model: "anthropic/claude-haiku-4-5",
    append_system_prompt: "be brief",
    args: ["--agent", "plan"],
    disallowed_tools: ["Bash(git push:*)", "Read(./.env)"],
    allowed_tools: ["Read", "Bash", "NotebookEdit", "mcp__sentry__*"],
    mcp_servers: { sentry: { url: "https://mcp.sentry.dev/mcp" } },
    approve_tools: ["Bash(git push:*)"],
    approve_timeout: "5m",
  });
  // OpenCode takes model, max_turns, max_cost_usd, append_system_prompt, args, mcp_servers,
  // approve_tools (tests/integration/tool_approval_claude_test.ts) and the tool rules it can
  // express (tests/integration/images_opencode_test.ts): exactly the others are named.
  assert.deepEqual(opencode.agent.unsupported, [
    "fallback_model",
    "allowed_tools: NotebookEdit",
    "disallowed_tools: Read(./.env)",
  ]);
  assert.equal(opencode.agent.settings.model, "anthropic/claude-sonnet-4-5");
  const fromDefaults = resolve({ type: "opencode" }, {
    opencode: { model: "openai/gpt-5", max_turns: 7, max_cost_usd: 0.5 },
  });
  assert.equal(fromDefaults.agent.settings.model, "openai/gpt-5");
  // Every setting OpenCode takes may be a default for all OpenCode pylons.
  assert.equal(fromDefaults.agent.settings.maxTurns, 7);
  assert.equal(fromDefaults.agent.settings.maxCostUsd, 0.5);
  assert.deepEqual(fromDefaults.agent.unsupported, []);
  // Claude's defaults never reach another agent type.
  assert.deepEqual(
    resolve({ type: "opencode" }, { claude: { fallback_model: "sonnet" } }).agent.unsupported,
    [],
  );
  const custom = resolve({
    type: "custom",
    image: "acme/agent",
    model: "x",
    allowed_tools: ["Read"],
    mcp_servers: { s: { command: "s" } },
  });
  assert.deepEqual(custom.agent.unsupported, ["model", "allowed_tools", "mcp_servers"]);
  assert.equal(
    unsupportedSettingsNote("opencode", ["fallback_model", "disallowed_tools: Read(./.env)"]),
    "agent.fallback_model, agent.disallowed_tools entry Read(./.env) are not supported by " +
      "OpenCode and will be ignored (only Claude Code honours them; OpenCode takes model, " +
      "max_turns, max_cost_usd, append_system_prompt, args, mcp_servers, and the tool names and " +
      "Bash command rules of " +
      "allowed_tools and disallowed_tools)",
  );
  assert.equal(unsupportedSettingsNote("claude", []), null);
});

Deno.test("pylonConfigSchema rejects malformed agent settings", async (t) => {
  const bad = (agent: Record<string, unknown>) =>
    pylonConfigSchema.safeParse({ name: "x", trigger: { type: "cron", cron: "* * * * *" }, agent });
  await t.step("an MCP server with neither command nor url", () => {
    const r = bad({ mcp_servers: { s: { args: ["x"] } } });
    assert.ok(!r.success);
    assert.match(r.error.issues[0]!.message, /names no command/);
  });
  await t.step("an http server without a url", () => {
    assert.ok(!bad({ mcp_servers: { s: { type: "http" } } }).success);
  });
  await t.step("an unknown MCP server key", () => {
    assert.ok(!bad({ mcp_servers: { s: { command: "x", cwd: "/" } } }).success);
  });
  await t.step("max_turns: 0 and an empty tool name", () => {
    assert.ok(!bad({ max_turns: 0 }).success);
    assert.ok(!bad({ allowed_tools: [" "] }).success);
  });
  await t.step("an MCP server name Claude Code cannot use in tool names", () => {
    assert.ok(!bad({ mcp_servers: { "my server": { command: "x" } } }).success);
  });
});

Deno.test("pylonConfigSchema takes network: none alone, and gateway: true on a bridge", () => {
  const parse = (agent: Record<string, unknown>) =>
    pylonConfigSchema.safeParse({ name: "x", trigger: { type: "cron", cron: "* * * * *" }, agent })
      .success;
  assert.equal(parse({ network: "none" }), true);
  assert.equal(parse({ network: "bridge", gateway: true }), true);
  assert.equal(parse({ network: "none", gateway: false }), true);
  assert.equal(parse({ network: "none", gateway: true }), false);
});
