import assert from "node:assert/strict";
import { CronError, parseCron } from "../../src/cron/mod.ts";

/** Asserts that `expr` fails with exactly `reason` after the common prefix. */
function assertParseError(expr: string, reason: string, field?: string): void {
  assert.throws(() => parseCron(expr), (e: unknown) => {
    assert.ok(e instanceof CronError);
    assert.equal(e.message, `Cannot parse cron expression "${expr.trim()}": ${reason}`);
    assert.equal(e.field, field);
    assert.equal(e.expression, expr.trim());
    return true;
  });
}

Deno.test("parseCron() reads the five fields", () => {
  const s = parseCron("0,30 9-17/4 1,15 JAN-mar Mon-FRI");
  assert.deepEqual(s.minutes, [0, 30]);
  assert.deepEqual(s.hours, [9, 13, 17]);
  assert.deepEqual(s.daysOfMonth, [1, 15]);
  assert.deepEqual(s.months, [1, 2, 3]);
  assert.deepEqual(s.daysOfWeek, [1, 2, 3, 4, 5]);
  assert.equal(s.dayRule, "either");
  assert.equal(s.wildcardTime, false);
  assert.equal(s.timezone, undefined);
});

Deno.test("parseCron() runs N/step from N to the end of the range", async (t) => {
  await t.step(
    "minute 5/15",
    () => assert.deepEqual(parseCron("5/15 * * * *").minutes, [5, 20, 35, 50]),
  );
  await t.step("day-of-week 1/2 stops at 6, as robfig", () => {
    assert.deepEqual(parseCron("0 0 * * 1/2").daysOfWeek, [1, 3, 5]);
  });
  await t.step("a step larger than the range keeps the start", () => {
    assert.deepEqual(parseCron("*/100 * * * *").minutes, [0]);
  });
  await t.step(
    "range with step",
    () => assert.deepEqual(parseCron("1-10/3 * * * *").minutes, [1, 4, 7, 10]),
  );
});

Deno.test("parseCron() treats day-of-week 7 as Sunday", () => {
  assert.deepEqual(parseCron("0 0 * * 7").daysOfWeek, [0]);
  assert.deepEqual(parseCron("0 0 * * 5-7").daysOfWeek, [0, 5, 6]);
  assert.deepEqual(parseCron("0 0 * * 0,7").daysOfWeek, [0]);
});

Deno.test("parseCron() uses robfig's star bit for the day rule", async (t) => {
  const cases: [string, "both" | "either"][] = [
    ["0 0 1 * 1", "either"],
    ["0 0 */2 * 1", "either"],
    ["0 0 1-31 * 1", "either"],
    ["0 0 */1 * 1", "both"],
    ["0 0 *,1 * 1", "both"],
    ["0 0 ? * 1", "both"],
    ["0 0 13 * *", "both"],
    ["0 0 13 * ?", "both"],
  ];
  for (const [expr, rule] of cases) {
    await t.step(expr, () => assert.equal(parseCron(expr).dayRule, rule));
  }
});

Deno.test("parseCron() marks wildcard jobs as Vixie cron does", () => {
  assert.equal(parseCron("*/15 9 * * *").wildcardTime, true);
  assert.equal(parseCron("30 * * * *").wildcardTime, true);
  assert.equal(parseCron("30 2 * * *").wildcardTime, false);
  assert.equal(parseCron("0-59 0-23 * * *").wildcardTime, false);
  assert.equal(parseCron("@hourly").wildcardTime, true);
  assert.equal(parseCron("@daily").wildcardTime, false);
});

Deno.test("parseCron() expands descriptors", async (t) => {
  const cases: [string, string][] = [
    ["@yearly", "0 0 1 1 *"],
    ["@annually", "0 0 1 1 *"],
    ["@monthly", "0 0 1 * *"],
    ["@weekly", "0 0 * * 0"],
    ["@daily", "0 0 * * *"],
    ["@midnight", "0 0 * * *"],
    ["@hourly", "0 * * * *"],
    ["@DAILY", "0 0 * * *"],
  ];
  for (const [descriptor, fields] of cases) {
    await t.step(descriptor, () => {
      const { expression: _a, ...expanded } = parseCron(descriptor);
      const { expression: _b, ...plain } = parseCron(fields);
      assert.deepEqual(expanded, plain);
    });
  }
});

Deno.test("parseCron() reads a CRON_TZ= or TZ= prefix", () => {
  assert.equal(parseCron("CRON_TZ=Asia/Tokyo 0 9 * * *").timezone, "Asia/Tokyo");
  assert.equal(parseCron("TZ=europe/berlin @daily").timezone, "Europe/Berlin");
  assert.deepEqual(parseCron("  0   9 * *\t1 ").hours, [9]);
});

