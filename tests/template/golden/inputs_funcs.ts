/**
 * Golden cases: builtin functions, comparisons, printf verbs and the html/js/urlquery escapers.
 *
 * @module
 */

import { add, deviates } from "./case_list.ts";

// --- and / or / not ---
add("logic/and-returns-deciding", `{{and 1 0 2}}|{{and 1 "x"}}|{{and "" 1}}`);
add("logic/or-returns-deciding", `{{or 0 "" "x"}}|{{or 0 ""}}|{{or 1 2}}`);
add("logic/and-short-circuit", "{{and 0 (index .arr 99)}}");
add("logic/or-short-circuit", "{{or 1 (index .arr 99)}}");
add("logic/and-no-short-circuit-error", "{{and 1 (index .arr 99)}}");
add("logic/or-missing-default", `{{or .nope "default"}}`);
add("logic/and-missing", "{{and .nope 1}}");
add("logic/and-null", "{{and .nul 1}}");
add("logic/or-final-pipeline", `{{"" | or 0}}|{{1 | and 2}}`);
add("logic/not", "{{not 0}} {{not 1}} {{not .empty}} {{not .arr}} {{not .nope}} {{not .nul}}");
add("logic/not-two-args", "{{not 1 2}}");
add("logic/and-no-args", "{{and}}");
deviates("logic/or-map", "{{or .emptyMap .m}}", "json-print", `{"a":1,"b":2,"c":3}`);

// --- comparisons ---
add("cmp/eq-strings", `{{eq .str "hello"}} {{eq .str "x"}}`);
add("cmp/eq-multi", `{{eq .str "a" "b" "hello"}} {{eq .str "a" "b"}}`);
add("cmp/eq-floats", "{{eq .n 42.0}} {{eq .f 0.25}}");
add("cmp/eq-ints", "{{eq 1 1}} {{eq 1 2}} {{eq (len .arr) 3}}");
deviates("cmp/eq-float-int", "{{eq .n 42}}", "numeric-compare", "true");
deviates("cmp/eq-float-int-false", "{{eq .n 41}}", "numeric-compare", "false");
deviates("cmp/lt-float-int", "{{lt .n 100}} {{gt .f 0}}", "numeric-compare", "true true");
deviates("cmp/eq-multi-mixed", "{{eq .n 1 42}}", "numeric-compare", "true");
add("cmp/eq-string-int", `{{eq "a" 1}}`, undefined, {
  deviation: "go-version",
  ours: {
    error:
      `template: agent.prompt:1:2: executing "agent.prompt" at <eq "a" 1>: error calling eq: incompatible types for comparison: string and int`,
  },
});
add("cmp/eq-bool", "{{eq .t true}} {{eq .fls true}}");
add("cmp/eq-missing", `{{eq .nope "x"}} {{eq .nope .nope2}} {{eq .nul nil}} {{eq .nope nil}}`);
add("cmp/eq-arrays", "{{eq .arr .arr}}");
add("cmp/eq-maps", "{{eq .m .m}}");
add("cmp/eq-array-map", "{{eq .arr .m}}", undefined, {
  deviation: "json-print",
  ours: {
    error:
      `template: agent.prompt:1:2: executing "agent.prompt" at <eq .arr .m>: error calling eq: non-comparable types [a b c]: []interface {}, map[string]interface {}: {"a":1,"b":2,"c":3}`,
  },
});
add("cmp/eq-array-nil", "{{eq .arr nil}}");
add("cmp/eq-no-args", "{{eq}}");
add("cmp/eq-one-arg", "{{eq 1}}");
add("cmp/ne", `{{ne .str "x"}} {{ne 1 1}}`);
add("cmp/ne-three-args", "{{ne 1 2 3}}");
add("cmp/lt-strings", `{{lt "a" "b"}} {{lt "b" "a"}} {{lt "B" "a"}} {{lt "é" "z"}}`);
add("cmp/lt-ints", "{{lt 1 2}} {{le 2 2}} {{gt 3 2}} {{ge 2 3}}");
add("cmp/lt-floats", "{{lt .f .n}} {{le .n .n}} {{gt .neg .zero}} {{ge .f 0.25}}");
add("cmp/lt-bool", "{{lt true false}}");
add("cmp/lt-array", "{{lt .arr 1}}");
add("cmp/lt-missing", "{{lt .nope 1}}");
add("cmp/lt-string-int", `{{lt "a" 1}}`, undefined, {
  deviation: "go-version",
  ours: {
    error:
      `template: agent.prompt:1:2: executing "agent.prompt" at <lt "a" 1>: error calling lt: incompatible types for comparison: string and int`,
  },
});
add("cmp/le-string-int", `{{le "a" 1}}`, undefined, {
  deviation: "go-version",
  ours: {
    error:
      `template: agent.prompt:1:2: executing "agent.prompt" at <le "a" 1>: error calling le: incompatible types for comparison: string and int`,
  },
});
add("cmp/lt-complex", "{{lt 1i 2i}}");
add("cmp/eq-complex", "{{eq 1i 1i}} {{eq 1i 2i}}");
add("cmp/pipeline-final", `{{.str | eq "hello"}}`);

