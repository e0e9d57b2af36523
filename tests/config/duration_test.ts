import assert from "node:assert/strict";
import { formatDuration, parseByteSize, parseDuration } from "../../src/config/mod.ts";

Deno.test("parseDuration() reads Go duration strings", () => {
  assert.equal(parseDuration("15m"), 900_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("300ms"), 300);
  assert.equal(parseDuration("2m3s"), 123_000);
  assert.equal(parseDuration("0"), 0);
  for (const bad of ["", "15", "m", "10 m", "1d", "-5m", "5mm"]) {
    assert.equal(parseDuration(bad), null, bad);
  }
});

Deno.test("formatDuration() prints like Go's rounded durations", () => {
  assert.equal(formatDuration(94_000), "1m34s");
  assert.equal(formatDuration(45_400), "45s");
  assert.equal(formatDuration(7_200_000), "2h0m0s");
  assert.equal(formatDuration(0), "0s");
});

Deno.test("parseByteSize() reads bytes and binary/decimal units", () => {
  assert.equal(parseByteSize("1MiB"), 1_048_576);
  assert.equal(parseByteSize("512k"), 524_288);
  assert.equal(parseByteSize("2g"), 2 * 1024 ** 3);
  assert.equal(parseByteSize("10MB"), 10_000_000);
  assert.equal(parseByteSize(4096), 4096);
  assert.equal(parseByteSize("lots"), null);
  assert.equal(parseByteSize("5 parsecs"), null);
});
