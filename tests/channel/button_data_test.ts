/**
 * The data behind pylon's buttons: Telegram's `callback_data` (at most 64 bytes) and Slack's
 * `action_id`, encoded compactly and parsed strictly (a forged or mangled press is no action);
 * and the tool-approval text, where a hostile tool name or rule cannot break out of its code span.
 */

import assert from "node:assert/strict";
import { buttonData, parseButtonData } from "../../src/channel/telegram/inbound.ts";
import { keyboardOf } from "../../src/channel/telegram/outbound.ts";
import { parseActionId } from "../../src/channel/slack/events.ts";
import { codeSpan } from "../../src/notify/tool_messages.ts";

const JOB = "0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b";

Deno.test("Telegram button data round-trips every action within 64 bytes", () => {
  const cases = [
    { action: "investigate", jobId: JOB },
    { action: "ignore", jobId: JOB },
    { action: "run_anyway", jobId: JOB },
    { action: "tool_allow", jobId: JOB, callId: "abcdefgh12345678" },
    { action: "tool_deny", jobId: JOB, callId: "c1" },
    { action: "tool_allow_job", jobId: JOB, callId: "z9" },
  ] as const;
  for (const c of cases) {
    const data = buttonData(c.action, c.jobId, "callId" in c ? c.callId : undefined);
    assert.ok(new TextEncoder().encode(data).length <= 64, `${data} fits`);
    assert.deepEqual(parseButtonData(data), c);
  }
  assert.equal(buttonData("tool_allow", JOB, "abcdefgh12345678").length, 52);
});

Deno.test("Telegram button data is parsed strictly", () => {
  const hex = JOB.replaceAll("-", "");
  for (
    const forged of [
      `ta:${hex}:`, // no call
      `ta:${hex}:ABC`, // upper case
      `ta:${hex}:abcdefgh123456789`, // 17 characters
      `ta:${hex.slice(1)}:c1`, // short job
      `ta:${hex}x:c1`,
      `tx:${hex}:c1`, // unknown tag
      `ta:${hex}:c1:extra`,
      "run:not-a-uuid",
      `run:${JOB}x`,
      "",
    ]
  ) {
    assert.equal(parseButtonData(forged), undefined, forged);
  }
  assert.throws(() => buttonData("tool_allow", "job-1", "c1"), RangeError);
  assert.throws(() => buttonData("tool_allow", JOB, "Bad Id"), RangeError);
});

Deno.test("Telegram keyboards: Run anyway alone; tool decisions in two rows", () => {
  assert.deepEqual(keyboardOf({ runAnyway: { jobId: JOB } }), {
    inline_keyboard: [[{ text: "Run anyway", callback_data: `run:${JOB}` }]],
  });
  const tool = keyboardOf({ tool: { jobId: JOB, callId: "c1" } })!;
  assert.deepEqual(tool.inline_keyboard.map((row) => row.map((b) => b.text)), [
    ["Allow", "Deny"],
    ["Allow for this job"],
  ]);
  assert.equal(keyboardOf({}), undefined);
});

Deno.test("Slack action ids are parsed strictly", () => {
  assert.deepEqual(parseActionId(`tool_deny:${JOB}:c1`), {
    action: "tool_deny",
    jobId: JOB,
    callId: "c1",
  });
  assert.deepEqual(parseActionId(`run_anyway:${JOB}`), { action: "run_anyway", jobId: JOB });
  assert.deepEqual(parseActionId(`investigate:${JOB}`), { action: "investigate", jobId: JOB });
  for (const forged of [`tool_deny:${JOB}`, `tool_deny:${JOB}:C1`, `tool_nope:${JOB}:c1`, "x"]) {
    assert.equal(parseActionId(forged), undefined, forged);
  }
});

Deno.test("a code span holds any tool name or rule, backticks included", () => {
  assert.equal(codeSpan("Bash(git push:*)"), "`Bash(git push:*)`");
  assert.equal(codeSpan("a`b"), "``a`b``");
  assert.equal(codeSpan("`x`"), "`` `x` ``");
  assert.equal(codeSpan("two\nlines"), "`two lines`");
});
