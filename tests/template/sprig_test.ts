/**
 * The Sprig helpers: `regexMatch` has Go's RE2 semantics (linear time, Go syntax).
 */

import assert from "node:assert/strict";
import { TemplateError } from "../../src/errors.ts";
import { renderTemplate } from "../../src/template/mod.ts";

function match(pattern: string, s: string): string {
  return renderTemplate("t", "{{ regexMatch .body.re .body.s }}", { body: { re: pattern, s } });
}

Deno.test("regexMatch finds a match anywhere, as Go's regexp.MatchString", () => {
  assert.equal(match("fix(es)?\\b", "this fixes #12"), "true");
  assert.equal(match("^fix", "a fix"), "false");
  assert.equal(
    renderTemplate("t", '{{ .body.title | regexMatch "^\\\\[WIP\\\\]" }}', {
      body: { title: "[WIP] draft" },
    }),
    "true",
  );
});

Deno.test("regexMatch speaks RE2: inline flags work, lookarounds and backreferences fail", () => {
  assert.equal(match("(?i)^FIX", "fix it"), "true");
  assert.equal(match("^.$", "😀"), "true");
  for (const bad of ["a(?=b)", "(a)\\1", "(?<!x)y", "a{1001}"]) {
    assert.throws(
      () => match(bad, "ab"),
      (e: unknown) =>
        e instanceof TemplateError &&
        /error calling regexMatch: invalid regular expression/.test(e.message),
      bad,
    );
  }
});

Deno.test("regexMatch takes linear time on a pattern that makes a backtracking engine explode", () => {
  // JavaScript's RegExp took 17 s on 28 a's; RE2 answers at once, also for 1 MB of them.
  for (const n of [28, 1_000_000]) {
    const started = performance.now();
    assert.equal(match("^(a+)+$", "a".repeat(n) + "!"), "false");
    const ms = performance.now() - started;
    assert.ok(ms < 1500, `${n} a's took ${ms} ms`);
  }
});

Deno.test("regexMatch refuses a pattern longer than 16 KiB", () => {
  assert.throws(() => match("a".repeat(16 * 1024 + 1), "a"), /longer than 16384 characters/);
});