Deno.test("parseCron() names the field and the reason", async (t) => {
  const cases: [string, string, string?][] = [
    ["0 25 * * *", 'hour field "25" is out of range (0-23)', "hour"],
    ["60 * * * *", 'minute field "60" is out of range (0-59)', "minute"],
    ["0 0 0 * *", 'day-of-month field "0" is out of range (1-31)', "day-of-month"],
    ["0 0 32 * *", 'day-of-month field "32" is out of range (1-31)', "day-of-month"],
    ["0 0 * 13 *", 'month field "13" is out of range (1-12)', "month"],
    ["0 0 * 0 *", 'month field "0" is out of range (1-12)', "month"],
    ["0 0 * * 8", 'day-of-week field "8" is out of range (0-7)', "day-of-week"],
    ["0 1,25 * * *", 'hour field "1,25": "25" is out of range (0-23)', "hour"],
    ["0 20-25 * * *", 'hour field "20-25": "25" is out of range (0-23)', "hour"],
    ["5-3 * * * *", 'minute field "5-3" is a range that ends before it starts', "minute"],
    ["*/0 * * * *", 'minute field "*/0" has a step that is not a positive number', "minute"],
    ["*/x * * * *", 'minute field "*/x" has a step that is not a positive number', "minute"],
    ["1/2/3 * * * *", 'minute field "1/2/3" has more than one "/"', "minute"],
    ["1-2-3 * * * *", 'minute field "1-2-3" has more than one "-"', "minute"],
    ["1,,2 * * * *", 'minute field "1,,2" has an empty list item', "minute"],
    ["-1 * * * *", 'minute field "-1" is not a number (0-59)', "minute"],
    ["+5 * * * *", 'minute field "+5" is not a number (0-59)', "minute"],
    ["*-5 * * * *", 'minute field "*-5" is not a valid range ("*" cannot start one)', "minute"],
    ["a * * * *", 'minute field "a" is not a number (0-59)', "minute"],
    ["0 MON * * *", 'hour field "MON" is not a number (0-23)', "hour"],
    [
      "0 0 * JANUARY *",
      'month field "JANUARY" is not a number (1-12) or a month name (JAN-DEC)',
      "month",
    ],
    [
      "0 0 * * MONDAY",
      'day-of-week field "MONDAY" is not a number (0-7) or a day name (SUN-SAT)',
      "day-of-week",
    ],
    ["0 0 L * *", 'day-of-month field "L" is not a number (1-31)', "day-of-month"],
    [
      "0 0 * * 5#3",
      'day-of-week field "5#3" is not a number (0-7) or a day name (SUN-SAT)',
      "day-of-week",
    ],
    [
      "? * * * *",
      'minute field "?" is only allowed in the day-of-month and day-of-week fields (use "*")',
      "minute",
    ],
    [
      "0 0 30 2 *",
      'it never fires: no month in month field "2" has a day in day-of-month field "30"',
      "day-of-month",
    ],
    [
      "0 0 31 4,6,9,11 *",
      'it never fires: no month in month field "4,6,9,11" has a day in day-of-month field "31"',
      "day-of-month",
    ],
  ];
  for (const [expr, reason, field] of cases) {
    await t.step(expr, () => assertParseError(expr, reason, field));
  }
});

Deno.test("parseCron() rejects the wrong number of fields, seconds and @every", async (t) => {
  const fields = "expected 5 fields (minute hour day-of-month month day-of-week)";
  await t.step("empty", () => assertParseError("   ", "it is empty"));
  await t.step("four fields", () => assertParseError("0 9 * *", `${fields}, found 4`));
  await t.step("six fields", () => {
    assertParseError("0 0 9 * * *", `${fields}, found 6; a seconds field is not supported`);
  });
  await t.step("@every", () => {
    assertParseError(
      "@every 1h30m",
      '"@every" is not supported, as it counts from when the daemon started',
    );
    assert.throws(() => parseCron("@every 5m"), (e: unknown) => {
      assert.ok(e instanceof CronError);
      assert.match(e.hint ?? "", /\*\/15 \* \* \* \*/);
      return true;
    });
  });
  await t.step("unknown descriptor", () => {
    assertParseError(
      "@reboot",
      'unknown descriptor "@reboot" (supported: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)',
    );
  });
  await t.step("bad zone prefix", () => {
    assertParseError(
      "CRON_TZ=Mars/Base 0 9 * * *",
      'unknown time zone "Mars/Base" in its CRON_TZ= prefix',
    );
  });
  await t.step("nothing after the prefix", () => {
    assertParseError("TZ=UTC", "nothing follows its TZ= prefix");
  });
});

Deno.test("parseCron() accepts leap day and month-end schedules", () => {
  assert.deepEqual(parseCron("0 0 29 2 *").daysOfMonth, [29]);
  assert.deepEqual(parseCron("0 0 31 * *").daysOfMonth, [31]);
  assert.deepEqual(parseCron("0 0 30 2 1").daysOfWeek, [1]);
});
