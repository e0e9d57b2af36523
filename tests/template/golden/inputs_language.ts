/**
 * Golden cases: text, fields, comments, trim markers and literals.
 *
 * @module
 */

import { add, deviates } from "./case_list.ts";

// --- Text, actions, comments (package doc: "Actions") ---
add("text/plain", "just text, no actions");
add("text/empty", "");
add("text/braces", "a { b } c }} d");
add("text/unicode", "héllo 😀 {{.str}}");
add("field/simple", "{{.str}}");
add("field/missing", "{{.nope}}");
add("field/missing-chain", "{{.nope.deeper.still}}");
add("field/null", "{{.nul}}");
add("field/null-chain", "{{.nul.x}}");
add("field/on-string", "{{.str.x}}");
add("field/on-number", "{{.n.x}}");
add("field/on-array", "{{.arr.x}}");
add("field/deep", "{{.nested.a.b.c}}");
add("field/unicode-name", "{{.héllo}}", { "héllo": "unicode key" });
add("field/case-sensitive", "{{.Str}}|{{.str}}");
add("field/dash-via-index", `{{index .headers "x-github-event"}}`);
add("field/dash-direct", "{{.headers.x-github-event}}");
add("field/underscore-digits", "{{._a1}}", { _a1: "ok" });
add("field/top-level-array", "{{.x}}", [1, 2]);
add("field/nil-data", "{{.x}}|{{.}}", null);
add("field/string-data", "{{.}}", "plain");
add("field/args", "{{.str 1}}");
add("field/final-arg", "{{1 | .str}}");
add("field/missing-with-args", "{{.nope.x 1}}");
add("dot/bool", "{{.t}} {{.fls}}");
add("dot/number-int", "{{.n}} {{.zero}} {{.neg}}");
add("dot/number-float", "{{.f}}");
deviates("dot/number-million", "{{.big}}", "number-format", "1000000");
deviates("dot/number-tiny", "{{.tiny}}", "number-format", "0.00001");
deviates("dot/map", "{{.m}}", "json-print", `{"a":1,"b":2,"c":3}`);
deviates("dot/array", "{{.arr}}", "json-print", `["a","b","c"]`);
deviates("dot/empty-map-array", "{{.emptyMap}} {{.emptyArr}}", "json-print", "{} []");
deviates("dot/mixed-array", "{{.mixed}}", "json-print", `[1,"two",true,null,{"k":"v"},[5]]`);
add("dollar/root", "{{$.str}}{{with .nested}}{{$.str}}{{end}}");
add("comment/simple", "a{{/* a comment */}}b");
add("comment/trimmed", "a  {{- /* a comment with white space trimmed */ -}}  b");
add("comment/multiline", "a{{/* line 1\nline 2 */}}b");
add("comment/empty", "a{{/**/}}b");
add("comment/braces-inside", "a{{/* }} {{ */}}b");
add("comment/left-trim-only", "a \n {{- /* x */}} b");
add("comment/right-trim-only", "a {{/* x */ -}} \n b");

// --- Trim markers ---
add("trim/doc-example", "{{23 -}} < {{- 45}}");
add("trim/both", "a  {{- .str -}}  b");
add("trim/newlines", "a\n\n\t{{- .str -}}\n\n\tb");
add("trim/crlf", "a\r\n{{- .str -}}\r\nb");
add("trim/left-only", "a   {{- .str}}   b");
add("trim/right-only", "a   {{.str -}}   b");
add("trim/negative-number", "{{-3}}");
add("trim/negative-number-trimmed", "x {{- -3 -}} y");
add("trim/minus-no-space-right", "{{3-}}");
add("trim/minus-space-then-delim", "{{3 - }}");
add("trim/tab-marker", "a \t{{-\t.str\t-}}\t b");
add("trim/newline-marker", "a \n{{-\n.str\n-}}\n b");
add("trim/double-space", "a {{-  .str  -}} b");
add("trim/in-range", "{{range .arr -}}\n  {{.}}\n{{- end}}");
add("trim/all-whitespace", "  \n  {{- .str -}}  \n  ");
add("trim/between-actions", "{{.str -}} {{- .str}}");
add("trim/if-blocks", "{{if .t -}}\n  yes\n{{- else -}}\n  no\n{{- end}}");
add("trim/empty-text", "{{- .str -}}");

// --- Literals ---
add("literal/string-escapes", String.raw`{{"\"output\""}}`);
add("literal/raw-string", '{{`"output"`}}');
add("literal/raw-multiline", "{{`a\nb`}}");
add("literal/escapes-all", String.raw`{{"a\tb\nc\\d\x41\u00e9\U0001F600\101"}}`);
add("literal/bad-escape", String.raw`{{"\q"}}`);
add("literal/single-quote-in-string", String.raw`{{"\'"}}`);
add("literal/char", "{{'a'}} {{'\\n'}} {{'\\''}} {{'é'}}");
add("literal/char-printf", `{{printf "%c%c" 'h' 'i'}}`);
add("literal/char-malformed", "{{'ab'}}");
add("literal/char-empty", "{{''}}");
add("literal/char-unterminated", "{{'a}}");
add("literal/ints", "{{1}} {{-1}} {{+5}} {{0}} {{-0}}");
add("literal/bases", "{{0x1F}} {{0X1f}} {{0o17}} {{017}} {{0b101}} {{1_000_000}} {{0x_FF}}");
add("literal/floats", "{{1.5}} {{1.0}} {{.5}} {{1.}} {{1e3}} {{1E-2}} {{+1.25}} {{1_0.5}}");
deviates("literal/float-exp", "{{1e6}} {{1.5e-7}}", "number-format", "1000000 1.5e-7");
add("literal/hex-float", "{{0x1p-2}} {{0x1.8p1}}");
add("literal/complex", "{{1i}} {{1+2i}} {{-1.5-2.5i}} {{0i}}");
add("literal/bools", "{{true}} {{false}}");
add("literal/octal-invalid", "{{08}}");
add("literal/int-overflow", "{{99999999999999999999}}");
add("literal/uint-overflows-int", "{{18446744073709551615}}");
add("literal/float-overflow", "{{1e400}}");
add("literal/bad-number", "{{3x}}");
add("literal/bad-number-dots", "{{1.2.3}}");
add("literal/bad-underscore", "{{1__0}}");
add("literal/exponent-missing", "{{1e}}");
add("literal/nil-command", "{{nil}}");
add("literal/nil-arg", "{{print nil}}");
add("literal/nil-field", "{{nil.x}}");
add("literal/string-field", `{{"x".y}}`);
add("literal/dot-field", "{{..x}}");
