/**
 * Daylight-saving behaviour, stated in local wall-clock terms (the golden file states it in UTC).
 */

import assert from "node:assert/strict";
import { nextRuns } from "../../src/cron/mod.ts";

/** The next runs as `YYYY-MM-DDTHH:MM±HH:MM` in `zone`. */
function localRuns(expr: string, zone: string, from: string, count: number): string[] {
  return nextRuns(expr, { timezone: zone, from: new Date(from), count }).map((date) => {
    const local = Temporal.Instant.fromEpochMilliseconds(date.getTime()).toZonedDateTimeISO(zone);
    return `${local.toPlainDateTime().toString().slice(0, 16)}${local.offset}`;
  });
}

Deno.test("nextRuns() runs a fixed time inside a spring-forward gap once, right after it", async (t) => {
  await t.step("America/New_York 02:30 runs at 03:00 EDT", () => {
    assert.deepEqual(localRuns("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2), [
      "2026-03-08T03:00-04:00",
      "2026-03-09T02:30-04:00",
    ]);
  });
  await t.step("two gap times give one run", () => {
    assert.deepEqual(localRuns("0,30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2), [
      "2026-03-08T03:00-04:00",
      "2026-03-09T02:00-04:00",
    ]);
  });
  await t.step("a gap time and 03:00 give one run", () => {
    assert.deepEqual(localRuns("30 2,3 * * *", "America/New_York", "2026-03-07T12:00:00Z", 3), [
      "2026-03-08T03:00-04:00",
      "2026-03-08T03:30-04:00",
      "2026-03-09T02:30-04:00",
    ]);
  });
  await t.step("Europe/Berlin 02:30 runs at 03:00 CEST", () => {
    assert.deepEqual(localRuns("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 1), [
      "2026-03-29T03:00+02:00",
    ]);
  });
  await t.step("Australia/Lord_Howe 02:15 runs at 02:30 (30-minute change)", () => {
    assert.deepEqual(localRuns("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", 1), [
      "2026-10-04T02:30+11:00",
    ]);
  });
  await t.step("a missing midnight (America/Sao_Paulo 2018) runs at 01:00", () => {
    assert.deepEqual(localRuns("0 0 * * *", "America/Sao_Paulo", "2018-11-03T12:00:00Z", 2), [
      "2018-11-04T01:00-02:00",
      "2018-11-05T00:00-02:00",
    ]);
  });
  await t.step("from inside the day, after the gap has passed, it does not run again", () => {
    assert.deepEqual(localRuns("30 2 * * *", "America/New_York", "2026-03-08T07:00:00Z", 1), [
      "2026-03-09T02:30-04:00",
    ]);
  });
});

Deno.test("nextRuns() runs a fixed time in a repeated hour once", async (t) => {
  await t.step("America/New_York 01:30", () => {
    assert.deepEqual(localRuns("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2), [
      "2026-11-01T01:30-04:00",
      "2026-11-02T01:30-05:00",
    ]);
  });
  await t.step("Europe/London 01:30", () => {
    assert.deepEqual(localRuns("30 1 * * *", "Europe/London", "2026-10-24T12:00:00Z", 2), [
      "2026-10-25T01:30+01:00",
      "2026-10-26T01:30+00:00",
    ]);
  });
  await t.step("Australia/Lord_Howe 01:45", () => {
    assert.deepEqual(localRuns("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T00:00:00Z", 2), [
      "2026-04-05T01:45+11:00",
      "2026-04-06T01:45+10:30",
    ]);
  });
});

Deno.test("nextRuns() lets wildcard jobs follow real time across DST", async (t) => {
  await t.step("every 30 minutes skips the missing hour", () => {
    assert.deepEqual(localRuns("*/30 * * * *", "America/New_York", "2026-03-08T06:00:00Z", 3), [
      "2026-03-08T01:30-05:00",
      "2026-03-08T03:00-04:00",
      "2026-03-08T03:30-04:00",
    ]);
  });
  await t.step("hourly at :30 runs in both copies of the repeated hour", () => {
    assert.deepEqual(localRuns("30 * * * *", "America/New_York", "2026-11-01T04:00:00Z", 4), [
      "2026-11-01T00:30-04:00",
      "2026-11-01T01:30-04:00",
      "2026-11-01T01:30-05:00",
      "2026-11-01T02:30-05:00",
    ]);
  });
  await t.step("every 15 minutes through Lord Howe's 30-minute repeat", () => {
    assert.deepEqual(localRuns("*/15 * * * *", "Australia/Lord_Howe", "2026-04-04T14:40:00Z", 4), [
      "2026-04-05T01:45+11:00",
      "2026-04-05T01:30+10:30",
      "2026-04-05T01:45+10:30",
      "2026-04-05T02:00+10:30",
    ]);
  });
});

Deno.test("nextRuns() keeps local time in zones without DST", async (t) => {
  await t.step("Asia/Kolkata (+05:30) 09:00", () => {
    assert.deepEqual(localRuns("0 9 * * *", "Asia/Kolkata", "2026-03-08T00:00:00Z", 2), [
      "2026-03-08T09:00+05:30",
      "2026-03-09T09:00+05:30",
    ]);
  });
  await t.step("UTC 02:30 on the day New York springs forward", () => {
    assert.deepEqual(localRuns("30 2 * * *", "UTC", "2026-03-08T00:00:00Z", 1), [
      "2026-03-08T02:30+00:00",
    ]);
  });
});
