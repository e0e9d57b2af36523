/**
 * Golden cases: if, with, range, variables, pipelines, define/template/block.
 *
 * @module
 */

import { add } from "./case_list.ts";

// --- if / else if / else ---
add("if/true", "{{if .t}}yes{{end}}");
add("if/false-else", "{{if .fls}}yes{{else}}no{{end}}");
add("if/else-if", "{{if .fls}}a{{else if .zero}}b{{else if .str}}c{{else}}d{{end}}");
add("if/else-if-final-else", "{{if .fls}}a{{else if .zero}}b{{else}}d{{end}}");
add(
  "if/truthiness",
  `{{range $k, $v := .}}{{$k}}={{if $v}}T{{else}}F{{end}} {{end}}`,
  { s: "", s2: "0", z: 0, f: 0.0, f2: 0.5, a: [], a2: [0], m: {}, m2: { k: 0 }, n: null, b: false },
);
add("if/missing", "{{if .nope}}yes{{else}}no{{end}}");
add("if/declare", "{{if $x := .str}}{{$x}}{{end}}");
add("if/declare-in-else", "{{if $x := .empty}}yes{{else}}[{{$x}}]{{end}}");
add("if/nested", "{{if .t}}{{if .fls}}a{{else}}b{{end}}{{end}}");
add("if/pipeline", `{{if .str | len | eq 5}}five{{end}}`);
add("if/not", "{{if not .empty}}empty{{end}}");
add("if/and-or", "{{if and .t (or .fls .str)}}ok{{end}}");

// --- with ---
add("with/basic", "{{with .nested.a}}{{.b.c}}{{end}}");
add("with/else", "{{with .nope}}x{{else}}none{{end}}");
add("with/empty-string", "{{with .empty}}x{{else}}empty{{end}}");
add("with/declare", "{{with $v := .str}}{{$v}}/{{.}}{{end}}");
add("with/else-with", "{{with .nope}}a{{else with .str}}b:{{.}}{{else}}c{{end}}");
add("with/else-with-chain", "{{with .nope}}a{{else with .empty}}b{{else with .n}}{{.}}{{end}}");
add("with/else-with-none", "{{with .nope}}a{{else with .empty}}b{{end}}");
add("with/dot-restored", "{{with .nested}}{{with .a}}{{.b.c}}{{end}}{{.list}}{{end}}", {
  nested: { a: { b: { c: "x" } }, list: "L" },
});
add("with/field-on-string", "{{with .str}}{{.x}}{{end}}");

// --- range ---
add("range/array", "{{range .arr}}[{{.}}]{{end}}");
add("range/index-value", "{{range $i, $v := .arr}}{{$i}}={{$v}} {{end}}");
add("range/single-var", "{{range $v := .arr}}{{$v}}{{end}}");
add("range/map-sorted", "{{range $k, $v := .m}}{{$k}}:{{$v}} {{end}}");
add("range/map-values", "{{range .m}}{{.}}{{end}}");
add("range/map-unicode-keys", "{{range $k, $v := .}}{{$k}} {{end}}", {
  "b": 1,
  "a": 1,
  "é": 1,
  "😀": 1,
  "ｚ": 1,
  "Z": 1,
  "_": 1,
});
add("range/empty-else", "{{range .emptyArr}}x{{else}}empty{{end}}");
add("range/missing-else", "{{range .nope}}x{{else}}none{{end}}");
add("range/null-else", "{{range .nul}}x{{else}}nil{{end}}");
add("range/empty-map-else", "{{range .emptyMap}}x{{else}}nomap{{end}}");
add("range/objects", "{{range .objs}}{{.name}}={{.v}};{{end}}");
add("range/nested", "{{range .nested.list}}({{range .}}{{.}}{{end}}){{end}}");
add("range/break", "{{range .nums}}{{if eq . 1.0}}{{break}}{{end}}{{.}}{{end}}");
add("range/continue", "{{range .nums}}{{if eq . 1.0}}{{continue}}{{end}}{{.}}{{end}}");
add(
  "range/break-nested-if",
  '{{range $i, $v := .arr}}{{if $i}}{{if eq $v "c"}}{{break}}{{end}}{{end}}{{$v}}{{end}}',
);
add("range/break-inner-only", "{{range .nested.list}}<{{range .}}{{break}}{{end}}>{{end}}");
add("range/int", "{{range 3}}{{.}}{{end}}");
add("range/int-var", "{{range $i := 4}}{{$i}},{{end}}");
add("range/int-zero-else", "{{range 0}}x{{else}}zero{{end}}");
add("range/int-negative-else", "{{range -2}}x{{else}}neg{{end}}");
add("range/int-two-vars", "{{range $i, $v := 3}}{{end}}");
add("range/float-data", "{{range .n}}{{.}}{{end}}");
add("range/string", "{{range .str}}{{.}}{{end}}");
add("range/bool", "{{range true}}{{end}}");
add("range/vars-scope", "{{range $i, $v := .arr}}{{end}}{{$i}}");
add("range/dollar-inside", "{{range .arr}}{{$.str}}{{end}}");
add("range/assign-vars", '{{$i := 0}}{{$e := ""}}{{range $i, $e = .arr}}{{end}}{{$i}} {{$e}}');
add("range/assign-one-var", '{{$e := ""}}{{range $e = .arr}}{{end}}{{$e}}');
add("range/var-shadow", '{{$v := "outer"}}{{range $v := .arr}}{{$v}}{{end}}{{$v}}');
add("range/decl-in-body", "{{range .arr}}{{$x := .}}{{$x}}{{end}}");
add("range/element-field-on-string", "{{range .arr}}{{.x}}{{end}}");
add("range/element-null-field", "{{range .mixed}}{{.k}}{{end}}");
add("range/element-var-field", "{{range $v := .arr}}{{$v.x}}{{end}}");
add("range/three-vars", "{{range $a, $b, $c := .arr}}{{end}}");
add("range/comma-non-var", "{{range $a, 3 := .arr}}{{end}}");
add("range/break-outside", "{{break}}");
add("range/continue-outside", "{{if .t}}{{continue}}{{end}}");
add("range/break-with-args", "{{range .arr}}{{break 1}}{{end}}");
add("range/else-break", "{{range .emptyArr}}{{else}}{{break}}{{end}}");