// --- len / index / slice ---
add("len/string-bytes", `{{len .str}} {{len .uni}} {{len ""}}`);
add("len/array-map", "{{len .arr}} {{len .m}} {{len .emptyArr}}");
add("len/number", "{{len 3}}");
add("len/float-data", "{{len .n}}");
add("len/missing", "{{len .nope}}");
add("len/null", "{{len .nul}}");
add("len/no-args", "{{len}}");
add("len/two-args", "{{len .arr .arr}}");
add("index/array", "{{index .arr 0}}{{index .arr 2}}");
add("index/nested-multi", "{{index .nested.list 0 1}}");
add("index/map", `{{index .m "b"}} {{index .headers "x-github-event"}}`);
add("index/map-missing", `{{index .m "zz"}}|`);
add("index/map-missing-then-more", `{{index .m "zz" "y"}}`);
add("index/map-nested", `{{index .nested "a" "b" "c"}}`);
add("index/string-byte", `{{index .str 1}} {{index "é" 0}}`);
add("index/out-of-range", "{{index .arr 5}}");
add("index/at-length", "{{index .arr 3}}");
add("index/string-at-length", `{{index "abc" 3}}`);
add("index/negative", "{{index .arr -1}}");
add("index/float-index", "{{index .arr 1.5}}");
add("index/float-data-index", "{{index .arr .zero}}");
add("index/string-key-on-array", `{{index .arr "a"}}`);
add("index/int-key-on-map", "{{index .m 1}}");
add("index/nil-key-on-map", "{{index .m nil}}");
add("index/on-number", "{{index 1 0}}");
add("index/on-nil", "{{index nil 0}}");
add("index/on-missing", "{{index .nope 0}}");
add("index/on-null", "{{index .nul 0}}");
add("index/null-element", "{{index .mixed 3 0}}");
add("index/no-indexes", "{{index .str}}");
add("index/no-args", "{{index}}");
add("index/nil-index", "{{index .arr nil}}");
add("slice/string", `{{slice .str 1 3}} {{slice .str 2}} {{slice .str}}`);
deviates(
  "slice/array",
  "{{slice .arr 1}} {{slice .arr 0 2}} {{slice .arr 1 2 3}}",
  "json-print",
  `["b","c"] ["a","b"] ["b"]`,
);
add("slice/array-range", "{{range slice .arr 1}}{{.}}{{end}}");
add("slice/string-3-index", `{{slice "abc" 1 2 3}}`);
add("slice/reversed", "{{slice .arr 2 1}}");
add("slice/out-of-range", `{{slice "abc" 0 4}}`);
add("slice/on-number", "{{slice 1 0}}");
add("slice/on-nil", "{{slice nil}}");
add("slice/too-many", "{{slice .arr 1 2 3 4}}");
add("slice/3-index-reversed", "{{slice .arr 0 3 2}}");

// --- print / println / printf basics ---
add(
  "print/spacing",
  `{{print 1 2}}|{{print "a" 1}}|{{print 1 "a"}}|{{print "a" "b"}}|{{print 1 2 "c" 3 4}}`,
);
add("print/types", "{{print .t .n .f .str .nul .nope}}");
add("print/no-args", "{{print}}|{{println}}|");
add("println/spacing", `{{println 1 "a" "b" 2}}`);
deviates("print/array", "{{print .arr}}", "json-print", `["a","b","c"]`);
deviates("print/map", "{{print .m 1}}", "json-print", `{"a":1,"b":2,"c":3} 1`);
add("print/complex", "{{print 1i 2.5}}");

