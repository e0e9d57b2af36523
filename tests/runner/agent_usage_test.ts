// deno-lint-ignore-file camelcase
import assert from "node:assert/strict";
import * as claudeHelper from "../../agents/claude/pylon-claude.mjs";
import * as opencodeHelper from "../../agents/opencode/pylon-opencode.mjs";

// The shape `claude -p --output-format json` prints (Claude Code 2.x), a haiku call included.
const CLAUDE_OUTPUT = {
  type: "result",
  subtype: "success",
  is_error: false,
  duration_ms: 187_432,
  duration_api_ms: 162_118,
  num_turns: 18,
  result: "Fixed the null check in parser.ts.",
  session_id: "0cf0e407-fe55-47fe-bcd1-722c0e761586",
  total_cost_usd: 0.4213757,
  usage: {
    input_tokens: 41,
    cache_creation_input_tokens: 21_876,
    cache_read_input_tokens: 412_553,
    output_tokens: 6_211,
    server_tool_use: { web_search_requests: 0, web_fetch_requests: 0 },
    service_tier: "standard",
  },
  modelUsage: {
    "claude-sonnet-4-5-20250929": {
      inputTokens: 41,
      outputTokens: 6_211,
      cacheReadInputTokens: 412_553,
      cacheCreationInputTokens: 21_876,
      webSearchRequests: 0,
      costUSD: 0.4192,
      contextWindow: 200_000,
    },
    "claude-haiku-4-5-20251001": {
      inputTokens: 1_203,
      outputTokens: 98,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 0,
      webSearchRequests: 0,
      costUSD: 0.0021757,
      contextWindow: 200_000,
    },
  },
  permission_denials: [],
  uuid: "d5f7a3c2-0000-4000-8000-000000000000",
};

Deno.test("claude helper: result.json carries the CLI's cost, tokens, turns and models", () => {
  const { result, exitCode } = claudeHelper.claudeResult({
    stdout: JSON.stringify(CLAUDE_OUTPUT) + "\n",
    stderr: "",
    code: 0,
  });
  assert.equal(exitCode, 0);
  assert.deepEqual(result, {
    status: "completed",
    result: "Fixed the null check in parser.ts.",
    session_id: "0cf0e407-fe55-47fe-bcd1-722c0e761586",
    cost_usd: 0.4213757,
    // Summed over modelUsage: every model the CLI called.
    usage: {
      input_tokens: 1_244,
      output_tokens: 6_309,
      cache_read_input_tokens: 412_553,
      cache_creation_input_tokens: 21_876,
    },
    num_turns: 18,
    duration_api_ms: 162_118,
    models: ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"],
  });
});

Deno.test("claude helper: usage falls back to `usage`, and bad figures are left out", () => {
  const { modelUsage: _, ...noModels } = CLAUDE_OUTPUT;
  const usage = claudeHelper.claudeUsage({ ...noModels, total_cost_usd: "lots", num_turns: -1 });
  assert.deepEqual(usage, {
    usage: {
      input_tokens: 41,
      output_tokens: 6_211,
      cache_read_input_tokens: 412_553,
      cache_creation_input_tokens: 21_876,
    },
    duration_api_ms: 162_118,
  });
  assert.deepEqual(claudeHelper.claudeUsage({ type: "result", result: "x" }), {});
});

Deno.test("claude helper: a failed run still reports what it used", () => {
  const out = { ...CLAUDE_OUTPUT, subtype: "error_max_turns", is_error: true, result: "" };
  const { result, exitCode } = claudeHelper.claudeResult({
    stdout: JSON.stringify(out),
    stderr: "",
    code: 1,
  });
  assert.equal(exitCode, 1);
  assert.equal(result.status, "failed");
  assert.equal(result.cost_usd, 0.4213757);
  assert.equal(result.num_turns, 18);
});

Deno.test("claude helper: a run stopped by its budget fails with the cap and keeps its partial result", () => {
  const out = { ...CLAUDE_OUTPUT, subtype: "error_max_budget_usd", is_error: true, num_turns: 7 };
  const { result, exitCode } = claudeHelper.claudeResult(
    { stdout: JSON.stringify(out), stderr: "", code: 1 },
    ["--max-turns", "30", "--max-budget-usd", "0.5"],
  );
  assert.equal(exitCode, 1);
  assert.equal(result.status, "failed");
  assert.equal(result.error, "budget of $0.50 reached after 7 turns");
  assert.equal(result.result, "Fixed the null check in parser.ts.");
  assert.equal(result.cost_usd, 0.4213757);
});

Deno.test("claude helper: a run stopped by max turns names the limit", () => {
  const out = { ...CLAUDE_OUTPUT, subtype: "error_max_turns", is_error: false, num_turns: 3 };
  const { result } = claudeHelper.claudeResult(
    { stdout: JSON.stringify(out), stderr: "", code: 0 },
    ["--max-turns", "3"],
  );
  assert.equal(result.status, "failed");
  assert.equal(result.error, "turn limit of 3 reached after 3 turns");
});

Deno.test("opencode helper: step_finish events sum to result.json's cost and usage", () => {
  const sid = "ses_1";
  const c = new opencodeHelper.EventCollector();
  const step = (cost: number, input: number, output: number, reasoning: number, read: number) =>
    JSON.stringify({
      type: "step_finish",
      sessionID: sid,
      part: {
        type: "step-finish",
        reason: "tool-calls",
        cost,
        tokens: { input, output, reasoning, cache: { read, write: 7 } },
      },
    });
  c.add(step(0.01, 100, 20, 5, 0));
  c.add(JSON.stringify({ type: "text", sessionID: sid, part: { messageID: "m2", text: "ok" } }));
  c.add(step(0.02, 50, 10, 0, 90));
  assert.deepEqual(c.finish({ code: 0, stderr: "" }).result, {
    status: "completed",
    result: "ok",
    session_id: sid,
    cost_usd: 0.03,
    usage: {
      input_tokens: 150,
      output_tokens: 35,
      cache_read_input_tokens: 90,
      cache_creation_input_tokens: 14,
    },
    num_turns: 2,
  });
});
