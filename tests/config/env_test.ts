import assert from "node:assert/strict";
import {
  expandReferences,
  findReferences,
  mergeGlobalEnv,
  parseDotEnv,
} from "../../src/config/mod.ts";

Deno.test("parseDotEnv() reads KEY=VALUE lines, comments, quotes and export", () => {
  const { vars, problems } = parseDotEnv(
    [
      "# secrets",
      "",
      "PLAIN=abc",
      "export EXPORTED=1",
      'DOUBLE="a b # not a comment"',
      "SINGLE='x=y'",
      "TRAILING=value # comment",
      "EMPTY=",
      'ESCAPED="line\\nnext"',
      "  SPACED = padded  ",
    ].join("\n"),
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(vars, {
    PLAIN: "abc",
    EXPORTED: "1",
    DOUBLE: "a b # not a comment",
    SINGLE: "x=y",
    TRAILING: "value",
    EMPTY: "",
    ESCAPED: "line\nnext",
    SPACED: "padded",
  });
});

Deno.test("parseDotEnv() reports bad lines with their line numbers", () => {
  const { problems } = parseDotEnv("OK=1\njust words\n1BAD=2\n");
  assert.deepEqual(problems, [
    { line: 2, message: "expected KEY=VALUE" },
    { line: 3, message: '"1BAD" is not a valid variable name' },
  ]);
});

Deno.test("expandReferences() replaces ${VAR}, honours :- fallbacks and $${ escapes", () => {
  const env: Record<string, string> = { A: "1", EMPTY: "" };
  const missing: string[] = [];
  const out = expandReferences(
    "a=${A} b=${B:-two} e=${EMPTY:-fb} lit=$${A} shell=$HOME c=${C}",
    (k) => env[k],
    missing,
  );
  assert.equal(out, "a=1 b=two e=fb lit=${A} shell=$HOME c=");
  assert.deepEqual(missing, ["C"]);
});

Deno.test("findReferences() skips escaped references", () => {
  assert.deepEqual(findReferences("${A} $${B} ${C:-x}"), [
    { name: "A", hasFallback: false },
    { name: "C", hasFallback: true },
  ]);
});

Deno.test("mergeGlobalEnv() never overrides an exported variable", () => {
  assert.deepEqual(mergeGlobalEnv({ A: "shell", B: "" }, { A: "file", B: "file", C: "file" }), {
    A: "shell",
    B: "file",
    C: "file",
  });
});
