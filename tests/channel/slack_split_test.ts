import assert from "node:assert/strict";
import { splitMrkdwn } from "../../src/channel/slack/split.ts";
import { markdownToMrkdwn } from "../../src/channel/slack/format.ts";

/** Every piece that opens a code block closes it. */
function assertBalancedFences(pieces: string[]): void {
  for (const piece of pieces) {
    const fences = piece.split("\n").filter((l) => l.trim().startsWith("```")).length;
    assert.equal(fences % 2, 0, `unbalanced fences in:\n${piece}`);
  }
}

Deno.test("splitMrkdwn() keeps short text whole", () => {
  assert.deepEqual(splitMrkdwn("hello", 100), ["hello"]);
});

Deno.test("splitMrkdwn() cuts at paragraph boundaries first", () => {
  const paragraphs = ["a".repeat(40), "b".repeat(40), "c".repeat(40)];
  assert.deepEqual(splitMrkdwn(paragraphs.join("\n\n"), 90), [
    `${paragraphs[0]}\n\n${paragraphs[1]}`,
    paragraphs[2],
  ]);
});

Deno.test("splitMrkdwn() re-fences a code block cut across messages", () => {
  const code = Array.from({ length: 30 }, (_, i) => `line ${i} of code`).join("\n");
  const text = `intro\n\n\`\`\`\n${code}\n\`\`\`\n\noutro`;
  const pieces = splitMrkdwn(text, 120);
  assert.ok(pieces.length > 3);
  for (const piece of pieces) assert.ok(piece.length <= 120, `${piece.length} > 120`);
  assertBalancedFences(pieces);
  const rejoined = pieces.join("\n").replace(/```\n```\n/g, "");
  for (let i = 0; i < 30; i++) assert.ok(rejoined.includes(`line ${i} of code`));
  assert.equal(pieces[0], "intro");
  assert.ok(pieces.at(-1)!.endsWith("```\n\noutro"));
});

Deno.test("splitMrkdwn() keeps blank lines inside code blocks in one block", () => {
  const text = "```\na\n\nb\n```\n\n" + "x".repeat(20);
  assert.deepEqual(splitMrkdwn(text, 20), ["```\na\n\nb\n```", "x".repeat(20)]);
});

Deno.test("splitMrkdwn() hard-splits a long line at spaces", () => {
  const words = Array.from({ length: 50 }, (_, i) => `word${i}`).join(" ");
  const pieces = splitMrkdwn(words, 60);
  for (const piece of pieces) assert.ok(piece.length <= 60);
  assert.equal(pieces.join(""), words);
  assert.ok(pieces.slice(0, -1).every((p) => p.endsWith(" ")));
});

Deno.test("splitMrkdwn() never cuts an entity, a link or a surrogate pair", () => {
  const entity = "x".repeat(18) + "&amp;" + "y".repeat(20);
  for (const piece of splitMrkdwn(entity, 20)) assert.ok(!/&[a-z]*$/.test(piece), piece);
  const link = "x".repeat(30) + "<https://x.dev/a|label>" + "y".repeat(10);
  const pieces = splitMrkdwn(link, 40);
  assert.ok(pieces.some((p) => p.includes("<https://x.dev/a|label>")), pieces.join(" / "));
  const emoji = "😀".repeat(30);
  for (const piece of splitMrkdwn(emoji, 17)) assert.ok(!/[\ud800-\udbff]$/.test(piece));
  assert.equal(splitMrkdwn(emoji, 17).join(""), emoji);
});

Deno.test("splitMrkdwn() keeps a converted long agent answer within Slack's section limit", () => {
  const md = Array.from(
    { length: 40 },
    (_, i) =>
      `## Step ${i}\n\nSome **text** & more.\n\n\`\`\`ts\n${"const x = 1 < 2;\n".repeat(10)}\`\`\``,
  ).join("\n\n");
  const pieces = splitMrkdwn(markdownToMrkdwn(md), 3000);
  assert.ok(pieces.length > 1);
  for (const piece of pieces) assert.ok(piece.length <= 3000);
  assertBalancedFences(pieces);
});

Deno.test("splitMrkdwn() refuses a tiny limit", () => {
  assert.throws(() => splitMrkdwn("abc", 4), RangeError);
});
