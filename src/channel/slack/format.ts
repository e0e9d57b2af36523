/**
 * Markdown (what agents write) → Slack mrkdwn, using `marked`'s lexer for the parsing.
 *
 * Slack has no escape for `*`, `_`, `~` or backticks, so plain text keeps them; it does require
 * `&`, `<` and `>` to be sent as `&amp;`, `&lt;`, `&gt;`. That escaping applies to code too: Slack
 * stores code typed by people the same way and shows the characters, and it keeps text such as
 * `<!channel>` inside a code block from pinging anyone. User mentions (`<@U123>`) are kept as
 * mentions so a message can say who approved a job.
 *
 * @module
 */

import { Lexer, type Token, type Tokens } from "marked";

const MENTION_REGEXP = /(<@[UW][A-Z0-9]+>)/;
const ENTITY_REGEXP = /&(amp|lt|gt|quot|apos|nbsp);/g;
const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
};

/** Formatting already in effect, so nested `**` inside a heading does not double the markers. */
interface InlineContext {
  bold: boolean;
  italic: boolean;
  strike: boolean;
}

const NO_CONTEXT: InlineContext = { bold: false, italic: false, strike: false };

/** Converts Markdown to Slack mrkdwn. */
export function markdownToMrkdwn(markdown: string): string {
  const tokens = Lexer.lex(markdown, { gfm: true });
  return renderBlocks(tokens).replace(/\s+$/, "");
}

/** Escapes `&`, `<` and `>` the way Slack requires. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Escapes text but keeps Slack user mentions (`<@U123>`) working. */
function escapeText(text: string): string {
  return decodeEntities(text).split(MENTION_REGEXP)
    .map((part, i) => (i % 2 === 1 ? part : escapeMrkdwn(part)))
    .join("");
}

function decodeEntities(text: string): string {
  return text.replace(ENTITY_REGEXP, (_, name: string) => ENTITIES[name] ?? "");
}

/** A fenced code block; the language is dropped because Slack ignores it. */
function fence(code: string): string {
  const body = code.replace(/\n+$/, "").replaceAll("```", "``\u200b`");
  return "```\n" + escapeMrkdwn(body === "" ? " " : body) + "\n```";
}

function renderBlocks(tokens: readonly Token[]): string {
  return tokens.map(renderBlock).filter((part) => part !== "").join("\n\n");
}

function renderBlock(token: Token): string {
  switch (token.type) {
    case "paragraph":
      return renderInline((token as Tokens.Paragraph).tokens, NO_CONTEXT);
    case "heading": {
      const text = renderInline((token as Tokens.Heading).tokens, { ...NO_CONTEXT, bold: true });
      return text === "" ? "" : `*${text}*`;
    }
    case "code":
      return fence((token as Tokens.Code).text);
    case "blockquote":
      return renderBlocks((token as Tokens.Blockquote).tokens).split("\n")
        .map((line) => (line === "" ? ">" : `> ${line}`)).join("\n");
    case "list":
      return renderList(token as Tokens.List);
    case "table":
      return fence(renderTable(token as Tokens.Table));
    case "hr":
      return "──────────";
    case "html":
      return escapeMrkdwn((token as Tokens.HTML).text.trim());
    case "text": {
      const text = token as Tokens.Text;
      return text.tokens ? renderInline(text.tokens, NO_CONTEXT) : escapeText(text.text);
    }
    case "space":
    case "def":
      return "";
    default:
      return escapeText("text" in token && typeof token.text === "string" ? token.text : token.raw);
  }
}

function renderList(list: Tokens.List): string {
  const start = typeof list.start === "number" ? list.start : 1;
  return list.items.map((item, i) => {
    const marker = list.ordered ? `${start + i}.` : "•";
    const box = item.task ? (item.checked ? "☑ " : "☐ ") : "";
    const body = item.tokens.filter((t) => t.type !== "checkbox" && t.type !== "space")
      .map(renderBlock).filter((part) => part !== "").join("\n");
    const indent = " ".repeat(marker.length + 1);
    const lines = body.split("\n");
    return [`${marker} ${box}${lines[0] ?? ""}`, ...lines.slice(1).map((l) => indent + l)]
      .join("\n");
  }).join("\n");
}