// --- variables ---
add("var/declare-print", "{{$x := .str}}{{$x}}");
add("var/assign", "{{$x := 1}}{{$x = 2}}{{$x}}");
add("var/assign-in-if", "{{$x := 1}}{{if .t}}{{$x = 2}}{{end}}{{$x}}");
add("var/shadow-in-if", "{{$x := 1}}{{if .t}}{{$x := 2}}{{$x}}{{end}}{{$x}}");
add("var/undefined", "{{$nope}}");
add("var/assign-undefined", "{{$nope = 1}}");
add("var/out-of-scope", "{{if .t}}{{$x := 1}}{{end}}{{$x}}");
add("var/field-chain", "{{$n := .nested}}{{$n.a.b.c}}");
add("var/field-on-string", "{{$s := .str}}{{$s.x}}");
add("var/with-args", "{{$x := 1}}{{$x 2}}");
add("var/dollar-alone", "{{$}}", "scalar");
add("var/multi-decl", "{{$x, $y := 1}}");
add("var/pipeline", `{{$x := .str | printf "%s!"}}{{$x}}`);
add("var/in-template-not-visible", `{{$x := 1}}{{define "t"}}{{$x}}{{end}}`);
add("var/dollar-in-template", `{{define "t"}}{{$}}{{end}}{{template "t" 5}}`);
add("var/decl-then-use-in-pipe", '{{$x := 3}}{{$x | printf "%d"}}');

// --- pipelines, parens, chains ---
add("pipe/doc-1", `{{printf "%q" "output"}}`);
add("pipe/doc-2", `{{"output" | printf "%q"}}`);
add("pipe/doc-3", `{{printf "%q" (print "out" "put")}}`);
add("pipe/doc-4", `{{"put" | printf "%s%s" "out" | printf "%q"}}`);
add("pipe/doc-5", `{{"output" | printf "%s" | printf "%q"}}`);
add("pipe/doc-6", `{{with "output"}}{{printf "%q" .}}{{end}}`);
add("pipe/doc-7", `{{with $x := "output" | printf "%q"}}{{$x}}{{end}}`);
add("pipe/doc-8", `{{with $x := "output"}}{{printf "%q" $x}}{{end}}`);
add("pipe/doc-9", `{{with $x := "output"}}{{$x | printf "%q"}}{{end}}`);
add("pipe/paren-field", "{{(.nested).a.b.c}}");
add("pipe/paren-index-field", "{{(index .objs 1).name}}");
add("pipe/paren-missing-field", "{{(.nope).x}}");
add("pipe/paren-string-field", "{{(.str).x}}");
add("pipe/trailing-pipe", "{{ .str | }}");
add("pipe/leading-pipe", "{{ | .str }}");
add("pipe/non-executable-stage", "{{.str | 3}}");
add("pipe/non-executable-stage-3", `{{.str | printf "%s" | "x"}}`);
add("pipe/paren-with-args", "{{(.str) 1}}");
add("pipe/dot-with-args", "{{. 1}}");
add("pipe/literal-with-args", `{{"x" 1}}`);
add("pipe/empty-parens", "{{()}}");
add("pipe/function-chain", "{{len.x}}");
add("pipe/nested-parens", `{{printf "%s-%s" (printf "%s" (print .str)) ((.str))}}`);

