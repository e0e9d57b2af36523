import assert from "node:assert/strict";
import { isValidTimezone, normalizeTimezone, systemTimezone } from "../../src/cron/mod.ts";

function noLink(): string {
  throw new Deno.errors.NotFound("no /etc/localtime");
}

function linkTo(target: string): (path: string) => string {
  return (path) => {
    assert.equal(path, "/etc/localtime");
    return target;
  };
}

Deno.test("isValidTimezone() accepts IANA names only", () => {
  for (const zone of ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5"]) {
    assert.equal(isValidTimezone(zone), true, zone);
  }
  for (const zone of ["", "Mars/Base", "+05:00", "../etc/passwd", "Europe/", " UTC"]) {
    assert.equal(isValidTimezone(zone), false, zone);
  }
});

Deno.test("normalizeTimezone() fixes the case of a name", () => {
  assert.equal(normalizeTimezone("america/new_york"), "America/New_York");
  assert.equal(normalizeTimezone("Nowhere/Land"), undefined);
});

Deno.test("systemTimezone() prefers a valid TZ", () => {
  assert.equal(systemTimezone({ TZ: "Europe/Berlin" }, { readLink: noLink }), "Europe/Berlin");
  assert.equal(systemTimezone({ TZ: ":Asia/Kolkata" }, { readLink: noLink }), "Asia/Kolkata");
  assert.equal(
    systemTimezone({ TZ: "/usr/share/zoneinfo/Asia/Tokyo" }, { readLink: noLink }),
    "Asia/Tokyo",
  );
});

Deno.test("systemTimezone() falls back to the /etc/localtime link", () => {
  const readLink = linkTo("/usr/share/zoneinfo/America/New_York");
  assert.equal(systemTimezone({}, { readLink }), "America/New_York");
  assert.equal(systemTimezone({ TZ: "EST5EDT,M3.2.0,M11.1.0" }, { readLink }), "America/New_York");
  assert.equal(systemTimezone({ TZ: "" }, { readLink }), "America/New_York");
  const posix = linkTo("../usr/share/zoneinfo/posix/Europe/London");
  assert.equal(systemTimezone({}, { readLink: posix }), "Europe/London");
});

Deno.test("systemTimezone() falls back to UTC", () => {
  assert.equal(systemTimezone({}, { readLink: noLink }), "UTC");
  assert.equal(systemTimezone({}, { readLink: linkTo("/somewhere/else") }), "UTC");
  assert.equal(systemTimezone({ TZ: "Mars/Base" }, { readLink: noLink }), "UTC");
});

Deno.test("systemTimezone() reads the real link by default", () => {
  assert.ok(isValidTimezone(systemTimezone({})));
});