function renderTable(table: Tokens.Table): string {
  const rows = [table.header, ...table.rows].map((row) =>
    row.map((cell) => plainText(cell.tokens))
  );
  const widths = table.header.map((_, col) =>
    Math.max(3, ...rows.map((row) => [...(row[col] ?? "")].length))
  );
  const line = (cells: string[]) =>
    "| " +
    widths.map((w, col) => pad(cells[col] ?? "", w, table.align[col] ?? null)).join(" | ") +
    " |";
  const [header = [], ...body] = rows;
  const separator = "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|";
  return [line(header), separator, ...body.map(line)].join("\n");
}

function pad(text: string, width: number, align: "left" | "right" | "center" | null): string {
  const gap = width - [...text].length;
  if (gap <= 0) return text;
  if (align === "right") return " ".repeat(gap) + text;
  if (align === "center") {
    const left = Math.floor(gap / 2);
    return " ".repeat(left) + text + " ".repeat(gap - left);
  }
  return text + " ".repeat(gap);
}

function renderInline(tokens: readonly Token[], ctx: InlineContext): string {
  let out = "";
  for (const token of tokens) out += renderInlineToken(token, ctx);
  return out;
}

function renderInlineToken(token: Token, ctx: InlineContext): string {
  switch (token.type) {
    case "text": {
      const text = token as Tokens.Text;
      return text.tokens ? renderInline(text.tokens, ctx) : escapeText(text.text);
    }
    case "escape":
      return escapeMrkdwn((token as Tokens.Escape).text);
    case "strong":
      return wrap(
        "*",
        renderInline((token as Tokens.Strong).tokens, { ...ctx, bold: true }),
        ctx.bold,
      );
    case "em":
      return wrap(
        "_",
        renderInline((token as Tokens.Em).tokens, { ...ctx, italic: true }),
        ctx.italic,
      );
    case "del":
      return wrap(
        "~",
        renderInline((token as Tokens.Del).tokens, { ...ctx, strike: true }),
        ctx.strike,
      );
    case "codespan":
      return "`" + escapeMrkdwn((token as Tokens.Codespan).text) + "`";
    case "br":
      return "\n";
    case "link": {
      const link = token as Tokens.Link;
      return slackLink(link.href, plainText(link.tokens));
    }
    case "image": {
      const image = token as Tokens.Image;
      return slackLink(image.href, image.text);
    }
    case "html":
      return escapeMrkdwn((token as Tokens.Tag).text);
    case "checkbox":
      return "";
    default:
      return escapeText(token.raw);
  }
}

function wrap(marker: string, content: string, alreadyApplied: boolean): string {
  if (alreadyApplied || content.trim() === "") return content;
  return marker + content + marker;
}

/** `<url|label>`, or `<url>` when the label is the address itself. */
function slackLink(href: string, label: string): string {
  const url = escapeMrkdwn(
    href.replaceAll("|", "%7C").replaceAll("<", "%3C").replaceAll(">", "%3E"),
  );
  const text = label.trim();
  if (text === "" || text === href || `mailto:${text}` === href || `http://${text}` === href) {
    return `<${url}>`;
  }
  return `<${url}|${escapeMrkdwn(text)}>`;
}

/** The visible text of inline tokens, unformatted and unescaped (table cells, link labels). */
function plainText(tokens: readonly Token[] | undefined): string {
  let out = "";
  for (const token of tokens ?? []) {
    if (token.type === "br") out += " ";
    else if ("tokens" in token && Array.isArray(token.tokens)) out += plainText(token.tokens);
    else if (token.type === "image") out += (token as Tokens.Image).text;
    else if ("text" in token && typeof token.text === "string") out += decodeEntities(token.text);
  }
  return out;
}
