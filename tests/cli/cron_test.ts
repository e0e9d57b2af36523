import assert from "node:assert/strict";
import { cronCommand } from "../../src/cli/commands/cron.ts";
import type { CommandContext, ParsedArgs } from "../../src/cli/command.ts";
import { createPylonPaths } from "../../src/config/paths.ts";
import { UsageError } from "../../src/errors.ts";

const NOW = new Date("2026-03-04T12:00:00Z");

/** A context that records output; nothing touches the disk. */
function fakeContext(env: Record<string, string> = { TZ: "UTC" }) {
  let out = "";
  let err = "";
  const ctx: CommandContext = {
    paths: createPylonPaths("/nonexistent/pylon-cron-test"),
    env,
    io: {
      out: (text) => void (out += text),
      err: (text) => void (err += text),
      readLine: () => Promise.resolve(null),
      isTty: false,
    },
    clock: { now: () => NOW },
    spawnInteractive: () => Promise.reject(new Error("not in tests")),
  };
  return { ctx, stdout: () => out, stderr: () => err };
}

function args(expr: string, values: ParsedArgs["values"] = {}): ParsedArgs {
  return { positionals: [expr], values };
}

Deno.test("cron prints the description, zone and next five runs", async () => {
  const { ctx, stdout, stderr } = fakeContext();
  const code = await cronCommand.run(args("0 9 * * 1", { tz: "America/New_York" }), ctx);
  assert.equal(code, 0);
  assert.equal(stderr(), "");
  assert.equal(
    stdout(),
    [
      "At 09:00 AM, only on Monday",
      "Time zone: America/New_York",
      "Next 5 fire times:",
      "  Mon 2026-03-09 09:00 EDT (-04:00)  2026-03-09 13:00 UTC",
      "  Mon 2026-03-16 09:00 EDT (-04:00)  2026-03-16 13:00 UTC",
      "  Mon 2026-03-23 09:00 EDT (-04:00)  2026-03-23 13:00 UTC",
      "  Mon 2026-03-30 09:00 EDT (-04:00)  2026-03-30 13:00 UTC",
      "  Mon 2026-04-06 09:00 EDT (-04:00)  2026-04-06 13:00 UTC",
      "",
    ].join("\n"),
  );
});

Deno.test("cron shows UTC runs once and zones without letters by offset", async () => {
  const utc = fakeContext();
  assert.equal(await cronCommand.run(args("@daily", { count: "1" }), utc.ctx), 0);
  assert.match(utc.stdout(), /\n {2}Thu 2026-03-05 00:00 UTC \(\+00:00\)\n$/);
  assert.match(utc.stdout(), /\nNext fire time:\n/, "one run is singular");
  const kolkata = fakeContext();
  assert.equal(
    await cronCommand.run(args("0 9 * * *", { tz: "Asia/Kolkata", count: "1" }), kolkata.ctx),
    0,
  );
  assert.match(
    kolkata.stdout(),
    /\n {2}Thu 2026-03-05 09:00 \(\+05:30\) {2}2026-03-05 03:30 UTC\n$/,
  );
});

Deno.test("cron --json prints exactly description, timezone and UTC times", async () => {
  const { ctx, stdout } = fakeContext();
  const values = { tz: "America/New_York", json: true, count: "2", from: "2026-03-07T12:00:00Z" };
  assert.equal(await cronCommand.run(args("30 2 * * *", values), ctx), 0);
  assert.equal(
    stdout(),
    '{"description":"At 02:30 AM","timezone":"America/New_York","next":["2026-03-08T07:00:00Z","2026-03-09T06:30:00Z"]}\n',
  );
});

Deno.test("cron defaults the zone to TZ, then /etc/localtime or UTC", async () => {
  const { ctx, stdout } = fakeContext({ TZ: "Europe/Berlin" });
  assert.equal(await cronCommand.run(args("0 9 * * *", { json: true, count: "1" }), ctx), 0);
  const parsed = JSON.parse(stdout());
  assert.equal(parsed.timezone, "Europe/Berlin");
  assert.deepEqual(parsed.next, ["2026-03-05T08:00:00Z"]);
});

Deno.test("cron --from accepts an instant or a local time in the zone", async (t) => {
  const cases: [string, string][] = [
    ["2026-03-09T13:00:00Z", "2026-03-16T13:00:00Z"],
    ["2026-03-09T08:59:59-04:00", "2026-03-09T13:00:00Z"],
    ["2026-03-09T08:59", "2026-03-09T13:00:00Z"],
    ["2026-03-09", "2026-03-09T13:00:00Z"],
  ];
  for (const [from, first] of cases) {
    await t.step(from, async () => {
      const { ctx, stdout } = fakeContext();
      const values = { tz: "America/New_York", from, count: "1", json: true };
      assert.equal(await cronCommand.run(args("0 9 * * 1", values), ctx), 0);
      assert.deepEqual(JSON.parse(stdout()).next, [first]);
    });
  }
});

Deno.test("cron names the zone of a CRON_TZ= prefix", async () => {
  const { ctx, stdout } = fakeContext();
  const code = await cronCommand.run(args("CRON_TZ=Asia/Tokyo 0 9 * * *", { count: "1" }), ctx);
  assert.equal(code, 0);
  assert.match(stdout(), /^Time zone: Asia\/Tokyo \(from the expression\)$/m);
});

Deno.test("cron exits 1 with the message on stderr for an invalid expression", async () => {
  const { ctx, stdout, stderr } = fakeContext();
  assert.equal(await cronCommand.run(args("0 25 * * *"), ctx), 1);
  assert.equal(stdout(), "");
  assert.equal(
    stderr(),
    'Error: Cannot parse cron expression "0 25 * * *": hour field "25" is out of range (0-23)\n',
  );
  const six = fakeContext();
  assert.equal(await cronCommand.run(args("0 0 9 * * *"), six.ctx), 1);
  assert.match(
    six.stderr(),
    /a seconds field is not supported\n {2}Drop the first \(seconds\) field\n$/,
  );
});

Deno.test("cron throws UsageError for a bad zone, count or from", async (t) => {
  const bad: [string, ParsedArgs["values"], RegExp][] = [
    ["unknown zone", { tz: "Mars/Base" }, /unknown time zone "Mars\/Base"/],
    ["offset as zone", { tz: "+05:00" }, /unknown time zone "\+05:00"/],
    ["count 0", { count: "0" }, /--count must be a whole number from 1 to 1000/],
    ["count negative", { count: "-3" }, /current value is "-3"/],
    ["count fraction", { count: "1.5" }, /--count/],
    ["count too big", { count: "1001" }, /--count/],
    ["from garbage", { from: "next tuesday" }, /--from is not an ISO-8601 time/],
    ["from impossible date", { from: "2026-02-30T00:00:00Z" }, /--from/],
  ];
  for (const [name, values, message] of bad) {
    await t.step(name, async () => {
      const { ctx } = fakeContext();
      await assert.rejects(cronCommand.run(args("0 9 * * *", values), ctx), (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.match(e.message, message);
        return true;
      });
    });
  }
});

Deno.test("cron accepts the largest count", async () => {
  const { ctx, stdout } = fakeContext();
  assert.equal(await cronCommand.run(args("* * * * *", { count: "1000", json: true }), ctx), 0);
  assert.equal(JSON.parse(stdout()).next.length, 1000);
});
