/**
 * Shared pieces of the end-to-end tests: the real Docker runner for a test home, and a scripted
 * test agent (the busybox image running a shell script) as pylon.yaml lines.
 */

import { createPylonPaths } from "../../src/config/mod.ts";
import type { DaemonOptions } from "../../src/daemon/mod.ts";
import { createDockerRunner } from "../../src/runner/mod.ts";
import assert from "node:assert/strict";
import { costOf } from "../../src/gateway/mod.ts";
import { FAKE_USAGE, type FakeAnthropicApi } from "../fakes/anthropic_api.ts";

/**
 * `createRunner` for a daemon on `root`, with the agents' output collected in `output`; `env` is
 * the runner's environment (default `{ HOME: root }`; `DOCKER_HOST` there picks the Engine).
 */
export function dockerRunnerFor(
  root: string,
  output: string[] = [],
  options: { env?: Record<string, string> } = {},
): NonNullable<DaemonOptions["createRunner"]> {
  return (config) =>
    createDockerRunner(config, {
      paths: createPylonPaths(root),
      env: options.env ?? { HOME: root },
      output: (line) => output.push(line),
      clock: { now: () => new Date() },
    });
}

/**
 * An agent that counts its runs in its kept state folder and answers with the prompt it got
 * (letters only), e.g. `**run 2** (prompt: also check the tests)`, session `sess-2`.
 */
export function countingAgentYaml(image: string, extraResult = ""): string[] {
  const script = 'n=$(cat "$HOME/n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$HOME/n"; ' +
    "p=$(printf '%s' \"$PROMPT\" | tr -dc 'A-Za-z ' | cut -c1-40); " +
    `printf '{"status":"completed","result":"**run %s** (prompt: %s)${extraResult}","session_id":"sess-%s"}' ` +
    '"$n" "$p" "$n" > "$PYLON_OUT/result.json"';
  return [
    "  type: custom",
    `  image: ${JSON.stringify(image)}`,
    '  command: ["sh", "-c", "eval \\"$SCRIPT\\""]',
    "  env:",
    `    SCRIPT: ${JSON.stringify(script)}`,
  ];
}

/**
 * Shell lines that look for a key everywhere in a container (every file, every process's
 * `environ`, `env`) and print the counts and the `ANTHROPIC_` variables the agent got. The key
 * comes in two halves the lines join, so no transcript holds it whole.
 */
export function keyHuntLines(keyA: string, keyB: string): string[] {
  return [
    `K="${keyA}"; K="$K${keyB}"`,
    'echo "files: $(grep -rlsF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev "$K" / | wc -l)"',
    "echo \"environ: $(for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < \"$f\"; done 2>/dev/null | " +
    'grep -cF "$K")"',
    'echo "env: $(env | grep -cF "$K")"',
    'echo "base: $ANTHROPIC_BASE_URL"',
    'echo "key-length: ${#ANTHROPIC_API_KEY}"',
  ];
}

/** The text of the last tool_result a CLI sent to the fake Messages API `api` ("" if none). */
export function lastToolResult(api: FakeAnthropicApi): string {
  for (const q of [...api.messageRequests()].reverse()) {
    const messages = q.body?.messages as { content?: unknown }[] | undefined;
    const content = messages?.at(-1)?.content;
    if (!Array.isArray(content)) continue;
    const result = content.find((c) => (c as { type?: string }).type === "tool_result");
    if (result) return JSON.stringify((result as { content?: unknown }).content ?? null);
  }
  return "";
}

/** A job's usage (as `GET /api/jobs/:id` shows it) after `calls` answers of the fake Messages API. */
export function fakeUsageOf(calls: number): Record<string, number> {
  return {
    "input_tokens": FAKE_USAGE.input_tokens * calls,
    "output_tokens": FAKE_USAGE.output_tokens * calls,
    "cache_read_input_tokens": FAKE_USAGE.cache_read_input_tokens * calls,
    "cache_creation_input_tokens": FAKE_USAGE.cache_creation_input_tokens * calls,
    "total_tokens": (FAKE_USAGE.input_tokens + FAKE_USAGE.output_tokens +
      FAKE_USAGE.cache_read_input_tokens + FAKE_USAGE.cache_creation_input_tokens) * calls,
  };
}

/**
 * Asserts the job's tokens are exactly what the fake Messages API `api` reported on each of its
 * requests, and its cost is that usage at the price of the model each request named.
 */
export function assertCostIsFakeUsage(
  job: { usage?: unknown; "cost_usd": number; "cost_basis"?: string },
  api: FakeAnthropicApi,
): void {
  assert.deepEqual(job.usage, fakeUsageOf(api.messageRequests().length));
  const expected = api.messageRequests().reduce(
    (sum, q) =>
      sum + costOf(String(q.body?.model), {
        inputTokens: FAKE_USAGE.input_tokens,
        outputTokens: FAKE_USAGE.output_tokens,
        cacheReadTokens: FAKE_USAGE.cache_read_input_tokens,
        cacheCreationTokens: FAKE_USAGE.cache_creation_input_tokens,
      })!,
    0,
  );
  assert.ok(Math.abs(job.cost_usd - expected) < 1e-6, `${job.cost_usd} vs ${expected}`);
  assert.equal(job.cost_basis, "api");
}
