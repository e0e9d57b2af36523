import assert from "node:assert/strict";
import { escapeMrkdwn, markdownToMrkdwn } from "../../src/channel/slack/format.ts";

const TABLE: [name: string, markdown: string, mrkdwn: string][] = [
  ["bold", "**b** and __b__", "*b* and *b*"],
  ["italic", "*i* and _i_", "_i_ and _i_"],
  ["strike", "~~s~~", "~s~"],
  ["bold inside italic", "*a **b** c*", "_a *b* c_"],
  ["heading", "# Title *x*\n\ntext", "*Title _x_*\n\ntext"],
  ["heading with bold keeps one pair", "## **Bold** title", "*Bold title*"],
  ["link", "[docs](https://x.dev/a?b=1&c=2)", "<https://x.dev/a?b=1&amp;c=2|docs>"],
  ["autolink", "see <https://x.dev> and https://y.dev", "see <https://x.dev> and <https://y.dev>"],
  ["link with pipe and bracket in url", "[a](https://x.dev/a|b>)", "<https://x.dev/a%7Cb%3E|a>"],
  ["formatted link text is plain", "[**a** b](https://x.dev)", "<https://x.dev|a b>"],
  ["image", "![chart](https://x.dev/c.png)", "<https://x.dev/c.png|chart>"],
  ["inline code", "run `a < b && c`", "run `a &lt; b &amp;&amp; c`"],
  ["escapes text", "a & b < c > d", "a &amp; b &lt; c &gt; d"],
  ["entities are not double-escaped", "a &amp; b &lt;", "a &amp; b &lt;"],
  ["special sequences are neutralised", "<!channel> <#C1>", "&lt;!channel&gt; &lt;#C1&gt;"],
  ["user mentions survive", "by <@U0ABC123>", "by <@U0ABC123>"],
  ["raw html shown literally", "x <b>y</b>", "x &lt;b&gt;y&lt;/b&gt;"],
  ["unordered list", "- a\n- b\n  - c", "• a\n• b\n  • c"],
  ["ordered list keeps start", "3. a\n4. b", "3. a\n4. b"],
  ["task list", "- [x] done\n- [ ] todo", "• ☑ done\n• ☐ todo"],
  ["quote", "> one\n> two\n\nafter", "> one\n> two\n\nafter"],
  ["fenced code drops language", "```ts\nconst a = 1 < 2;\n```", "```\nconst a = 1 &lt; 2;\n```"],
  ["indented code", "    x = 1\n", "```\nx = 1\n```"],
  ["code keeps markdown literal", "```\n**not bold**\n```", "```\n**not bold**\n```"],
  ["code with fences inside", "````\n```\n````", "```\n``\u200b`\n```"],
  ["hr", "a\n\n---\n\nb", "a\n\n──────────\n\nb"],
  ["hard break", "a  \nb", "a\nb"],
  ["paragraphs", "one\n\n\n\ntwo", "one\n\ntwo"],
];

for (const [name, markdown, expected] of TABLE) {
  Deno.test(`markdownToMrkdwn() converts ${name}`, () => {
    assert.equal(markdownToMrkdwn(markdown), expected);
  });
}

Deno.test("markdownToMrkdwn() renders a table as an aligned code block", () => {
  const md = "| Name | Count |\n|:-----|------:|\n| a & b | 1 |\n| **c** | 200 |";
  assert.equal(
    markdownToMrkdwn(md),
    [
      "```",
      "| Name  | Count |",
      "|-------|-------|",
      "| a &amp; b |     1 |",
      "| c     |   200 |",
      "```",
    ].join("\n"),
  );
});

Deno.test("markdownToMrkdwn() returns empty text for empty input", () => {
  assert.equal(markdownToMrkdwn(""), "");
  assert.equal(markdownToMrkdwn("\n\n  \n"), "");
});

Deno.test("escapeMrkdwn() escapes the three characters Slack reserves", () => {
  assert.equal(escapeMrkdwn("<a & b>"), "&lt;a &amp; b&gt;");
});
