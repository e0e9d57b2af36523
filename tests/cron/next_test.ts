import assert from "node:assert/strict";
import { CronError, nextRuns, parseCron } from "../../src/cron/mod.ts";

function iso(dates: Date[]): string[] {
  return dates.map((date) => date.toISOString());
}

Deno.test("nextRuns() returns times strictly after from", () => {
  const from = new Date("2026-01-05T09:00:00.000Z");
  assert.deepEqual(iso(nextRuns("0 9 * * *", { from })), ["2026-01-06T09:00:00.000Z"]);
  const justBefore = new Date("2026-01-05T08:59:59.999Z");
  assert.deepEqual(iso(nextRuns("0 9 * * *", { from: justBefore })), ["2026-01-05T09:00:00.000Z"]);
});

Deno.test("nextRuns() defaults to one run in UTC", () => {
  const runs = nextRuns("0 9 * * *", { from: new Date("2026-01-05T10:00:00Z") });
  assert.deepEqual(iso(runs), ["2026-01-06T09:00:00.000Z"]);
});

Deno.test("nextRuns() accepts a parsed schedule and count 0", () => {
  const schedule = parseCron("*/10 * * * *");
  const from = new Date("2026-01-05T10:00:00Z");
  assert.equal(nextRuns(schedule, { from, count: 3 }).length, 3);
  assert.deepEqual(nextRuns(schedule, { from, count: 0 }), []);
});

Deno.test("nextRuns() lets a CRON_TZ= prefix win over the timezone option", () => {
  const runs = nextRuns("CRON_TZ=Asia/Tokyo 0 9 * * *", {
    from: new Date("2026-01-05T10:00:00Z"),
    timezone: "America/New_York",
  });
  assert.deepEqual(iso(runs), ["2026-01-06T00:00:00.000Z"]);
});

Deno.test("nextRuns() finds a leap day across the skipped 2100", () => {
  const runs = nextRuns("0 0 29 2 *", { from: new Date("2096-03-01T00:00:00Z"), count: 1 });
  assert.deepEqual(iso(runs), ["2104-02-29T00:00:00.000Z"]);
});

Deno.test("nextRuns() computes 1000 runs quickly", () => {
  const start = performance.now();
  const runs = nextRuns("0 9 * * *", {
    from: new Date("2026-01-01T00:00:00Z"),
    timezone: "Europe/Berlin",
    count: 1000,
  });
  assert.equal(runs.length, 1000);
  assert.ok(performance.now() - start < 2000);
});

Deno.test("nextRuns() throws CronError for an unknown zone", () => {
  assert.throws(
    () => nextRuns("0 9 * * *", { from: new Date(), timezone: "Mars/Base" }),
    (e: unknown) => {
      assert.ok(e instanceof CronError);
      assert.equal(
        e.message,
        'Cannot compute fire times of "0 9 * * *": unknown time zone "Mars/Base"',
      );
      return true;
    },
  );
  assert.throws(() => nextRuns("0 9 * * *", { from: new Date(), timezone: "+05:00" }), CronError);
});

Deno.test("nextRuns() throws CronError for an invalid expression", () => {
  assert.throws(() => nextRuns("0 25 * * *", { from: new Date() }), CronError);
});

Deno.test("nextRuns() rejects a bad count or date as programmer errors", () => {
  assert.throws(() => nextRuns("* * * * *", { from: new Date(), count: 1.5 }), RangeError);
  assert.throws(() => nextRuns("* * * * *", { from: new Date(), count: -1 }), RangeError);
  assert.throws(() => nextRuns("* * * * *", { from: new Date("nope") }), RangeError);
});
