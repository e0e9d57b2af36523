import assert from "node:assert/strict";
import { lexMarkdown, plainText, splitMarkdown } from "../../src/channel/markdown.ts";

/** Whether every fenced block opened in `chunk` is closed in it. */
function fencesBalanced(chunk: string): boolean {
  let open: string | null = null;
  for (const line of chunk.split("\n")) {
    const m = /^\s*(`{3,}|~{3,})(.*)$/.exec(line);
    if (!m) continue;
    if (open === null) open = m[1]!;
    else if (m[1]!.startsWith(open[0]!) && m[1]!.length >= open.length && !m[2]!.trim()) {
      open = null;
    }
  }
  return open === null;
}

Deno.test("lexMarkdown() reads GFM tables, strikethrough and task lists", () => {
  const types = lexMarkdown("| a |\n|---|\n| 1 |\n\n~~x~~\n\n- [ ] t\n").map((t) => t.type);
  assert.deepEqual(types.filter((t) => t !== "space"), ["table", "paragraph", "list"]);
});

Deno.test("lexMarkdown() token raws put together give back the text", () => {
  const text =
    "# T\n\npara *x*\nline\n\n```js\ncode\n```\n\n- a\n- b\n\n> q\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
  assert.equal(lexMarkdown(text).map((t) => t.raw).join(""), text);
});

Deno.test("plainText() drops markup and keeps visible text", () => {
  const [para] = lexMarkdown("**bold** _it_ `code` [link](http://x) ~~s~~");
  assert.equal(plainText(para?.type === "paragraph" ? para.tokens : []), "bold it code link s");
});

Deno.test("splitMarkdown() returns short text whole and blank text as nothing", () => {
  assert.deepEqual(splitMarkdown("\n\nhello *world*\n\n", { maxLength: 100 }), ["hello *world*"]);
  assert.deepEqual(splitMarkdown(" \n\n ", { maxLength: 100 }), []);
});

Deno.test("splitMarkdown() cuts between paragraphs first", () => {
  const paras = Array.from({ length: 10 }, (_, i) => `Paragraph ${i} ${"w ".repeat(20)}`.trim());
  const chunks = splitMarkdown(paras.join("\n\n"), { maxLength: 200 });
  assert.ok(chunks.length > 1);
  for (const chunk of chunks) {
    assert.ok(chunk.length <= 200);
    assert.ok(chunk.startsWith("Paragraph"), chunk);
  }
  assert.equal(chunks.join("\n\n"), paras.join("\n\n"));
});

Deno.test("splitMarkdown() closes and reopens a fenced code block across chunks", () => {
  const lines = Array.from({ length: 60 }, (_, i) => `const v${i} = ${i};`);
  const text = "Before\n\n```ts\n" + lines.join("\n") + "\n```\n\nAfter";
  const chunks = splitMarkdown(text, { maxLength: 300 });
  assert.ok(chunks.length > 3);
  for (const chunk of chunks) {
    assert.ok(chunk.length <= 300, `${chunk.length}`);
    assert.ok(fencesBalanced(chunk), chunk);
  }
  for (const chunk of chunks.slice(1, -1)) assert.match(chunk, /^```ts\n/);
  const code = chunks.join("\n").split("\n").filter((l) => l.startsWith("const "));
  assert.deepEqual(code, lines);
  assert.ok(chunks[0]!.startsWith("Before\n\n```ts"), "the text before packs with the code");
  assert.ok(chunks.at(-1)!.endsWith("```\n\nAfter"));
});

Deno.test("splitMarkdown() keeps ~~~ fences and nested fences inside quotes balanced", () => {
  const body = Array.from({ length: 40 }, (_, i) => `> line ${i}`).join("\n");
  const text = "> ~~~py\n" + body + "\n> ~~~\n";
  const chunks = splitMarkdown(text, { maxLength: 120 });
  assert.ok(chunks.length > 1);
  for (const chunk of chunks) {
    assert.ok(chunk.length <= 120);
    assert.ok(fencesBalanced(chunk.replace(/^> ?/gm, "")), chunk);
  }
  assert.match(chunks[1]!, /^> ~~~py\n/);
});

Deno.test("splitMarkdown() hard-splits one long line, preferring spaces, inside a fence too", () => {
  const words = Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ");
  const chunks = splitMarkdown(words, { maxLength: 100 });
  assert.ok(chunks.every((c) => c.length <= 100));
  assert.equal(chunks.join(" "), words);
  const code = "```\n" + "x".repeat(250) + "\n```";
  const parts = splitMarkdown(code, { maxLength: 100 });
  assert.ok(parts.every((c) => c.length <= 100 && fencesBalanced(c)));
  assert.equal(parts.map((p) => p.split("\n")[1]).join(""), "x".repeat(250));
});

Deno.test("splitMarkdown() repeats a table's header in every piece", () => {
  const rows = Array.from({ length: 30 }, (_, i) => `| ${i} | value ${i} |`);
  const text = "| n | v |\n|---|---|\n" + rows.join("\n");
  const chunks = splitMarkdown(text, { maxLength: 150 });
  assert.ok(chunks.length > 1);
  for (const chunk of chunks) assert.ok(chunk.startsWith("| n | v |\n|---|---|\n"), chunk);
  assert.equal(chunks.flatMap((c) => c.split("\n").slice(2)).join("\n"), rows.join("\n"));
});

Deno.test("splitMarkdown() measures with the caller's function and never splits surrogates", () => {
  const text = "😀".repeat(100);
  const chunks = splitMarkdown(text, { maxLength: 21, measure: (s) => s.length });
  assert.ok(chunks.every((c) => c.length <= 21 && !/^[\udc00-\udfff]|[\ud800-\udbff]$/.test(c)));
  assert.equal(chunks.join(""), text);
  // A measure that doubles the size halves what fits.
  const doubled = splitMarkdown("a ".repeat(100), { maxLength: 50, measure: (s) => s.length * 2 });
  assert.ok(doubled.every((c) => c.length <= 25));
});

Deno.test("splitMarkdown() throws RangeError when nothing fits", () => {
  assert.throws(() => splitMarkdown("abc", { maxLength: 0 }), RangeError);
});
