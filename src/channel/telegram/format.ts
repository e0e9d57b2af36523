/**
 * Markdown → Telegram MarkdownV2, and splitting into messages Telegram accepts.
 *
 * Outside code every character of `_*[]()~\`>#+-=|{}.!\` is escaped with `\`; inside code spans and
 * blocks only `` ` `` and `\`; inside a link's URL only `)` and `\`. Headings become bold lines,
 * lists use `•` / `1\.` markers, tables become code blocks with padded columns, and raw HTML is
 * shown as text. Telegram cannot nest the same style twice or put code inside a link, so nested
 * repeats are flattened.
 *
 * @module
 */

import { lexMarkdown, plainText, splitMarkdown, type Token, type Tokens } from "../markdown.ts";

/** Telegram's limit for one message, in UTF-16 code units. */
export const TELEGRAM_MAX_LENGTH = 4096;

/** One message to send: MarkdownV2 text, and its Markdown source for the plain-text fallback. */
export interface TelegramChunk {
  text: string;
  raw: string;
}

/** Styles already open around the text being rendered. */
interface Context {
  bold?: boolean;
  italic?: boolean;
  strike?: boolean;
  link?: boolean;
  quote?: boolean;
}

const RESERVED_REGEXP = /[_*[\]()~`>#+\-=|{}.!\\]/g;
const SAFE_URL_REGEXP = /^(?:https?:\/\/|tg:\/\/|mailto:)/i;
const LANG_REGEXP = /^[\w#+.-]{1,32}$/;

/** Escapes text for MarkdownV2 outside code and links. */
export function escapeMarkdownV2(text: string): string {
  return text.replace(RESERVED_REGEXP, "\\$&");
}

/** Escapes text inside a MarkdownV2 code span or block. */
export function escapeMarkdownV2Code(text: string): string {
  return text.replace(/[`\\]/g, "\\$&");
}

/** Escapes the URL part of a MarkdownV2 inline link. */
export function escapeMarkdownV2Url(url: string): string {
  return url.replace(/[)\\]/g, "\\$&");
}

/** Converts Markdown to Telegram MarkdownV2 (no length limit: see {@linkcode formatTelegram}). */
export function toMarkdownV2(markdown: string): string {
  return renderBlocks(lexMarkdown(markdown), {}).replace(/\s+$/, "");
}

/** Converts Markdown and splits it into messages of at most `maxLength` characters. */
export function formatTelegram(
  markdown: string,
  maxLength: number = TELEGRAM_MAX_LENGTH,
): TelegramChunk[] {
  const measure = (md: string) => Math.max(md.length, toMarkdownV2(md).length);
  return splitMarkdown(markdown, { maxLength, measure }).map((raw) => {
    const text = toMarkdownV2(raw);
    return { raw, text: text === "" ? escapeMarkdownV2(raw) : text };
  });
}

function renderBlocks(tokens: readonly Token[], ctx: Context, separator = "\n\n"): string {
  return tokens.map((token) => renderBlock(token, ctx)).filter((s) => s !== "").join(separator);
}

function renderBlock(token: Token, ctx: Context): string {
  switch (token.type) {
    case "space":
    case "def":
    case "checkbox":
      return "";
    case "paragraph":
      return renderInline(token.tokens ?? [], ctx);
    case "text":
      return token.tokens ? renderInline(token.tokens, ctx) : escapeMarkdownV2(token.text);
    case "heading":
      return wrap("*", renderInline(token.tokens ?? [], { ...ctx, bold: true }), ctx.bold);
    case "code":
      return codeBlock(token.text, (token as Tokens.Code).lang ?? "", ctx);
    case "blockquote":
      return blockquote(token as Tokens.Blockquote, ctx);
    case "list":
      return list(token as Tokens.List, ctx);
    case "table":
      return codeBlock(tableText(token as Tokens.Table), "", ctx);
    case "hr":
      return "———";
    case "html":
      return escapeMarkdownV2(token.text.trim());
    default:
      return escapeMarkdownV2(token.raw.trim());
  }
}

function renderInline(tokens: readonly Token[], ctx: Context): string {
  let out = "";
  for (const token of tokens) {
    const piece = inline(token, ctx);
    // `__` is underline in MarkdownV2: separate adjacent italic markers with an ignored \r.
    if (piece.startsWith("_") && endsWithMarker(out, "_")) out += "\r";
    out += piece;
  }
  return out;
}

