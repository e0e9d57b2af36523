import assert from "node:assert/strict";
import { escapeMarkdownV2, formatTelegram, toMarkdownV2 } from "../../src/channel/telegram/mod.ts";
import { parseMarkdownV2 } from "../fakes/telegram_server.ts";

const TABLE: [string, string, string][] = [
  ["heading", "# Hello!", "*Hello\\!*"],
  ["heading level 3 with bold inside", "### A **b** c", "*A b c*"],
  ["reserved characters in text", "Price: $100 (estimated).", "Price: $100 \\(estimated\\)\\."],
  ["dashes", "Queued -- 2/3 slots.", "Queued \\-\\- 2/3 slots\\."],
  [
    "every reserved character",
    "_ * [ ] ( ) ~ ` > # + - = | { } . ! \\",
    "\\_ \\* \\[ \\] \\( \\) \\~ \\` \\> \\# \\+ \\- \\= \\| \\{ \\} \\. \\! \\\\",
  ],
  ["bold, italic, strike", "**b** *i* _j_ ~~s~~", "*b* _i_ _j_ ~s~"],
  ["bold italic", "***both***", "_*both*_"],
  ["adjacent italics are split with \\r", "*a*_b_", "_a_\r_b_"],
  ["inline code keeps reserved characters", "run `a.b(c)-d`", "run `a.b(c)-d`"],
  ["inline code escapes backslash", "`C:\\dir`", "`C:\\\\dir`"],
  [
    "fenced code with language",
    '```go\nx := `a` + "\\n"\n```',
    '```go\nx := \\`a\\` + "\\\\n"\n```',
  ],
  ["fenced code without language", "```\na.b!\n```", "```\na.b!\n```"],
  ["indented code", "    let x = 1;", "```\nlet x = 1;\n```"],
  [
    "link with ) and \\ in the URL",
    "[docs](https://x.y/a_(b)\\c)",
    "[docs](https://x.y/a_(b\\)\\\\c)",
  ],
  ["link text is escaped", "[a.b](https://x.y)", "[a\\.b](https://x.y)"],
  ["bare URL is left to Telegram", "see https://x.y/z.html", "see https://x\\.y/z\\.html"],
  ["relative link becomes text", "[file](src/a.ts)", "file \\(src/a\\.ts\\)"],
  ["code inside a link is plain", "[`x`](https://x.y)", "[x](https://x.y)"],
  ["bullet list", "- one\n- two.", "• one\n• two\\."],
  ["nested list", "- a\n  - b", "• a\n  • b"],
  ["ordered list", "3. x\n4. y", "3\\. x\n4\\. y"],
  ["task list", "- [ ] todo\n- [x] done", "☐ todo\n☑ done"],
  ["quote", "> be *kind*.\n> always", ">be _kind_\\.\n>always"],
  ["nested quote folds", "> a\n>\n> > b", ">a\n>b"],
  ["code block inside a quote", "> ```\n> x.y\n> ```", ">`x.y`"],
  ["table as code block", "| a | bb |\n|---|---|\n| 1 | 2 |", "```\na | bb\n--|---\n1 | 2\n```"],
  ["horizontal rule", "a\n\n---\n\nb", "a\n\n———\n\nb"],
  ["raw HTML is text", "<b>x</b>", "<b\\>x</b\\>"],
  ["emoji", "Done ✅ 🎉!", "Done ✅ 🎉\\!"],
  ["hard break", "a  \nb", "a\nb"],
  ["backslash escape", "not \\*bold\\*", "not \\*bold\\*"],
];

Deno.test("toMarkdownV2() converts Markdown like the table says", async (t) => {
  for (const [name, input, expected] of TABLE) {
    await t.step(name, () => assert.equal(toMarkdownV2(input), expected));
  }
});

Deno.test("toMarkdownV2() output is always valid MarkdownV2 for the fake's strict parser", () => {
  const samples = [
    ...TABLE.map(([, input]) => input),
    "## Result\n\nFixed `TypeError` in **src/app.ts** (line 42).\n\n- [x] tests pass\n- PR: https://github.com/a/b/pull/1\n\n```diff\n- old\n+ new\n```",
    "**bold _italic `code` inside_ end**",
    "Weird ** unbalanced * markers _ and ~~ tildes",
    "[unclosed link(http://x",
    "1) item\n2) item",
    "a | b\n--|--\n1 | 2",
    "> quote with [link](https://x.y) and `code`",
  ];
  for (const sample of samples) {
    const v2 = toMarkdownV2(sample);
    assert.doesNotThrow(() => parseMarkdownV2(v2), `${JSON.stringify(sample)} -> ${v2}`);
  }
});

Deno.test("escapeMarkdownV2() escapes exactly Telegram's reserved characters", () => {
  assert.equal(
    escapeMarkdownV2("a_b*c[d]e(f)g~h`i>j#k+l-m=n|o{p}q.r!s\\t u$v%w"),
    "a\\_b\\*c\\[d\\]e\\(f\\)g\\~h\\`i\\>j\\#k\\+l\\-m\\=n\\|o\\{p\\}q\\.r\\!s\\\\t u$v%w",
  );
});

Deno.test("formatTelegram() keeps every chunk within 4096 characters and valid", () => {
  const log = Array.from({ length: 400 }, (_, i) => `step ${i}: ok (${i * 3}ms).`).join("\n");
  const text = "# Report\n\nSummary line.\n\n```\n" + log + "\n```\n\n" +
    "Closing paragraph with a [link](https://x.y).";
  const chunks = formatTelegram(text);
  assert.ok(chunks.length >= 3);
  for (const chunk of chunks) {
    assert.ok(chunk.text.length <= 4096, `${chunk.text.length}`);
    assert.ok(chunk.raw.length <= 4096);
    const plain = parseMarkdownV2(chunk.text);
    assert.ok(plain.length > 0);
  }
  assert.match(chunks[0]!.text, /^\*Report\*/);
  assert.match(chunks[1]!.text, /^```\nstep/);
  assert.match(chunks.at(-1)!.text, /\[link\]\(https:\/\/x\.y\)\\\.$/);
  const steps = chunks.flatMap((c) => parseMarkdownV2(c.text).split("\n"))
    .filter((l) => l.startsWith("step "));
  assert.equal(steps.length, 400);
});

Deno.test("formatTelegram() counts escapes against the limit", () => {
  const dots = ".".repeat(3000); // 6000 characters once escaped
  const chunks = formatTelegram(dots);
  assert.equal(chunks.length, 2);
  assert.equal(chunks.map((c) => c.raw).join(""), dots);
  assert.ok(chunks.every((c) => c.text.length <= 4096));
});

Deno.test("formatTelegram() counts UTF-16 code units like Telegram", () => {
  const emoji = "😀".repeat(3000); // 6000 UTF-16 units
  const chunks = formatTelegram(emoji);
  assert.equal(chunks.length, 2);
  assert.ok(chunks.every((c) => c.text.length <= 4096));
  assert.equal(chunks.map((c) => c.raw).join(""), emoji);
});
