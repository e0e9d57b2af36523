import assert from "node:assert/strict";
import { CronError, describeCron, parseCron } from "../../src/cron/mod.ts";

Deno.test("describeCron() describes in English with a 12-hour clock", async (t) => {
  const cases: [string, string][] = [
    ["0 9 * * 1", "At 09:00 AM, only on Monday"],
    ["0 9 * * 1-5", "At 09:00 AM, Monday through Friday"],
    ["0 9 * * MON-FRI", "At 09:00 AM, Monday through Friday"],
    ["*/5 * * * *", "Every 5 minutes"],
    ["0 */6 * * *", "On the hour, every 6 hours"],
    ["5/15 * * * *", "Every 15 minutes, starting at 5 minutes past the hour"],
    ["0 0 * * 7", "At 12:00 AM, only on Sunday"],
    ["0 0 * * 0,7", "At 12:00 AM, only on Sunday"],
    ["0 9 1 * 1", "At 09:00 AM, on day 1 of the month, and on Monday"],
    ["0 9 ? * 1", "At 09:00 AM, only on Monday"],
    ["0 0 29 2 *", "At 12:00 AM, on day 29 of the month, only in February"],
    ["@daily", "At 12:00 AM"],
    ["@hourly", "Every hour"],
    ["@weekly", "At 12:00 AM, only on Sunday"],
    ["@monthly", "At 12:00 AM, on day 1 of the month"],
    ["@yearly", "At 12:00 AM, on day 1 of the month, only in January"],
    ["CRON_TZ=Asia/Tokyo 30 14 * * *", "At 02:30 PM"],
  ];
  for (const [expr, text] of cases) {
    await t.step(expr, () => assert.equal(describeCron(expr), text));
  }
});

Deno.test("describeCron() describes what the schedule does, not odd spellings", async (t) => {
  await t.step("a step past the range is one value", () => {
    assert.equal(describeCron("*/100 * * * *"), "Every hour");
  });
  await t.step("a starred list is a star", () => {
    assert.equal(describeCron("0 0 *,1 * 1"), "At 12:00 AM, only on Monday");
  });
});

Deno.test("describeCron() accepts a parsed schedule", () => {
  assert.equal(describeCron(parseCron("0 9 * * 1")), "At 09:00 AM, only on Monday");
});

Deno.test("describeCron() throws CronError for an invalid expression", () => {
  assert.throws(() => describeCron("0 25 * * *"), CronError);
});
