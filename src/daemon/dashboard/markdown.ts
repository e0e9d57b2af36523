/**
 * A job's result as HTML from Markdown, safe to put in a page: agents write results, and agents
 * are hostile (a webhook payload can tell one what to write). `marked` does not sanitise, so its
 * renderer is narrowed here:
 * - raw HTML (blocks and inline tags) is shown as text, never passed through;
 * - links keep only `http:`, `https:` and `mailto:` targets (anything else becomes plain text)
 *   and get `rel="noopener noreferrer nofollow"`; images become links (no remote loads: the
 *   page's CSP forbids them anyway);
 * - everything else is marked's own output, which escapes text and code.
 * The page's Content-Security-Policy is the second wall: even a slip here runs no script.
 *
 * @module
 */

import { Marked, type Tokens } from "marked";

const SAFE_SCHEMES = new Set(["http:", "https:", "mailto:"]);

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(token.text);
    },
    link(token: Tokens.Link): string {
      const text = this.parser.parseInline(token.tokens);
      const href = safeHref(token.href);
      if (href === undefined) return text;
      const title = token.title ? ` title="${escapeHtml(token.title)}"` : "";
      return `<a href="${escapeHtml(href)}"${title} rel="noopener noreferrer nofollow">${text}</a>`;
    },
    image(token: Tokens.Image): string {
      const href = safeHref(token.href);
      const text = escapeHtml(token.text || token.href);
      if (href === undefined) return text;
      return `<a href="${escapeHtml(href)}" rel="noopener noreferrer nofollow">${text}</a>`;
    },
  },
});

/**
 * Renders untrusted Markdown to HTML with no raw HTML and only safe links (see the module doc).
 *
 * @param text Markdown from an agent's result
 * @returns HTML to place inside an element
 */
export function renderMarkdown(text: string): string {
  return marked.parse(text, { async: false }) as string;
}

/** A link target with a safe scheme (relative links resolve against the page: kept); else undefined. */
export function safeHref(href: string): string | undefined {
  // Browsers ignore tabs and newlines inside schemes ("java\nscript:"): judge it without them.
  // deno-lint-ignore no-control-regex
  const compact = href.replace(/[\x00-\x20\x7f]/g, "");
  if (compact === "") return undefined;
  let url: URL;
  try {
    url = new URL(compact, "https://relative.invalid/");
  } catch {
    return undefined;
  }
  if (!SAFE_SCHEMES.has(url.protocol)) return undefined;
  // A relative link would point into the dashboard itself; results have no business there.
  if (url.host === "relative.invalid") return undefined;
  return compact;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
