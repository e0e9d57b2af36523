import assert from "node:assert/strict";
import type { AgentSettings } from "../../src/config/mod.ts";
import { claudeArgs, mcpConfigJson, opencodeEnv } from "../../src/runner/agent_args.ts";
import * as opencode from "../../agents/opencode/pylon-opencode.mjs";

const NONE: AgentSettings = {
  model: undefined,
  fallbackModel: undefined,
  maxTurns: undefined,
  maxCostUsd: undefined,
  allowedTools: undefined,
  disallowedTools: [],
  appendSystemPrompt: undefined,
  mcpServers: {},
  args: [],
  approveTools: [],
  approveTimeoutMs: 600_000,
};

Deno.test("claudeArgs() passes nothing when no setting is set", () => {
  assert.deepEqual(claudeArgs(NONE, "/pylon/mcp.json"), []);
});

Deno.test("claudeArgs() maps model, turns, prompt, MCP and extra args onto CLI flags", () => {
  const args = claudeArgs({
    ...NONE,
    model: "claude-sonnet-4-5",
    fallbackModel: "haiku",
    maxTurns: 12,
    disallowedTools: ["Bash(git push:*)", "WebFetch"],
    appendSystemPrompt: "Never push.",
    mcpServers: { sentry: { url: "https://mcp.sentry.dev/mcp" } },
    args: ["--effort", "high"],
  }, "/pylon/mcp.json");
  assert.deepEqual(args, [
    "--model",
    "claude-sonnet-4-5",
    "--fallback-model",
    "haiku",
    "--max-turns",
    "12",
    "--disallowedTools",
    "Bash(git push:*),WebFetch",
    "--append-system-prompt",
    "Never push.",
    "--mcp-config",
    "/pylon/mcp.json",
    "--strict-mcp-config",
    "--effort",
    "high",
  ]);
});

Deno.test("claudeArgs() makes allowed_tools the only tools", async (t) => {
  await t.step("built-in names go to --tools, keeping permissions skipped", () => {
    assert.deepEqual(claudeArgs({ ...NONE, allowedTools: ["Read", "Grep", "Glob"] }), [
      "--tools",
      "Read,Grep,Glob",
      "--allowedTools",
      "Read,Grep,Glob",
    ]);
  });
  await t.step("an empty list leaves no built-in tool", () => {
    assert.deepEqual(claudeArgs({ ...NONE, allowedTools: [] }), ["--tools", ""]);
  });
  await t.step("a rule makes its tool available and permissions dontAsk", () => {
    assert.deepEqual(claudeArgs({ ...NONE, allowedTools: ["Read", "Bash(git log:*)"] }), [
      "--tools",
      "Read,Bash",
      "--allowedTools",
      "Read,Bash(git log:*)",
      "--permission-mode",
      "dontAsk",
    ]);
  });
  await t.step("MCP servers no entry names are denied whole", () => {
    const args = claudeArgs({
      ...NONE,
      allowedTools: ["Read", "mcp__sentry__*"],
      mcpServers: { sentry: { url: "https://s.example/mcp" }, github: { command: "gh-mcp" } },
    }, "/pylon/mcp.json");
    assert.deepEqual(args, [
      "--tools",
      "Read",
      "--allowedTools",
      "Read,mcp__sentry__*",
      "--disallowedTools",
      "mcp__github",
      "--mcp-config",
      "/pylon/mcp.json",
      "--strict-mcp-config",
    ]);
  });
});

Deno.test("claudeArgs() leaves out --mcp-config when the runner wrote no file", () => {
  const args = claudeArgs({ ...NONE, mcpServers: { s: { command: "s" } } });
  assert.ok(!args.includes("--mcp-config"));
});

Deno.test("mcpConfigJson() writes Claude Code's mcpServers map with each server's type", () => {
  const json = JSON.parse(mcpConfigJson({
    docs: { command: "npx", args: ["-y", "docs-mcp"], env: { TOKEN: "t" } },
    sentry: { url: "https://mcp.sentry.dev/mcp", headers: { Authorization: "Bearer x" } },
    legacy: { type: "sse", url: "https://old.example/sse" },
  }));
  assert.deepEqual(json, {
    mcpServers: {
      docs: { type: "stdio", command: "npx", args: ["-y", "docs-mcp"], env: { TOKEN: "t" } },
      sentry: {
        type: "http",
        url: "https://mcp.sentry.dev/mcp",
        headers: { Authorization: "Bearer x" },
      },
      legacy: { type: "sse", url: "https://old.example/sse", headers: {} },
    },
  });
});

Deno.test("claudeArgs() passes agent.max_cost_usd as --max-budget-usd", () => {
  assert.deepEqual(claudeArgs({ ...NONE, maxCostUsd: 0.5, maxTurns: 7 }), [
    "--max-turns",
    "7",
    "--max-budget-usd",
    "0.5",
  ]);
});

Deno.test("opencodeEnv() passes agent.args and append_system_prompt to the OpenCode image", () => {
  assert.deepEqual(opencodeEnv(NONE), {});
  assert.deepEqual(
    opencodeEnv({ ...NONE, args: ["--agent", "plan"], appendSystemPrompt: "Be brief." }),
    { PYLON_AGENT_ARGS: '["--agent","plan"]', PYLON_APPEND_SYSTEM_PROMPT: "Be brief." },
  );
  // The image's config step names the file holding the text in opencode.json's instructions.
  const file = "/pylon/state/opencode/config/opencode/pylon-instructions.md";
  assert.deepEqual(opencode.jobConfig("", {}, file).instructions, [file]);
  assert.equal(opencode.jobConfig("", {}).instructions, undefined);
});
