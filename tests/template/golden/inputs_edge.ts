/**
 * Golden cases: lexer corner cases, formatting corner cases, type names in errors.
 *
 * @module
 */

import { add, deviates } from "./case_list.ts";

// --- lexer corners ---
add("lex/no-spaces-pipe", "{{.str|len}}|{{.str| len}}|{{.str |len}}");
add("lex/adjacent-actions", "{{.str}}{{.n}}{{.t}}");
add("lex/adjacent-strings", `{{"a""b"}}`);
add("lex/declare-no-spaces", "{{$x:=1}}{{$x}}");
add("lex/assign-no-spaces", "{{$x:=1}}{{$x=2}}{{$x}}");
add("lex/range-comma-no-space", "{{range $i,$v := .arr}}{{$i}}{{$v}}{{end}}");
add("lex/delims-in-string", `{{"{{"}}{{"}}"}}{{print "}}" "{{"}}`);
add("lex/empty-action-spaces", "{{ }}");
add("lex/trim-empty-action", "{{- }}");
add("lex/minus-alone", "{{-}}");
add("lex/space-minus-delim", "{{ -}}");
add("lex/comment-two-enders", "{{/* a */ b */}}");
add("lex/comment-tab-trim", "a {{- /* x */\t-}} b");
add("lex/only-whitespace", "  \n\t ");
add("lex/only-comment", "{{/* nothing */}}");
add("lex/crlf-lines", "a\r\n{{.str}}\r\nb\r\n");
add("lex/unicode-text-around", "→ {{.str}} ←");
add("lex/deep-parens", "{{((((.str))))}}|{{len (((.arr)))}}");
add("lex/keyword-like-field", "{{.if}}{{.range}}{{.end}}", { if: 1, range: 2, end: 3 });
add("lex/nil-field-name", "{{.nil}}", { nil: "x" });
add("lex/true-field-name", "{{.true}}", { true: "y" });
add("lex/number-field", "{{.1}}", { "1": "one" });
add("lex/field-digit-start", "{{.a1b2}}", { a1b2: "ok" });
add("lex/variable-digits", "{{$1 := 5}}{{$1}}");
add("lex/variable-unicode", "{{$é := 5}}{{$é}}");
add("lex/plus-number", "{{+3}}|{{print +3 -3}}");
add("lex/char-escape-hex", String.raw`{{'\x41'}} {{'\u00e9'}} {{'\101'}}`);
add("lex/string-octal-escape", String.raw`{{"\101\102"}}`);
add("lex/string-unicode-escape", String.raw`{{"caf\u00e9 \U0001F600"}}`);
add("lex/raw-with-quotes", "{{`a\"b'c\\d`}}");
add("lex/raw-crlf", "{{`a\r\nb`}}");

// --- printing corners ---
add("out/print-chain", `{{"a" | print "b" | print "c"}}|{{1 | print 2}}`);
add("out/print-float-int", "{{print 1.5 2}}|{{print true \"x\" false}}|{{print 'a'}}");
add("out/int64-limits", "{{9223372036854775807}} {{-9223372036854775808}} {{0x7FFFFFFFFFFFFFFF}}");
add("out/negative-zero", '{{-0.0}} {{printf "%v %.1f" -0.0 -0.0}}');
deviates(
  "out/float-literal-exp",
  "{{1e-5}} {{0.1}} {{1e21}} {{1e100}}",
  "number-format",
  "0.00001 0.1 1e+21 1e+100",
);
add("out/float-data-values", "{{.a}} {{.b}} {{.c}} {{.d}} {{.e}}", {
  a: 0.1,
  b: 0.30000000000000004,
  c: 123456.5,
  d: -2.5,
  e: 100000,
});
deviates(
  "out/float-data-large",
  "{{.a}} {{.b}} {{.c}}",
  "number-format",
  "123456789 9007199254740992 1e+21",
  { a: 123456789, b: 9007199254740993, c: 1e21 },
);
add("out/null-in-print", '{{print .nul}} {{printf "%v|%s|%d" .nul .nul .nul}}');
add("out/string-specials", "{{.html}} {{.ctrl}}");
add("printf/v-width-string", `{{printf "%5.2v|%.3v|%-6v|" .f .str .t}}`);
add("printf/x-float-data", `{{printf "%x|%X" .n .f}}`);
add(
  "printf/e-g-cases",
  `{{printf "%e|%g|%G|%.2e|%.2f|%.3g|%g" 0.000123 1e-7 1e21 9.995 2.675 0.0001234 123456789.0}}`,
);
add(
  "printf/round-half-even",
  `{{printf "%.1f %.1f %.1f %.0f %.0f %.2f" 0.25 0.35 -0.05 -0.5 3.5 1.125}}`,
);
add(
  "printf/unicode-verbs",
  `{{printf "%U|%#U|%q|%+q|%c" 0x1F600 0x1F600 0x1F600 0x1F600 0x1F600}}`,
);
add("printf/q-precision", `{{printf "%.1q|%08q|%-8q|" "abc" "a" "a"}}`);
add("printf/int-flags-more", `{{printf "%-08d|%+d|% x|%#o|%#x|%.0x|%b|%o" 5 -5 -255 0 0 0 -5 -8}}`);
add("printf/percent-width", `{{printf "%6.2f%%|%5%|%-5%|" 12.3456}}`);
add("printf/nil-verbs", `{{printf "%v|%s|%t|%d|%T" nil nil .nope .nope nil}}`);
add("printf/star-reorder", `{{printf "%[2]*[1]d|%[3]*.[2]*[1]f" 12 5 6}}`);
add("printf/reorder-no-extra", `{{printf "%[1]d %[1]d %d" 1 2}}`);
add("printf/int-limits", `{{printf "%d|%x|%b" 9223372036854775807 -9223372036854775808 7}}`);
add("printf/c-data", `{{printf "%c|%c" .n 9731}}`);
add("printf/x-map", `{{printf "%x" .m}}`);
add("printf/d-map", `{{printf "%d|%s" .m .nested.a}}`);
deviates("printf/v-empty", `{{printf "%v %v" .emptyArr .emptyMap}}`, "json-print", "[] {}");
add("printf/long-format", `{{printf "%s=%d;%s=%.1f;%s=%t;%s=%q" "a" 1 "b" 2.5 "c" true "d" "e"}}`);
add("printf/args-from-data", `{{printf "%s is %v years, %s" .name .age .city}}`, {
  name: "Ada",
  age: 36,
  city: "London",
});
add("printf/sharp-v-string", `{{printf "%#v|%#v|%#v" "a\"b" 5 true}}`);

