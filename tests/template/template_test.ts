/**
 * API tests of `src/template/mod.ts`: error fields, pluggable functions, reuse, and the
 * documented deviations from Go. Byte-for-byte Go compatibility is `golden_test.ts`'s job.
 */

import assert from "node:assert/strict";
import { TemplateError } from "../../src/errors.ts";
import { type GoValue, parseTemplate, renderTemplate } from "../../src/template/mod.ts";

function templateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  assert.fail("expected a TemplateError");
}

const SENTRY = {
  body: {
    data: {
      event: {
        title: "TypeError: x is undefined",
        level: "error",
        tags: [["env", "prod"], ["browser", "Firefox"]],
      },
    },
  },
  headers: { "sentry-hook-resource": "event_alert" },
};

Deno.test("renderTemplate() renders a pylon prompt", () => {
  const text = `Fix: {{ .body.data.event.title }}
{{- range .body.data.event.tags }}
- {{ index . 0 }}={{ index . 1 }}
{{- end }}
{{ if eq .body.data.event.level "error" }}urgent{{ else }}later{{ end }}`;
  assert.equal(
    renderTemplate("agent.prompt", text, SENTRY),
    "Fix: TypeError: x is undefined\n- env=prod\n- browser=Firefox\nurgent",
  );
});

Deno.test("renderTemplate() prints <no value> for a missing key", () => {
  assert.equal(
    renderTemplate("t", "[{{.body.nope}}][{{.body.nope.deeper}}]", SENTRY),
    "[<no value>][<no value>]",
  );
});

Deno.test("parseTemplate() reports the line and column of a syntax error", async (t) => {
  await t.step("unknown function on line 3", () => {
    const e = templateError(() => parseTemplate("agent.prompt", "a\nb\n  {{ .x | shout }}"));
    assert.equal(e.message, `template: agent.prompt:3:10: function "shout" not defined`);
    assert.equal(e.templateName, "agent.prompt");
    assert.equal(e.line, 3);
    assert.equal(e.column, 11);
  });
  await t.step("columns count characters, the message counts bytes like Go", () => {
    const e = templateError(() => parseTemplate("t", "é {{.x"));
    assert.equal(e.message, "template: t:1:7: unclosed action");
    assert.equal(e.column, 7);
  });
  await t.step("missing end", () => {
    const e = templateError(() => parseTemplate("channel.topic", "{{if .x}}\nyes\n"));
    assert.equal(e.message, "template: channel.topic:3:0: unexpected EOF");
    assert.equal(e.line, 3);
  });
});

Deno.test("Template.execute() reports Go's execution error with position and context", () => {
  const tmpl = parseTemplate("agent.prompt", "ok\n  {{ index .body.list 5 }}");
  const e = templateError(() => tmpl.execute({ body: { list: [1, 2] } }));
  assert.equal(
    e.message,
    `template: agent.prompt:2:5: executing "agent.prompt" at <index .body.list 5>: ` +
      "error calling index: index out of range: 5",
  );
  assert.deepEqual([e.templateName, e.line, e.column], ["agent.prompt", 2, 6]);
});

Deno.test("Template.execute() can run many times without leaking variables", () => {
  const tmpl = parseTemplate("t", "{{ $x := .n }}{{ range .list }}{{ $x = . }}{{ end }}{{ $x }}");
  assert.equal(tmpl.execute({ n: 1, list: [2, 3] }), "3");
  assert.equal(tmpl.execute({ n: 7, list: [] }), "7");
  assert.equal(tmpl.name, "t");
});

Deno.test("Template.execute() does not modify the data", () => {
  const data = { body: { b: 2, a: 1, list: ["x", "y"] } };
  const before = JSON.stringify(data);
  renderTemplate(
    "t",
    "{{range $k, $v := .body}}{{$k}}{{end}}{{slice .body.list 1}}{{printf `%v` .}}",
    data,
  );
  assert.equal(JSON.stringify(data), before);
});

Deno.test("renderTemplate() accepts missing data", () => {
  assert.equal(
    renderTemplate("t", "static {{.x}} {{$}}", undefined),
    "static <no value> <no value>",
  );
  assert.equal(renderTemplate("t", "{{.x}}", null), "<no value>");
});

