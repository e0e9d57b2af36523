/**
 * OpenCode's usage, read from a recorded real run: `opencode run --format json` of OpenCode
 * 1.18.33 (the version pylon's image installs), against the fake Messages API, one tool call
 * then the answer (tests/fixtures/opencode/run_1.18.33.ndjson, recorded with the agent image).
 *
 * The field names pylon's helper reads were checked against OpenCode's own schema in that
 * release: each `step_finish` event carries the session id and a `step-finish` part with `cost`
 * and `tokens: {total?, input, output, reasoning, cache: {read, write}}`, where `input` is the
 * uncached input (OpenCode subtracts the cache reads and writes) and `output` excludes the
 * reasoning tokens (so pylon adds them back). The fake reports 10 input, 5 output, 7 cache-read
 * and 3 cache-write tokens per answer; the session made two model calls (the title OpenCode asks
 * a small model for is not part of the session's steps, so OpenCode does not count it either).
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as opencodeHelper from "../../agents/opencode/pylon-opencode.mjs";
import { usageOf } from "../../src/runner/result.ts";
import { FAKE_USAGE } from "../fakes/anthropic_api.ts";

const SAMPLE = new URL("../fixtures/opencode/run_1.18.33.ndjson", import.meta.url);

Deno.test("opencode helper: a recorded real run's step_finish events give the job's usage", async () => {
  const c = new opencodeHelper.EventCollector();
  const text = await Deno.readTextFile(fileURLToPath(SAMPLE));
  const tools = text.trim().split("\n").map((line) => c.add(line)).filter((e) => e !== null);
  assert.deepEqual(tools, [{ tool: "bash", summary: "echo hi > f.txt" }]);
  const { result, exitCode } = c.finish({ code: 0, stderr: "" });
  assert.equal(exitCode, 0);
  const steps = 2;
  assert.deepEqual(result, {
    status: "completed",
    result: "Hello from the fake Messages API",
    session_id: "ses_db7d17f66ffeV6Zvz2bcoKQf2A",
    // OpenCode's own price for claude-sonnet-4-6 ($3/$15/$0.30/$3.75 per Mtok), per step.
    cost_usd: 0.00011835 * steps,
    usage: {
      input_tokens: FAKE_USAGE.input_tokens * steps,
      output_tokens: FAKE_USAGE.output_tokens * steps,
      cache_read_input_tokens: FAKE_USAGE.cache_read_input_tokens * steps,
      cache_creation_input_tokens: FAKE_USAGE.cache_creation_input_tokens * steps,
    },
    num_turns: steps,
  });
  // What the runner stores from it.
  const usage = usageOf(result as Record<string, unknown>);
  assert.equal(usage?.inputTokens, 20);
  assert.equal(usage?.outputTokens, 10);
  assert.equal(usage?.cacheReadTokens, 14);
  assert.equal(usage?.cacheCreationTokens, 6);
  assert.equal(usage?.numTurns, 2);
  assert.equal(usage?.costUsd, 0.000237);
});

Deno.test("opencode helper: reasoning tokens, reported apart from output, are counted as output", () => {
  const c = new opencodeHelper.EventCollector();
  c.add(JSON.stringify({
    type: "step_finish",
    sessionID: "ses_r",
    part: {
      type: "step-finish",
      reason: "stop",
      cost: 0.001,
      tokens: { total: 160, input: 100, output: 40, reasoning: 20, cache: { read: 0, write: 0 } },
    },
  }));
  const { result } = c.finish({ code: 0, stderr: "" });
  assert.equal((result.usage as Record<string, number>).output_tokens, 60);
});
