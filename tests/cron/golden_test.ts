/**
 * Compares src/cron with robfig/cron v3 (the Go reference's library), through
 * tests/cron/golden/cases.json, which tests/cron/golden/gen.go writes.
 *
 * Every difference is listed below with its reason; a listed difference that robfig no longer
 * shows fails the test, so the list cannot go stale.
 */

import assert from "node:assert/strict";
import { nextRuns, parseCron } from "../../src/cron/mod.ts";
import golden from "./golden/cases.json" with { type: "json" };

/**
 * Cases where pylon follows Vixie cron on DST instead of robfig: robfig skips a fixed time that
 * falls in a spring-forward gap (Vixie runs it once, right after the gap) and runs a fixed time
 * in a repeated autumn hour twice (Vixie runs it once, at the first occurrence).
 */
const DST_DIFFERENCES: Record<string, string[]> = {
  // 02:30 does not exist on 03-08: runs at 03:00 EDT.
  "ny-spring-gap-0230": ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"],
  "ny-spring-gap-0200": ["2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z"],
  // Both 02:15 and 02:45 fall in the gap: one run at 03:00 EDT.
  "ny-spring-gap-two-times": [
    "2026-03-08T07:00:00Z",
    "2026-03-09T06:15:00Z",
    "2026-03-09T06:45:00Z",
  ],
  // 01:30 happens at -04:00 and again at -05:00: only the first runs.
  "ny-fall-0130": ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"],
  "ny-fall-0130-between": ["2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"],
  "ny-fall-0100": ["2026-11-01T05:00:00Z", "2026-11-02T06:00:00Z"],
  "london-spring-gap": ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"],
  "london-fall-repeat": ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"],
  "berlin-spring-gap": ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"],
  "berlin-fall-repeat": ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"],
  // 30-minute change: 01:45 repeats at +11:00 and +10:30; 02:15 falls in a 02:00-02:30 gap.
  "lord-howe-fall-repeat": ["2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"],
  "lord-howe-spring-gap": ["2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"],
  // Midnight did not exist on 2018-11-04: runs at 01:00 -02:00.
  "sao-paulo-midnight-gap": [
    "2018-11-03T03:00:00Z",
    "2018-11-04T03:00:00Z",
    "2018-11-05T02:00:00Z",
  ],
  "sao-paulo-late-repeat": ["2019-02-16T01:30:00Z", "2019-02-17T01:30:00Z", "2019-02-18T02:30:00Z"],
};

/** Expressions robfig's standard parser judges differently, and why. */
const VALIDITY_DIFFERENCES: Record<string, string> = {
  "@every 1h": "refused: it counts from daemon start, so it has no stable fire times",
  "* * * * 7": "accepted: 7 is Sunday, as in Vixie cron and pylon's docs",
  "? * * * *": "refused: ? belongs in the day fields only",
  "1,,2 * * * *": "refused: robfig drops empty list items silently",
  "+5 * * * *": "refused: robfig's Atoi accepts a sign",
  "*-5 * * * *": "refused: robfig ignores everything after *",
  "0 0 30 2 *": "refused: it can never fire (robfig accepts it and never runs it)",
};

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

Deno.test("golden file comes from robfig/cron v3.0.1", () => {
  assert.match(golden.robfig, /v3\.0\.1/);
  assert.ok(golden.runs.length >= 60, `only ${golden.runs.length} cases`);
});

Deno.test("nextRuns() agrees with robfig/cron v3", async (t) => {
  for (const c of golden.runs) {
    await t.step(`${c.id}: ${c.expr} in ${c.timezone}`, () => {
      const expected = DST_DIFFERENCES[c.id] ?? c.next;
      const got = nextRuns(c.expr, {
        timezone: c.timezone,
        from: new Date(c.from),
        count: expected.length,
      });
      assert.deepEqual(got.map(iso), expected);
    });
  }
});

Deno.test("DST differences from robfig are real and documented", async (t) => {
  for (const [id, ours] of Object.entries(DST_DIFFERENCES)) {
    await t.step(id, () => {
      const c = golden.runs.find((run) => run.id === id);
      assert.ok(c, `no golden case "${id}"`);
      assert.notDeepEqual(c.next, ours, `robfig now agrees on "${id}": drop it from the list`);
    });
  }
});

Deno.test("parseCron() accepts what robfig accepts, except where documented", async (t) => {
  for (const expr of Object.keys(VALIDITY_DIFFERENCES)) {
    assert.ok(golden.validity.some((v) => v.expr === expr), `no golden verdict for "${expr}"`);
  }
  for (const v of golden.validity) {
    await t.step(JSON.stringify(v.expr), () => {
      let accepted = true;
      try {
        parseCron(v.expr);
      } catch {
        accepted = false;
      }
      const differs = v.expr in VALIDITY_DIFFERENCES;
      assert.equal(accepted, differs ? !v.ok : v.ok, VALIDITY_DIFFERENCES[v.expr] ?? v.error);
    });
  }
});
