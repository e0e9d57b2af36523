/**
 * Every rendering has a budget (output characters, one value's size, steps) and stops as soon
 * as it is over, naming the field and the cap.
 */

import assert from "node:assert/strict";
import { TemplateError } from "../../src/errors.ts";
import {
  budgetFor,
  parseTemplate,
  renderTemplate,
  TemplateBudgetError,
} from "../../src/template/mod.ts";

function budgetError(fn: () => unknown): TemplateBudgetError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TemplateBudgetError) return e;
    throw e;
  }
  throw new Error("rendered within its budget");
}

Deno.test("renderTemplate() stops a 400 MB prompt at the prompt's cap, early", () => {
  // The probe: a 403 KB body, each of its 1,000 items printing the whole body.
  const body = { items: Array(1000).fill(0), pad: "x".repeat(400_000) };
  const started = performance.now();
  const e = budgetError(() =>
    renderTemplate("agent.prompt", "{{ range .body.items }}{{ $.body }}{{ end }}", { body })
  );
  const ms = performance.now() - started;
  assert.ok(e instanceof TemplateError);
  assert.equal(e.templateName, "agent.prompt");
  assert.equal(e.limit, "output");
  assert.equal(e.cap, budgetFor("agent.prompt").output);
  assert.match(
    e.message,
    /^template: agent\.prompt:1:\d+: rendering stopped: the output is longer than the cap of agent\.prompt, 2097152 characters$/,
  );
  assert.ok(ms < 2000, `took ${ms} ms: it did not stop early`);
});

Deno.test("renderTemplate() caps each field by its name", async (t) => {
  const big = { body: { s: "y".repeat(70_000) } };
  for (const field of ["trigger.when", "trigger.dedupe", "trigger.supersede", "channel.message"]) {
    await t.step(field, () => {
      const e = budgetError(() => renderTemplate(field, "{{ .body.s }}", big));
      assert.equal(e.cap, 65536);
      assert.match(e.message, new RegExp(`the cap of ${field.replace(".", "\\.")}, 65536`));
    });
  }
  await t.step("workspace.repo", () => {
    const e = budgetError(() => renderTemplate("workspace.repo", "{{ .body.s }}", big));
    assert.equal(e.cap, 4096);
  });
  await t.step("the prompt holds what the others refuse", () => {
    assert.equal(renderTemplate("agent.prompt", "{{ .body.s }}", big).length, 70_000);
  });
});

Deno.test("renderTemplate() stops a variable that doubles in a loop", () => {
  const text = '{{ $x := "ab" }}{{ range .body.n }}{{ $x = print $x $x }}{{ end }}{{ len $x }}';
  const e = budgetError(() =>
    renderTemplate("trigger.when", text, { body: { n: Array(64).fill(0) } })
  );
  assert.equal(e.limit, "value");
  assert.match(e.message, /a value is longer than the cap of trigger\.when, 4194304 characters/);
});

Deno.test("renderTemplate() lets a large value feed a small output", () => {
  const body = { s: "z".repeat(300_000) + "@pylon" };
  assert.equal(
    renderTemplate("trigger.when", '{{ contains "@pylon" (toJson .body) }}', { body }),
    "true",
  );
});

Deno.test("renderTemplate() stops nested ranges that print nothing", () => {
  const body = { a: Array(2000).fill(0) };
  const e = budgetError(() =>
    renderTemplate(
      "trigger.when",
      "{{ range .body.a }}{{ range $.body.a }}{{ end }}{{ end }}false",
      { body },
    )
  );
  assert.equal(e.limit, "steps");
  assert.match(e.message, /it takes more than the cap of trigger\.when, 1000000 steps/);
});

Deno.test("parseTemplate() takes an explicit budget", () => {
  const t = parseTemplate("x", "{{ .s }}", { budget: { output: 3, steps: 100 } });
  assert.equal(t.execute({ s: "abc" }), "abc");
  assert.equal(budgetError(() => t.execute({ s: "abcd" })).cap, 3);
});
