/**
 * Why `trigger.when` is false for an event, for `pylon test --dry-run`: the top-level parts of an
 * `and`/`or` with the value each renders to, the headers and body fields the expression reads
 * with their values in this event, and the `--header` flags that would supply a missing header.
 *
 * @module
 */

import { TemplateError } from "../../errors.ts";
import { truthy } from "../../daemon/when.ts";
import { renderTemplate } from "../../template/mod.ts";

/** One evaluated piece of the expression. */
export interface WhenPart {
  expression: string;
  value: string;
}

/** The explanation of a `when` verdict. */
export interface WhenExplanation {
  expression: string;
  /** The parts of a top-level `and` / `or`, each with what it renders to. */
  parts: WhenPart[];
  /** The headers and body fields the expression reads, with their values in this event. */
  reads: WhenPart[];
  /** `--header 'Name: value'` flags for headers the expression compares but the event lacks. */
  missingHeaders: string[];
}

type EventData = { body: unknown; headers: Record<string, string> };

/** Explains `when` over `data`. Pure; never throws on a template that fails to render. */
export function explainWhen(when: string, data: EventData): WhenExplanation {
  const inner = /^\s*\{\{-?\s*([\s\S]*?)\s*-?\}\}\s*$/.exec(when)?.[1];
  const parts: WhenPart[] = [];
  if (inner !== undefined) {
    const args = splitArgs(inner);
    if ((args[0] === "and" || args[0] === "or") && args.length > 2) {
      for (const arg of args.slice(1)) {
        const expr = arg.startsWith("(") && arg.endsWith(")") ? arg.slice(1, -1).trim() : arg;
        parts.push({ expression: arg, value: render(`{{ ${expr} }}`, data) });
      }
    }
  }
  const reads: WhenPart[] = [];
  const missingHeaders: string[] = [];
  const seen = new Set<string>();
  for (const m of when.matchAll(/index\s+\.headers\s+"([^"]+)"(?:\)\s*"([^"]*)")?/g)) {
    const name = m[1]!.toLowerCase();
    if (seen.has(`h:${name}`)) continue;
    seen.add(`h:${name}`);
    const value = data.headers[name];
    reads.push({
      expression: `header ${name}`,
      value: value === undefined ? "(not sent)" : JSON.stringify(value),
    });
    if (value === undefined && m[2] !== undefined) {
      missingHeaders.push(`--header '${name}: ${m[2]}'`);
    }
  }
  for (const m of when.matchAll(/\.body((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
    const path = m[1]!.slice(1).split(".");
    const ref = `.body.${path.join(".")}`;
    if (seen.has(ref)) continue;
    seen.add(ref);
    reads.push({ expression: ref, value: show(lookup(data.body, path)) });
  }
  return { expression: when, parts, reads, missingHeaders };
}

/** The explanation as indented lines for the terminal. */
export function formatWhenExplanation(e: WhenExplanation): string {
  let out = `  trigger.when: ${e.expression}\n`;
  if (e.parts.length > 0) {
    out += "  Its parts:\n";
    for (const p of e.parts) {
      out += `    ${truthy(p.value) ? "true " : "FALSE"}  ${p.expression}` +
        (/^(true|false)$/.test(p.value.trim()) ? "" : `  → ${JSON.stringify(p.value)}`) + "\n";
    }
  }
  if (e.reads.length > 0) {
    out += "  It reads:\n";
    for (const r of e.reads) out += `    ${r.expression} = ${r.value}\n`;
  }
  if (e.missingHeaders.length > 0) {
    out += `  Send the header(s) the sender would: ${e.missingHeaders.join(" ")}\n`;
  }
  return out;
}

function render(template: string, data: EventData): string {
  try {
    return renderTemplate("trigger.when", template, data).trim();
  } catch (e) {
    if (e instanceof TemplateError) return `(error: ${e.message})`;
    throw e;
  }
}

function lookup(value: unknown, path: string[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== "object" || !(key in v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function show(value: unknown): string {
  if (value === undefined) return "(not in the payload)";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Splits a pipeline into its top-level words, keeping parenthesised groups and strings whole. */
function splitArgs(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let current = "";
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      current += c;
      if (c === "\\" && quote === '"') current += text[++i] ?? "";
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "`") quote = c;
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (/\s/.test(c) && depth === 0) {
      if (current) args.push(current);
      current = "";
      continue;
    }
    current += c;
  }
  if (current) args.push(current);
  return args;
}
