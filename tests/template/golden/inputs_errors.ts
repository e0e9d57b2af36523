/**
 * Golden cases: parse errors (with their line numbers) and execution errors.
 *
 * @module
 */

import { add } from "./case_list.ts";

// --- parse errors ---
add("parse/unclosed-action", "{{.str");
add("parse/unclosed-action-space", "{{.str ");
add("parse/unclosed-action-multiline", "line 1\n{{if .t\n.x");
add("parse/unexpected-eof-if", "{{if .t}}a");
add("parse/unexpected-eof-range", "{{range .arr}}\n{{.}}\n");
add("parse/unexpected-eof-with-else", "{{with .t}}a{{else}}b");
add("parse/unexpected-end", "a\n{{end}}");
add("parse/unexpected-else", "{{else}}");
add("parse/else-if-top", "{{else if .t}}");
add("parse/double-else", "{{if .t}}a{{else}}b{{else}}c{{end}}");
add("parse/range-double-else", "{{range .arr}}{{else}}{{else}}{{end}}");
add("parse/with-else-if", "{{with .t}}a{{else if .x}}b{{end}}");
add("parse/if-else-with", "{{if .t}}a{{else with .x}}b{{end}}");
add("parse/range-else-if", "{{range .arr}}a{{else if .x}}b{{end}}{{end}}");
add("parse/else-junk", "{{if .t}}a{{else .x}}b{{end}}");
add("parse/end-junk", "{{if .t}}a{{end .x}}");
add("parse/missing-value-if", "{{if}}x{{end}}");
add("parse/missing-value-range", "{{range}}x{{end}}");
add("parse/missing-value-with", "{{with}}x{{end}}");
add("parse/missing-value-command", "{{}}");
add("parse/missing-value-decl", "{{$x := }}");
add("parse/function-not-defined", "{{foo .str}}");
add("parse/function-not-defined-chain", "{{a.b}}");
add("parse/undefined-variable", "{{$y}}");
add("parse/undefined-variable-field", "{{$y.x}}");
add("parse/bad-character-field", "{{.a-b}}");
add("parse/bad-character-ident", "{{print$}}");
add("parse/unrecognized-character", "{{.str ¿}}");
add("parse/unexpected-char", "{{@}}");
add("parse/unexpected-comma", "{{print 1, 2}}");
add("parse/unexpected-dot-after-field", "{{.a.}}");
add("parse/double-dot", "{{.a..b}}");
add("parse/unclosed-paren", "{{(.str}}");
add("parse/unclosed-paren-nested", "{{print (len (.str)}}");
add("parse/unexpected-right-paren", "{{.str)}}");
add("parse/right-paren-alone", "{{)}}");
add("parse/unterminated-string", `{{"abc}}`);
add("parse/unterminated-string-newline", `{{"abc` + "\n" + `def"}}`);
add("parse/unterminated-raw", "{{`abc}}");
add("parse/unterminated-raw-multiline", "a\n{{`abc\n\ndef}}\n");
add("parse/unterminated-char", "{{'a}}");
add("parse/unclosed-comment", "{{/* abc");
add("parse/comment-no-delim", "{{/* abc */ }}");
add("parse/comment-space-before", "{{ /* abc */ }}");
add("parse/expected-colon-equals", "{{$x : 1}}");
add("parse/colon-alone", "{{:}}");
add("parse/assign-undeclared", "{{$x = 1}}");
add("parse/equals-alone", "{{=}}");
add("parse/too-many-decl-with", "{{with $x, $y := .t}}{{end}}");
add("parse/pipe-alone", "{{|}}");
add("parse/double-pipe", "{{.str || len}}");
add("parse/number-then-ident", "{{3 abc}}");
add("parse/keyword-as-arg", "{{print if}}");
add("parse/end-in-pipeline", "{{print end}}");
add("parse/define-inside-if", `{{if .t}}{{define "x"}}{{end}}{{end}}`);
add("parse/define-no-name", "{{define}}{{end}}");
add("parse/template-no-name", "{{template}}");
add("parse/block-no-name", "{{block}}{{end}}");
add("parse/template-extra", `{{template "x" . .}}`);
add("parse/long-token-quoted", "{{.str abcdefghijklmnop}}");
add("parse/long-string-token", `{{if "abcdefghijklmnopqrstuvwxyz"}}`);
add("parse/error-line-3", "line 1\nline 2\n  {{.a | foo}}");
add("parse/error-after-multiline-comment", "{{/* a\nb\nc */}}\n{{$nope}}");
add("parse/error-after-raw-string", "{{`a\nb`}}\n{{$nope}}");
add("parse/error-after-trim", "a\n\n{{- .x -}}\n\n{{$nope}}");
add("parse/lex-error-other-line", '{{if .t\n"abc}}');
add("parse/unclosed-action-other-line", "{{if\n.t");
add("parse/unclosed-action-nl-inside", "{{.x\n");
add("parse/break-extra", "{{range .arr}}{{break .}}{{end}}");
add("parse/trim-then-eof", "{{- ");
add("parse/only-left-delim", "{{");
add("parse/nested-define", `{{define "a"}}{{define "b"}}{{end}}{{end}}`);

// --- execution errors ---
add("exec/index-out-of-range", "{{index .arr 10}}");
add("exec/wrong-args-len", "{{len}}");
add("exec/wrong-args-variadic", "{{index}}");
add("exec/wrong-args-printf", "{{printf}}");
add("exec/field-on-string", "{{.str.length}}");
add("exec/field-on-string-var", "{{$s := .str}}{{$s.length}}");
add("exec/field-on-number-pipe", "{{(.n).x}}");
add("exec/field-on-bool", "{{.t.x}}");
add("exec/field-nil-pointer", "{{.nul.x.y}}");
add("exec/field-nil-in-array", "{{range .mixed}}{{.k}}{{end}}");
add("exec/slice-bounds", "{{slice .arr 1 7}}");
add("exec/slice-string-bounds", `{{slice .str 3 1}}`);
add("exec/nil-command", "{{nil}}");
add("exec/arg-to-non-function", "{{.str 1}}");
add("exec/range-string", "{{range .str}}{{end}}");
add("exec/range-number", "{{range .f}}{{end}}");
add("exec/error-position-line-2", "ok\n  {{index .arr 9}}");
add("exec/error-position-unicode", "héllo wörld {{index .arr 9}}");
add("exec/error-in-range-body", "{{range .arr}}\n{{.x}}{{end}}");
add("exec/error-in-if-pipeline", "{{if index .arr 9}}{{end}}");
add("exec/error-context-pipe", `{{.str | printf "%s" | index .arr 1 | len}}`);
add("exec/error-context-parens", "{{print (index .arr 5)}}");
add("exec/partial-output", "before {{.str}} {{index .arr 9}} after");
add("exec/percent-in-context", `{{printf "%d%%" (index .arr 9)}}`);
add("exec/eq-incompatible-in-if", `{{if eq .str 1}}{{end}}`, undefined, {
  deviation: "go-version",
  ours: {
    error:
      `template: agent.prompt:1:5: executing "agent.prompt" at <eq .str 1>: error calling eq: incompatible types for comparison: string and int`,
  },
});
add("exec/template-undefined-in-define", `{{define "a"}}{{template "b"}}{{end}}{{template "a"}}`);
add("exec/error-in-define-line", `{{define "a"}}\n\n{{.str.y}}{{end}}{{template "a" .}}`);
add("exec/with-arg-error", "{{with index .arr 9}}{{end}}");
add("exec/field-args-chain", `{{.nested.a "x"}}`);
