/**
 * Log lines with ANSI colours as HTML: each run of text in a `<span>` whose classes name its
 * colour and style (`a-f1` red foreground, `a-g4` blue background, `a-b` bold, `a-d` dim, `a-i`
 * italic, `a-u` underline). Classes, not `style=""`: the CSP allows no inline styles. The text
 * goes through {@linkcode sanitizeAnsi} first (only SGR survives) and is escaped. 256-colour
 * codes below 16 map to the same 16 colours; other extended colours are dropped (the text stays).
 *
 * The dashboard's client script does the same for streamed lines (`assets.ts`, `ansiSpans`).
 *
 * @module
 */

import { sanitizeAnsi } from "../../log/mod.ts";
import { escapeHtml } from "./markdown.ts";

/** The style in effect at a point of a line. */
export interface AnsiStyle {
  fg?: number | undefined;
  bg?: number | undefined;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}

// deno-lint-ignore no-control-regex
const SGR_REGEXP = /\x1b\[([0-9;:]*)m/g;

/** Applies one SGR parameter list to `style` (in place). */
export function applySgr(style: AnsiStyle, params: string): void {
  const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => Number(p || 0));
  for (let i = 0; i < codes.length; i++) {
    const n = codes[i]!;
    if (n === 0) {
      for (const k of Object.keys(style)) delete style[k as keyof AnsiStyle];
    } else if (n === 1) style.bold = true;
    else if (n === 2) style.dim = true;
    else if (n === 3) style.italic = true;
    else if (n === 4) style.underline = true;
    else if (n === 22) style.bold = style.dim = false;
    else if (n === 23) style.italic = false;
    else if (n === 24) style.underline = false;
    else if (n >= 30 && n <= 37) style.fg = n - 30;
    else if (n >= 90 && n <= 97) style.fg = n - 90 + 8;
    else if (n === 39) style.fg = undefined;
    else if (n >= 40 && n <= 47) style.bg = n - 40;
    else if (n >= 100 && n <= 107) style.bg = n - 100 + 8;
    else if (n === 49) style.bg = undefined;
    else if (n === 38 || n === 48) {
      const mode = codes[i + 1];
      const value = mode === 5 ? codes[i + 2] : undefined;
      const key = n === 38 ? "fg" : "bg";
      if (value !== undefined && value < 16) style[key] = value;
      i += mode === 5 ? 2 : mode === 2 ? 4 : 1;
    }
  }
}

/** The classes of a style (empty: plain text). */
export function styleClasses(style: AnsiStyle): string {
  const out: string[] = [];
  if (style.fg !== undefined) out.push(`a-f${style.fg}`);
  if (style.bg !== undefined) out.push(`a-g${style.bg}`);
  if (style.bold) out.push("a-b");
  if (style.dim) out.push("a-d");
  if (style.italic) out.push("a-i");
  if (style.underline) out.push("a-u");
  return out.join(" ");
}

/**
 * One log line (possibly hostile) as escaped HTML with colour spans.
 *
 * @param line a line of agent output
 * @returns HTML with only `<span class="a-…">` elements
 */
export function ansiToHtml(line: string): string {
  const text = sanitizeAnsi(line);
  const style: AnsiStyle = {};
  let out = "";
  let last = 0;
  const emit = (part: string) => {
    if (part === "") return;
    const classes = styleClasses(style);
    out += classes ? `<span class="${classes}">${escapeHtml(part)}</span>` : escapeHtml(part);
  };
  for (const m of text.matchAll(SGR_REGEXP)) {
    emit(text.slice(last, m.index));
    applySgr(style, m[1] ?? "");
    last = m.index + m[0].length;
  }
  emit(text.slice(last));
  return out;
}