// --- comparisons and conditions ---
add("cond/gt-len", "{{if gt (len .arr) 2}}many{{end}}");
add("cond/and-eq-index", `{{if and (gt (len .arr) 0) (eq (index .arr 0) "a")}}first-a{{end}}`);
add("cond/separator", "{{range $i, $e := .arr}}{{if gt $i 0}}, {{end}}{{$e}}{{end}}");
add("cond/eq-char-int", "{{eq 'a' 97}}");
deviates("cond/eq-float-literal-int", "{{eq 1.0 1}}|{{lt 1 1.5}}", "numeric-compare", "true|true");
add("cond/ne-string-int", "{{ne .str 1}}", undefined, {
  deviation: "go-version",
  ours: {
    error:
      `template: agent.prompt:1:2: executing "agent.prompt" at <ne .str 1>: error calling ne: incompatible types for comparison: string and int`,
  },
});
add("cond/eq-null-missing", "{{eq .nul .nope}}");
add("cond/eq-bool-literal", "{{if eq .t true}}yes{{end}}");
add("cond/or-missing-string", "{{if or .nope .str}}{{or .nope .str}}{{end}}");
add("cond/empty-branches", "[{{if .t}}{{else}}{{end}}][{{range .arr}}{{else}}{{end}}]");
add("cond/not-not", "{{not (not .str)}}");
add("cond/if-string-false", `{{if "false"}}truthy{{end}}{{if "0"}} also{{end}}`);

// --- type names in field errors ---
add("types/var-array-field", "{{$a := .arr}}{{$a.x}}");
add("types/var-map-ok", "{{$m := .m}}{{$m.a}}{{$m.zz}}");
add("types/with-array-field", "{{with .arr}}{{.x}}{{end}}");
add("types/with-number-field", "{{with .n}}{{.x}}{{end}}");
add("types/with-bool-field", "{{with .t}}{{.x}}{{end}}");
add("types/chain-index-field", "{{(index .objs 0).name.x}}");
add("types/array-field-direct", "{{.objs.name}}");
add("types/range-var-number-field", "{{range $v := .nums}}{{$v.x}}{{end}}");
add("types/range-map-value-field", "{{range .m}}{{.x}}{{end}}");
add("types/range-int-field", "{{range 2}}{{.x}}{{end}}");
add("types/dollar-on-array", "{{$.x}}", [1]);
add("types/dot-number-top", "{{.x}}", 5);
add("types/template-dot-field", `{{define "t"}}{{.x}}{{end}}{{template "t" .str}}`);
add("types/literal-chain", "{{(1).x}}");
add("types/printf-format-array", "{{printf .arr}}");
add("types/printf-format-bool", "{{printf true}}");

// --- more define/template/trim ---
add(
  "tmpl/trimmed-define",
  `{{- define "x" -}}
  body {{ . }}
{{- end -}}
[{{ template "x" 1 }}]`,
);
add("tmpl/trimmed-block", `a {{- block "b" . }} B {{ end -}} c`);
add(
  "tmpl/range-in-define",
  `{{define "list"}}{{range .}}<{{.}}>{{end}}{{end}}{{template "list" .arr}}{{template "list" .emptyArr}}`,
);
add(
  "tmpl/nested-calls-dot",
  `{{define "a"}}a({{template "b" .x}}){{end}}{{define "b"}}b({{.}}){{end}}{{template "a" .}}`,
  { x: "X" },
);
add("tmpl/define-in-middle", `start {{define "x"}}X{{end}} end`);
add(
  "tmpl/template-pipeline-decl-scope",
  `{{define "t"}}{{.}}{{end}}{{if .t}}{{template "t" $y := 2}}{{$y}}{{end}}`,
);
