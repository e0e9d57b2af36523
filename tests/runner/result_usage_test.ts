import assert from "node:assert/strict";
import { join } from "node:path";
import { COST_MAX_USD, readResultFile, usageOf } from "../../src/runner/result.ts";

Deno.test("usageOf() reads result.json's cost and usage fields", () => {
  assert.deepEqual(
    usageOf({
      cost_usd: 0.4213,
      usage: {
        input_tokens: 10,
        output_tokens: 5,
        cache_read_input_tokens: 300,
        cache_creation_input_tokens: 40,
      },
      num_turns: 18,
      duration_api_ms: 65_000,
      models: ["claude-sonnet-4-5", "claude-sonnet-4-5", "claude-haiku-4-5"],
    }),
    {
      costUsd: 0.4213,
      costBasis: null,
      inputTokens: 10,
      outputTokens: 5,
      cacheReadTokens: 300,
      cacheCreationTokens: 40,
      numTurns: 18,
      durationApiMs: 65_000,
      models: ["claude-sonnet-4-5", "claude-haiku-4-5"],
    },
  );
  assert.equal(usageOf({ status: "completed", result: "hi" }), null);
});

Deno.test("usageOf() refuses garbage, negative, fractional and huge figures one by one", () => {
  const usage = usageOf({
    cost_usd: COST_MAX_USD * 10,
    usage: {
      input_tokens: "10",
      output_tokens: -5,
      cache_read_input_tokens: 1.5,
      cache_creation_input_tokens: 1e300,
    },
    num_turns: Number.NaN,
    duration_api_ms: 7,
    models: ["ok", 3, "", "x".repeat(500), "bad\nname", ...Array(40).fill("m")],
  });
  assert.deepEqual(usage, {
    costUsd: null,
    costBasis: null,
    inputTokens: null,
    outputTokens: null,
    cacheReadTokens: null,
    cacheCreationTokens: null,
    numTurns: null,
    durationApiMs: 7,
    models: ["ok", "m"],
  });
  assert.equal(usageOf({ cost_usd: "1", usage: [1, 2], num_turns: {} }), null);
  assert.equal(usageOf({ cost_usd: Infinity }), null);
});

Deno.test("readResultFile() passes the usage on with the outcome", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pylon-result-" });
  try {
    await Deno.writeTextFile(
      join(dir, "result.json"),
      JSON.stringify({
        status: "completed",
        result: "done",
        cost_usd: 0.5,
        usage: { input_tokens: 3, output_tokens: 4 },
        num_turns: 2,
      }),
    );
    const outcome = await readResultFile(dir);
    assert.equal(outcome?.status, "completed");
    assert.equal(outcome?.usage?.costUsd, 0.5);
    assert.equal(outcome?.usage?.inputTokens, 3);
    assert.equal(outcome?.usage?.cacheReadTokens, null);
    assert.equal(outcome?.usage?.numTurns, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