// --- define / template / block ---
add(
  "tmpl/doc-nested",
  `{{define "T1"}}ONE{{end}}{{define "T2"}}TWO{{end}}{{define "T3"}}{{template "T1"}} {{template "T2"}}{{end}}{{template "T3"}}`,
);
add(
  "tmpl/with-dot",
  `{{define "item"}}<{{.name}}>{{end}}{{range .objs}}{{template "item" .}}{{end}}`,
);
add("tmpl/no-pipeline-nil-dot", `{{define "t"}}[{{.}}]{{end}}{{template "t"}}`);
add("tmpl/pipeline-value", `{{define "t"}}{{.}}{{end}}{{template "t" .str | printf "%s!"}}`);
add("tmpl/undefined", `{{template "nope" .}}`);
add("tmpl/defined-later", `{{template "later"}}{{define "later"}}L{{end}}`);
add("tmpl/only-defines", `{{define "a"}}A{{end}}`);
add("tmpl/block-default", `{{block "b" .str}}[{{.}}]{{end}}`);
add("tmpl/block-then-define", `{{block "b" .}}default{{end}}{{define "b"}}override{{end}}`);
add("tmpl/define-then-block", `{{define "b"}}override{{end}}{{block "b" .}}default{{end}}`);
add("tmpl/empty-define-then-block", `{{define "b"}}{{end}}{{block "b" .str}}default {{.}}{{end}}`);
add("tmpl/redefine", `{{define "a"}}1{{end}}{{define "a"}}2{{end}}`);
add("tmpl/redefine-empty-first", `{{define "a"}}{{end}}{{define "a"}}2{{end}}{{template "a"}}`);
add("tmpl/define-main-name", `{{define "agent.prompt"}}from define{{end}}`);
add("tmpl/define-main-name-conflict", `body{{define "agent.prompt"}}from define{{end}}`);
add(
  "tmpl/recursive",
  `{{define "r"}}{{if .}}{{index . 0}}{{template "r" slice . 1}}{{end}}{{end}}{{template "r" .arr}}`,
);
add(
  "tmpl/infinite-recursion",
  `{{define "r"}}{{template "r" .}}{{end}}{{template "r"}}`,
  undefined,
  {
    deviation: "exec-depth",
    ours: {
      error:
        `template: agent.prompt:1:25: executing "r" at <{{template "r" .}}>: exceeded maximum template depth (1000)`,
    },
  },
);
add("tmpl/raw-name", "{{define `x`}}X{{end}}{{template `x`}}");
add("tmpl/name-not-string", "{{template .x}}");
add("tmpl/define-name-not-string", "{{define x}}{{end}}");
add("tmpl/define-unclosed", `{{define "a"}}A`);
add("tmpl/define-else", `{{define "a"}}A{{else}}B{{end}}`);
add("tmpl/block-else", `{{block "b" .}}A{{else}}B{{end}}`);
add("tmpl/block-missing-pipeline", `{{block "b"}}x{{end}}`);
add("tmpl/define-bad-name-escape", String.raw`{{define "\q"}}{{end}}`);
add("tmpl/template-in-range", `{{define "t"}}{{.}};{{end}}{{range .arr}}{{template "t" .}}{{end}}`);
add("tmpl/error-inside", `{{define "t"}}{{index . 9}}{{end}}{{template "t" .arr}}`);
add("tmpl/vars-from-pipeline-persist", `{{define "t"}}{{.}}{{end}}{{template "t" $x := 7}}{{$x}}`);
add("tmpl/custom-name", "{{.x}}", { x: 1 }, { templateName: "channel.topic" });
add("tmpl/custom-name-error", "{{index .x 1}}", { x: [] }, { templateName: "workspace.ref" });