// --- printf verbs ---
add("printf/v", `{{printf "%v %v %v %v" .str .n .t .nul}}`);
add(
  "printf/d",
  `{{printf "%d|%+d|% d|%5d|%-5d|%05d|%-05d|%.3d|%08.3d" 42 42 42 42 42 42 42 42 -42}}`,
);
add("printf/d-zero-prec", `{{printf "%.0d|%5.0d|" 0 0}}`);
add("printf/d-float-data", `{{printf "%d" .n}}`);
add("printf/d-string", `{{printf "%d" "hi"}}`);
add("printf/d-bool", `{{printf "%d" true}}`);
add("printf/d-nil", `{{printf "%d" nil}}`);
add("printf/d-missing", `{{printf "%d" .nope}}`);
add("printf/x-int", `{{printf "%x|%X|%#x|%#X|%08x|%x" 255 255 255 255 255 -255}}`);
add("printf/o-b", `{{printf "%o|%#o|%O|%b|%#b" 8 8 8 5 5}}`);
add("printf/c-q-U", `{{printf "%c|%q|%U|%#U|%c" 65 65 9731 9731 -1}}`);
add("printf/q-rune-special", String.raw`{{printf "%q|%q|%+q" '\'' '"' 'é'}}`);
add(
  "printf/e-f-g",
  `{{printf "%e|%E|%f|%.2f|%8.3f|%-8.3f|%g|%G" 1234.5678 1234.5678 1234.5678 1234.5678 3.14159 3.14159 1234.5678 0.000012345}}`,
);
add("printf/f-rounding", `{{printf "%.0f %.0f %.0f %.1f %.1f %.2f" 0.5 1.5 2.5 0.05 0.25 1.005}}`);
add(
  "printf/g-precision",
  `{{printf "%.3g|%.10g|%g|%g|%g|%.0g" 1234.5678 1234.5678 100000.0 1000000.0 0.0001 5.0}}`,
);
add("printf/e-zero", `{{printf "%e|%f|%g|%v" 0.0 0.0 0.0 0.0}}`);
add(
  "printf/float-flags",
  `{{printf "%+.2f|% .2f|%08.2f|%-8.2f|%+08.2f|%#g|%#.3e|%#f" 3.14159 3.14159 -3.14159 3.14159 3.14159 1.0 2.0 3.0}}`,
);
add("printf/float-data", `{{printf "%.2f|%5.1f|%e|%g" .n .f .n .f}}`);
add("printf/b-x-float", `{{printf "%b|%x|%X|%.2x" 1.0 1.5 -0.1 3.3}}`);
add("printf/float-int-verb", `{{printf "%d|%s|%t" 1.5 1.5 1.5}}`);
add("printf/int-float-verb", `{{printf "%f|%e|%g" 1 1 1}}`);
add(
  "printf/s",
  `{{printf "%s|%10s|%-10s|%.2s|%5.1s|%010s" "hello" "hi" "hi" "hello" "hello" "hi"}}`,
);
add("printf/s-unicode-width", `{{printf "%6s|%-6s|%.3s" "héllo" "日本" "😀😀😀😀"}}`);
add(
  "printf/q-string",
  `{{printf "%q|%+q|%#q|%#q|%q" .html .uni "back" "has` + "`" + `tick" .ctrl}}`,
);
add(
  "printf/x-string",
  `{{printf "%x|%X|% x|%#x|%# x|%.2x|%8x|%-8x|" "héllo" "hi" "abc" "abc" "abc" "abcdef" "ab" "ab"}}`,
);
add("printf/x-empty-string", `{{printf "%x|%5x|" "" ""}}`);
add("printf/t", `{{printf "%t|%t|%5t|%t" true false true "x"}}`);
add("printf/T", `{{printf "%T %T %T %T %T %T %T %T" .str .n 1 .t .arr .m nil 1i}}`);
add("printf/percent", `{{printf "100%% %d%%" 5}}`);
add("printf/missing", `{{printf "%d %s"}}|{{printf "%d %s" 1}}`);
add("printf/extra", `{{printf "x" 1 "a" nil .f}}`);
deviates(
  "printf/extra-map",
  `{{printf "" .m}}`,
  "json-print",
  `%!(EXTRA map[string]interface {}={"a":1,"b":2,"c":3})`,
);
add("printf/noverb", `{{printf "abc%"}}|{{printf "%-"}}`);
add("printf/bad-verb", `{{printf "%z %!" 1 "s"}}`);
add("printf/w-verb", `{{printf "%w" "x"}}`);
add(
  "printf/arg-index",
  `{{printf "%[2]d %[1]d" 1 2}}|{{printf "%[1]d %[1]x" 255}}|{{printf "%[3]d" 1}}|{{printf "%[0]d" 1}}|{{printf "%[x]d" 1}}`,
);
add("printf/arg-index-then-more", `{{printf "%[2]d %d %d" 1 2 3}}`);
add("printf/star-width", `{{printf "%*d|%-*d|%*d|%.*f|%*.*f" 5 1 5 1 -5 1 2 3.14159 8 3 3.14159}}`);
add("printf/star-bad", `{{printf "%*d|%.*d" "x" 1 .n 2}}`);
add("printf/star-missing", `{{printf "%*d"}}`);
add("printf/width-overflow", `{{printf "%1000000000d|" 1}}`);
add("printf/flags-on-strings", `{{printf "%+s|% s|%#s|%+v|%#v|%+q" "a" "a" "a" "a" "a" "é"}}`);
add("printf/v-flags-numbers", `{{printf "%+v|%#v|%05v|%-5v|%x" 5 5 5 5 .n}}`);
add("printf/v-float-width", `{{printf "%8v|%-8v|%08v|%+v|% v" .f .f .f .f .f}}`);
deviates(
  "printf/v-float-big",
  `{{printf "%v|%10v" .big .big}}`,
  "number-format",
  "1000000|   1000000",
);
add("printf/d-array", `{{printf "%d" .nums}}`);
add("printf/s-array", `{{printf "%s" .arr}}`);
add("printf/s-map", `{{printf "%s" .m}}`);
add("printf/q-array", `{{printf "%q" .mixed}}`);
add("printf/x-array", `{{printf "%x" .arr}}`);
deviates(
  "printf/v-array",
  `{{printf "%v|%+v" .objs .arr}}`,
  "json-print",
  `[{"name":"x","v":1},{"name":"y","v":2},{"name":"z","v":3}]|["a","b","c"]`,
);
add("printf/complex", `{{printf "%v|%.2f|%e|%d" 1+2i 1+2i 1i 1i}}`);
add("printf/format-from-data", `{{printf .fmt .n}}`, { fmt: "n=%.1f", n: 2 });
add("printf/format-number", "{{printf 3}}");
add("printf/format-float-data", "{{printf .n}}", { n: 1 });
add("printf/format-missing", "{{printf .nope}}");
add("printf/format-null", "{{printf .nul}}", { nul: null });
add("printf/format-nil", "{{printf nil}}");
add("printf/format-pipeline", `{{"%s!" | printf}}`);
add("printf/format-pipeline-number", `{{3 | printf}}`);
add("printf/no-args", "{{printf}}");
add("printf/unicode-verb", `{{printf "%é" 1}}`);
add("printf/many-args", `{{printf "%s-%s-%s-%s" "a" "b" "c" "d"}}`);