function inline(token: Token, ctx: Context): string {
  switch (token.type) {
    case "text":
      return token.tokens ? renderInline(token.tokens, ctx) : escapeMarkdownV2(token.text);
    case "escape":
      return escapeMarkdownV2(token.text);
    case "strong":
      return wrap("*", renderInline(token.tokens ?? [], { ...ctx, bold: true }), ctx.bold);
    case "em":
      return wrap("_", renderInline(token.tokens ?? [], { ...ctx, italic: true }), ctx.italic);
    case "del":
      return wrap("~", renderInline(token.tokens ?? [], { ...ctx, strike: true }), ctx.strike);
    case "codespan":
      if (token.text === "") return "";
      return ctx.link ? escapeMarkdownV2(token.text) : "`" + escapeMarkdownV2Code(token.text) + "`";
    case "link":
    case "image":
      return link(token as Tokens.Link | Tokens.Image, ctx);
    case "br":
      return "\n";
    case "checkbox":
      return "";
    case "html":
      return escapeMarkdownV2(token.text);
    default:
      return escapeMarkdownV2(token.raw);
  }
}

function link(token: Tokens.Link | Tokens.Image, ctx: Context): string {
  const href = token.href.trim();
  const label = token.type === "image"
    ? escapeMarkdownV2(token.text || "image")
    : renderInline(token.tokens ?? [], { ...ctx, link: true });
  if (ctx.link) return label;
  // Bare URLs and autolinks: Telegram links them by itself.
  if (token.text === href || label === "") return escapeMarkdownV2(href);
  if (!SAFE_URL_REGEXP.test(href)) return `${label} \\(${escapeMarkdownV2(href)}\\)`;
  return `[${label}](${escapeMarkdownV2Url(href)})`;
}

function codeBlock(code: string, lang: string, ctx: Context): string {
  if (ctx.quote) {
    // A pre block cannot sit inside a quote: one code span per line instead.
    return code.split("\n").map((l) => (l.trim() ? "`" + escapeMarkdownV2Code(l) + "`" : ""))
      .join("\n");
  }
  const language = LANG_REGEXP.test(lang) ? lang : "";
  return "```" + language + "\n" + escapeMarkdownV2Code(code.replace(/\n+$/, "")) + "\n```";
}

function blockquote(token: Tokens.Blockquote, ctx: Context): string {
  const inner = renderBlocks(token.tokens, { ...ctx, quote: true }, "\n");
  // Quotes cannot be nested: an inner quote is folded into the outer one.
  if (ctx.quote) return inner;
  return inner.split("\n").map((line) => ">" + line).join("\n");
}

function list(token: Tokens.List, ctx: Context, depth = 0): string {
  const start = typeof token.start === "number" ? token.start : 1;
  return token.items.map((item, i) => {
    const marker = item.task
      ? (item.checked ? "☑ " : "☐ ")
      : token.ordered
      ? `${start + i}\\. `
      : "• ";
    const body = item.tokens.map((t) =>
      t.type === "list" ? list(t as Tokens.List, ctx, depth + 1) : renderBlock(t, ctx)
    ).filter((s) => s !== "").join("\n");
    const indent = "  ".repeat(depth);
    const [first = "", ...rest] = body.split("\n");
    return [indent + marker + first.replace(/^ +/, ""), ...rest.map((l) => l)].join("\n");
  }).join("\n");
}

/** A GFM table as aligned plain text (it is shown in a code block). */
export function tableText(token: Tokens.Table): string {
  const cell = (c: Tokens.TableCell) => plainText(c.tokens).replace(/\s+/g, " ").trim();
  const rows = [token.header.map(cell), ...token.rows.map((r) => r.map(cell))];
  const widths = token.header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => widths.map((w, i) => (r[i] ?? "").padEnd(w)).join(" | ").trimEnd();
  const [head = [], ...body] = rows;
  return [line(head), widths.map((w) => "-".repeat(Math.max(w, 1))).join("-|-"), ...body.map(line)]
    .join("\n");
}

function wrap(marker: string, inner: string, alreadyOpen: boolean | undefined): string {
  if (alreadyOpen || inner === "") return inner;
  return marker + inner + marker;
}

/** Whether `text` ends with an unescaped `marker`. */
function endsWithMarker(text: string, marker: string): boolean {
  if (!text.endsWith(marker)) return false;
  let slashes = 0;
  for (let i = text.length - marker.length - 1; i >= 0 && text[i] === "\\"; i--) slashes++;
  return slashes % 2 === 0;
}