Deno.test("funcs option adds callable functions", async (t) => {
  const seen: GoValue[][] = [];
  const funcs = {
    upper: (s: GoValue) => String(s).toUpperCase(),
    record: (...args: GoValue[]) => {
      seen.push(args);
      return args.length;
    },
    fail: () => {
      throw new Error("nope");
    },
    nothing: () => undefined,
  };
  await t.step("receives evaluated arguments with Go's types", () => {
    const out = renderTemplate(
      "t",
      `{{ record "s" 1 1.5 .n .missing nil true (len .list) }}`,
      { n: 2, list: [1] },
      { funcs },
    );
    assert.equal(out, "8");
    assert.deepEqual(seen[0], ["s", 1n, 1.5, 2, null, null, true, 1n]);
  });
  await t.step("works in pipelines", () => {
    assert.equal(
      renderTemplate("t", "{{ .s | upper | printf `%s!` }}", { s: "hi" }, { funcs }),
      "HI!",
    );
  });
  await t.step("a thrown error stops execution", () => {
    const e = templateError(() => renderTemplate("t", "{{ fail 1 }}", {}, { funcs }));
    assert.equal(e.message, `template: t:1:3: executing "t" at <fail 1>: error calling fail: nope`);
  });
  await t.step("undefined is nil", () => {
    assert.equal(
      renderTemplate("t", "{{ nothing }}|{{ print (nothing) }}", {}, { funcs }),
      "<no value>|<nil>",
    );
  });
  await t.step("unknown functions still fail at parse time", () => {
    const e = templateError(() => parseTemplate("t", "{{ shout 1 }}", { funcs }));
    assert.match(e.message, /function "shout" not defined$/);
  });
});

Deno.test("funcs option replaces builtins of the same name, as in Go", () => {
  const funcs = { len: () => "custom", and: (...a: GoValue[]) => a.length };
  assert.equal(renderTemplate("t", "{{ len 1 }} {{ and 0 1 2 }}", {}, { funcs }), "custom 3");
});

Deno.test("funcs option rejects names that are not identifiers", () => {
  assert.throws(() => parseTemplate("t", "", { funcs: { "a-b": () => 1 } }), TypeError);
});

Deno.test("a function named break turns {{break}} into a call, as in Go", () => {
  const out = renderTemplate("t", "{{range .}}{{break}}{{end}}", [1, 2], {
    funcs: { break: () => "b" },
  });
  assert.equal(out, "bb");
});

Deno.test("deviation: numbers print as JSON prints them", () => {
  const data = { id: 1234567890, ts: 1700000000.5, tiny: 0.000001, neg: -0 };
  assert.equal(
    renderTemplate("t", "{{.id}} {{.ts}} {{.tiny}} {{.neg}}", data),
    "1234567890 1700000000.5 0.000001 -0",
  );
  assert.equal(
    renderTemplate("t", "{{printf `%v %.2e %d` .id .id .id}}", data),
    "1234567890 1.23e+09 %!d(float64=1234567890)",
  );
});

Deno.test("deviation: maps and arrays print as compact JSON with sorted keys", () => {
  const data = { m: { b: [1, "x", null], a: { c: true } } };
  assert.equal(renderTemplate("t", "{{.m}}", data), `{"a":{"c":true},"b":[1,"x",null]}`);
});

Deno.test("deviation: comparisons accept an int against a JSON number", () => {
  assert.equal(
    renderTemplate("t", "{{eq .n 3}} {{lt .n 10}} {{ge .f 1}} {{eq 1.0 1}}", { n: 3, f: 0.5 }),
    "true true false true",
  );
});

Deno.test("range over an integer follows Go 1.24+ semantics", () => {
  assert.equal(
    renderTemplate("t", "{{range $i := 3}}{{$i}}{{end}}|{{range 0}}x{{else}}none{{end}}", {}),
    "012|none",
  );
  const e = templateError(() => renderTemplate("t", "{{range .n}}{{end}}", { n: 3 }));
  assert.match(e.message, /range can't iterate over 3$/);
});

Deno.test("template recursion stops at the depth limit", () => {
  const e = templateError(() =>
    renderTemplate("t", `{{define "r"}}{{template "r"}}{{end}}{{template "r"}}`, {})
  );
  assert.match(e.message, /exceeded maximum template depth \(1000\)$/);
});

Deno.test("deeply nested parentheses fail cleanly", () => {
  const text = "{{" + "(".repeat(2000) + "1" + ")".repeat(2000) + "}}";
  const e = templateError(() => parseTemplate("t", text));
  assert.match(e.message, /max expression depth exceeded$/);
});

Deno.test("map lookups only see the data's own keys", () => {
  const data = JSON.parse('{"__proto__": {"x": 1}, "a": {}}');
  const out = renderTemplate(
    "t",
    `{{.constructor}} {{.a.toString}} {{index .a "hasOwnProperty"}} {{.__proto__.x}} {{len .a}}`,
    data,
  );
  assert.equal(out, "<no value> <no value> <no value> 1 0");
});