// --- html / js / urlquery ---
add("html/basic", "{{html .html}}");
add("html/pipe", "{{.html | html}}");
add("html/nul-and-quotes", String.raw`{{html "a\x00b'c\"d"}}`);
add("html/multi-args", `{{html 1 2 "<" .t}}`);
add("html/missing", "{{html .nope}}|{{html nil}}|{{html .nope 1}}");
add("html/unicode", "{{html .uni}}");
add("js/basic", "{{js .html}}");
add("js/specials", String.raw`{{js "a\\b'c\"d<e>f&g=h"}}`);
add("js/control", "{{js .ctrl}}");
add("js/unicode", String.raw`{{js .uni}} {{js "\u2028\u2029\u00a0\u200b\ufeff\x01"}}`);
add("js/multi-args", `{{js 1 "a" 2}}`);
add("js/missing", "{{js .nope}}");
add("urlquery/basic", `{{urlquery "a b&c=d/e?f#g"}}`);
add("urlquery/reserved", `{{urlquery "!*'();:@&=+$,/?%#[]~-_.aZ09"}}`);
add("urlquery/unicode", "{{urlquery .uni}}");
add("urlquery/multi", `{{urlquery "a" 1 2 "b"}}`);
add("urlquery/missing", "{{urlquery .nope}}");
add("urlquery/pipe", `{{.str | printf "%s world" | urlquery}}`);
add("call/nil", "{{call .nope}}");
add("call/string", "{{call .str}}");
add("call/literal", `{{call "x" 1}}`);
add("call/pipeline", "{{.str | call}}");
add("call/no-args", "{{call}}");
