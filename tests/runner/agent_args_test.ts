import assert from "node:assert/strict";
import type { AgentSettings } from "../../src/config/mod.ts";
import {
  claudeArgs,
  mcpConfigJson,
  mcpConfigText,
  opencodeEnv,
} from "../../src/runner/agent_args.ts";
import * as opencode from "../../agents/opencode/pylon-opencode.mjs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

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

Deno.test("agent.max_turns reaches the OpenCode image and caps the run", async (t) => {
  await t.step("opencodeEnv() passes it as PYLON_MAX_TURNS", () => {
    assert.deepEqual(opencodeEnv({ ...NONE, maxTurns: 4 }), { PYLON_MAX_TURNS: "4" });
  });
  await t.step("the job's opencode.json: build's steps one past it, the plugin", () => {
    const plugin = "/pylon/state/opencode/config/opencode/pylon-turn-limit.mjs";
    const config = opencode.jobConfig("", { PYLON_MAX_TURNS: "4" }, undefined, plugin);
    assert.deepEqual(config.agent, { build: { steps: 5 } });
    assert.deepEqual(config.plugin, [`file://${plugin}`]);
    const unset = opencode.jobConfig("", {}, undefined, plugin);
    assert.equal(unset.agent, undefined);
    assert.equal(unset.plugin, undefined);
    assert.equal(opencode.maxTurnsOf({ PYLON_MAX_TURNS: "0" }), undefined);
    assert.equal(opencode.maxTurnsOf({ PYLON_MAX_TURNS: "x" }), undefined);
  });
  await t.step(
    "the plugin refuses tool calls of a turn past the limit, before they run",
    async () => {
      // The written module's source, imported as OpenCode imports it.
      const dir = await Deno.makeTempDir();
      try {
        const file = join(dir, "pylon-turn-limit.mjs");
        await Deno.writeTextFile(file, opencode.turnLimitPluginSource(2));
        const mod = await import(pathToFileURL(file).href);
        // OpenCode calls every export as a plugin: there is one.
        assert.deepEqual(Object.keys(mod), ["PylonTurnLimit"]);
        const hooks = await mod.PylonTurnLimit({});
        const turn = (agent: string, sessionID = "ses_a") =>
          hooks["chat.params"]({ sessionID, agent: { name: agent } }, {});
        const call = (sessionID = "ses_a") =>
          hooks["tool.execute.before"]({ tool: "bash", sessionID, callID: "c" }, { args: {} });
        await turn("title"); // OpenCode's title request is no turn
        await turn("build");
        await call();
        await turn("build");
        await call();
        await turn("build");
        await assert.rejects(call(), /turn limit of 2 \(agent\.max_turns\) is reached/);
        await turn("build", "ses_b"); // each session counts its own turns
        await call("ses_b");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
  await t.step("the helper fails a run that went past it, keeping the answer", () => {
    const c = new opencode.EventCollector({ maxTurns: 2 });
    const step = (reason: string) =>
      JSON.stringify({
        type: "step_finish",
        sessionID: "ses_a",
        part: { reason, tokens: { input: 1, output: 1 }, cost: 0 },
      });
    c.add(step("tool-calls"));
    c.add(step("tool-calls"));
    assert.equal(c.capped(), false);
    c.add(JSON.stringify({ type: "text", sessionID: "ses_a", part: { text: "partial" } }));
    c.add(step("stop"));
    assert.equal(c.capped(), true);
    assert.equal(c.overLimit(), false, "an answer in the wrap-up turn ends the run by itself");
    const { result, exitCode } = c.finish({ code: 0, signal: null });
    assert.equal(result.status, "failed");
    assert.equal(result.error, "turn limit of 2 reached after 3 turns");
    assert.equal(result.result, "partial");
    assert.notEqual(exitCode, 0);
    const looping = new opencode.EventCollector({ maxTurns: 1 });
    looping.add(step("tool-calls"));
    assert.equal(looping.overLimit(), false);
    looping.add(step("tool-calls"));
    assert.equal(looping.overLimit(), true, "tools again past the limit: the CLI is stopped");
    const unlimited = new opencode.EventCollector();
    for (let i = 0; i < 5; i++) unlimited.add(step("tool-calls"));
    assert.equal(unlimited.finish({ code: 0, signal: null }).result.status, "completed");
  });
});

Deno.test("agent.max_cost_usd stops an OpenCode run once its cost reaches the cap", async (t) => {
  await t.step("opencodeEnv() passes it as PYLON_MAX_COST_USD", () => {
    assert.deepEqual(opencodeEnv({ ...NONE, maxCostUsd: 0.5 }), { PYLON_MAX_COST_USD: "0.5" });
    assert.equal(opencode.maxCostOf({ PYLON_MAX_COST_USD: "0" }), undefined);
    assert.equal(opencode.maxCostOf({ PYLON_MAX_COST_USD: "0.25" }), 0.25);
  });
  const step = (reason: string, cost: number) =>
    JSON.stringify({
      type: "step_finish",
      sessionID: "ses_a",
      part: { reason, cost, tokens: { input: 1, output: 1 } },
    });
  await t.step("the helper stops once, after the turn that reaches the cap", () => {
    const c = new opencode.EventCollector({ maxCostUsd: 0.5 });
    c.add(step("tool-calls", 0.3));
    assert.equal(c.shouldStop(), false);
    c.add(step("tool-calls", 0.3));
    assert.equal(c.shouldStop(), true);
    assert.equal(c.shouldStop(), false, "asked once");
    c.add(step("tool-calls", 0.3)); // reported while the CLI was stopping: not counted
    const { result, exitCode } = c.finish({ code: null, signal: "SIGTERM" });
    assert.equal(result.status, "failed");
    assert.equal(result.error, "budget of $0.50 reached after 2 turns");
    assert.notEqual(exitCode, 0);
  });
  await t.step("a run that ends in the turn that reaches the cap is not stopped", () => {
    const c = new opencode.EventCollector({ maxCostUsd: 0.5 });
    c.add(step("tool-calls", 0.3));
    c.add(JSON.stringify({ type: "text", sessionID: "ses_a", part: { text: "done" } }));
    c.add(step("stop", 0.3));
    assert.equal(c.shouldStop(), false);
    assert.equal(c.finish({ code: 0, signal: null }).result.status, "completed");
  });
  await t.step("the turn limit stops the CLI too, and the budget says why first", () => {
    const c = new opencode.EventCollector({ maxTurns: 1, maxCostUsd: 0.5 });
    c.add(step("tool-calls", 0.1));
    c.add(step("tool-calls", 0.1));
    assert.equal(c.shouldStop(), true);
    assert.equal(c.stopped, "turns");
    const both = new opencode.EventCollector({ maxTurns: 1, maxCostUsd: 0.1 });
    both.add(step("tool-calls", 0.05));
    both.add(step("tool-calls", 0.05));
    assert.equal(both.shouldStop(), true);
    assert.equal(both.stopped, "budget");
  });
});

Deno.test("opencodeEnv() makes allowed_tools OpenCode's only tools, by OpenCode's names", async (t) => {
  const permission = (settings: Partial<AgentSettings>) => {
    const text = opencodeEnv({ ...NONE, ...settings }).OPENCODE_PERMISSION;
    return text === undefined ? undefined : JSON.parse(text);
  };
  await t.step("no tool setting: no permission layer", () => {
    assert.equal(permission({}), undefined);
  });
  await t.step("every built-in denied by name, the listed ones allowed", () => {
    assert.deepEqual(permission({ allowedTools: ["Read", "Grep", "WebFetch", "TodoWrite"] }), {
      "*": "deny",
      read: "allow",
      edit: "deny",
      bash: "deny",
      grep: "allow",
      glob: "deny",
      list: "deny",
      webfetch: "allow",
      websearch: "deny",
      codesearch: "deny",
      todowrite: "allow",
      task: "deny",
      skill: "deny",
      lsp: "deny",
      "external_directory": "ask",
      "doom_loop": "ask",
    });
  });
  await t.step("Write and Edit are OpenCode's one edit permission", () => {
    assert.equal(permission({ allowedTools: ["Write"] }).edit, "allow");
    assert.equal(permission({ allowedTools: ["Edit"] }).edit, "allow");
    assert.equal(permission({ allowedTools: ["Read"] }).edit, "deny");
  });
  await t.step("a Bash rule allows those commands only", () => {
    assert.deepEqual(permission({ allowedTools: ["Bash(git log:*)", "Bash(git diff)"] }).bash, {
      "*": "deny",
      "git log*": "allow",
      "git diff": "allow",
    });
  });
  await t.step("MCP tools by OpenCode's <server>_<tool> names", () => {
    const p = permission({
      allowedTools: ["mcp__sentry__*", "mcp__github__get_issue", "mcp__docs"],
    });
    assert.equal(p["sentry_*"], "allow");
    assert.equal(p.github_get_issue, "allow");
    assert.equal(p["docs_*"], "allow");
    assert.equal(p["*"], "deny");
  });
});

Deno.test("opencodeEnv() maps disallowed_tools onto OpenCode permission deny rules", async (t) => {
  const permission = (settings: Partial<AgentSettings>) =>
    JSON.parse(opencodeEnv({ ...NONE, ...settings }).OPENCODE_PERMISSION!);
  await t.step("a command rule denies that command, the others run as before", () => {
    assert.deepEqual(permission({ disallowedTools: ["Bash(git push:*)", "Bash(rm -rf /)"] }), {
      bash: { "*": "allow", "git push*": "deny", "rm -rf /": "deny" },
    });
  });
  await t.step("whole tools and MCP tools", () => {
    assert.deepEqual(
      permission({ disallowedTools: ["WebFetch", "mcp__github__delete_repo", "mcp__slack"] }),
      { webfetch: "deny", github_delete_repo: "deny", "slack_*": "deny" },
    );
  });
  await t.step("deny rules come after the allowed commands (OpenCode takes the last match)", () => {
    const p = permission({ allowedTools: ["Bash(git:*)"], disallowedTools: ["Bash(git push:*)"] });
    assert.deepEqual(Object.entries(p.bash), [["*", "deny"], ["git*", "allow"], [
      "git push*",
      "deny",
    ]]);
  });
  await t.step("a denied tool stays denied whatever else is allowed", () => {
    const p = permission({ allowedTools: ["Bash"], disallowedTools: ["Bash"] });
    assert.equal(p.bash, "deny");
  });
  await t.step("a rule OpenCode cannot express is left out of the map", () => {
    assert.deepEqual(permission({ disallowedTools: ["Read(./.env)", "Bash(git push:*)"] }), {
      bash: { "*": "allow", "git push*": "deny" },
    });
  });
});

Deno.test("mcpConfigText() writes each agent's own MCP config shape", () => {
  const servers = {
    docs: { command: "npx", args: ["-y", "docs-mcp"], env: { TOKEN: "t" } },
    sentry: { url: "https://mcp.sentry.dev/mcp", headers: { Authorization: "Bearer x" } },
    legacy: { type: "sse" as const, url: "https://old.example/sse" },
  };
  assert.equal(mcpConfigText("claude", servers), mcpConfigJson(servers));
  assert.deepEqual(JSON.parse(mcpConfigText("opencode", servers)!), {
    mcp: {
      docs: {
        type: "local",
        command: ["npx", "-y", "docs-mcp"],
        environment: { TOKEN: "t" },
        enabled: true,
      },
      sentry: {
        type: "remote",
        url: "https://mcp.sentry.dev/mcp",
        headers: { Authorization: "Bearer x" },
        enabled: true,
      },
      legacy: { type: "remote", url: "https://old.example/sse", headers: {}, enabled: true },
    },
  });
  assert.equal(mcpConfigText("opencode", {}), undefined);
  assert.equal(mcpConfigText("custom", servers), undefined);
  // The servers never travel in the environment.
  assert.deepEqual(opencodeEnv({ ...NONE, mcpServers: servers }), {});
});

Deno.test("the OpenCode image hands the MCP file to opencode run in OPENCODE_CONFIG_CONTENT", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/mcp.json`;
    assert.deepEqual(opencode.cliEnv({ A: "1" }, file), { A: "1" }, "no file: env unchanged");
    await Deno.writeTextFile(
      file,
      mcpConfigText("opencode", { s: { url: "https://s.example/mcp", headers: { X: "tok" } } })!,
    );
    const env = opencode.cliEnv({
      A: "1",
      OPENCODE_CONFIG_CONTENT: JSON.stringify({ provider: { p: {} }, mcp: { mine: { x: 1 } } }),
    }, file);
    assert.equal(env.A, "1");
    assert.deepEqual(JSON.parse(env.OPENCODE_CONFIG_CONTENT!), {
      provider: { p: {} },
      mcp: {
        mine: { x: 1 },
        s: { type: "remote", url: "https://s.example/mcp", headers: { X: "tok" }, enabled: true },
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
