/** The escape filter shared by `pylon logs`, the event stream and the dashboards. */

import assert from "node:assert/strict";
import { sanitizeAnsi, stripAnsi } from "../../src/log/mod.ts";

Deno.test("sanitizeAnsi() keeps SGR colour sequences and plain text", () => {
  const cases = [
    "plain text\twith a tab\n",
    "\x1b[31mred\x1b[0m",
    "\x1b[1;38;5;208mbold orange\x1b[m",
    "\x1b[38:2:10:20:30mtruecolour\x1b[39m",
    "ünïcödé ✓ 日本",
  ];
  for (const text of cases) assert.equal(sanitizeAnsi(text), text);
});

Deno.test("sanitizeAnsi() drops titles, clipboard writes, cursor moves and controls", async (t) => {
  const cases: [string, string, string][] = [
    ["window title (BEL)", "a\x1b]0;pwned\x07b", "ab"],
    ["window title (ST)", "a\x1b]2;pwned\x1b\\b", "ab"],
    ["OSC 52 clipboard write", "x\x1b]52;c;ZWNobyBwd25lZA==\x07y", "xy"],
    ["unterminated OSC", "x\x1b]52;c;ZWNobw==", "x"],
    ["hyperlink", "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"],
    ["cursor move", "a\x1b[10;20Hb\x1b[2Jc\x1b[Kd", "abcd"],
    ["cursor up", "a\x1b[3Ab", "ab"],
    ["private mode (alt screen)", "a\x1b[?1049hb", "ab"],
    ["fake SGR with private marker", "a\x1b[?31mb", "ab"],
    ["SGR with intermediate", "a\x1b[31 mb", "ab"],
    ["device status query", "a\x1b[6nb", "ab"],
    ["DCS string", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"],
    ["APC string", "a\x1b_payload\x1b\\b", "ab"],
    ["two-byte escapes", "a\x1bcb\x1b7c\x1b(0d", "abcd"],
    ["lone ESC at the end", "a\x1b", "a"],
    ["carriage return and backspace", "safe\rEVIL\x08\x08x", "safeEVILx"],
    ["bell and NUL", "a\x07b\x00c", "abc"],
    ["8-bit CSI", "a\x9b2Jb", "ab"],
    ["8-bit OSC", "a\x9d0;title\x07b", "ab"],
    ["DEL", "a\x7fb", "ab"],
  ];
  for (const [name, input, want] of cases) {
    await t.step(name, () => assert.equal(sanitizeAnsi(input), want));
  }
});

Deno.test("sanitizeAnsi() is idempotent and cannot be tricked into building a sequence", () => {
  const nasty = "\x1b\x1b]0;t\x07[2J\x1b[\x1b[31m1m";
  const once = sanitizeAnsi(nasty);
  assert.equal(sanitizeAnsi(once), once);
  // deno-lint-ignore no-control-regex
  assert.ok(!/\x1b(?!\[[0-9;:]*m)/.test(once), JSON.stringify(once));
});

Deno.test("stripAnsi() removes colours too", () => {
  assert.equal(stripAnsi("\x1b[31mred\x1b[0m \x1b]0;t\x07ok"), "red ok");
});
