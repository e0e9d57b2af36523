/**
 * The two templates over an event (`.body`, `.headers` with lower-case names) that decide what
 * becomes of it: `trigger.when` (a job only when truthy: `true`, or any non-empty text that is
 * not `false` or `0`) and `trigger.dedupe` (the key repeats are counted under).
 *
 * @module
 */

import { TemplateError } from "../errors.ts";
import { renderTemplate } from "../template/mod.ts";

/** The verdict of `trigger.when` on one event. */
export type WhenVerdict = { run: true } | { run: false; rendered: string } | {
  run: false;
  error: string;
};

/** Whether a rendered `when` counts as true. */
export function truthy(text: string): boolean {
  const t = text.trim().toLowerCase();
  return t !== "" && t !== "false" && t !== "0" && t !== "<no value>";
}

/** Evaluates `when` (absent: always run). */
export function evaluateWhen(
  when: string | undefined,
  data: { body: unknown; headers: Record<string, string> },
): WhenVerdict {
  if (when === undefined || when.trim() === "") return { run: true };
  let text: string;
  try {
    text = renderTemplate("trigger.when", when, data);
  } catch (e) {
    if (e instanceof TemplateError) return { run: false, error: e.message };
    throw e;
  }
  return truthy(text) ? { run: true } : { run: false, rendered: text.trim() };
}

/**
 * The rendered `trigger.dedupe` key of an event; empty (the event is not deduplicated) when the
 * template renders nothing or cannot be rendered for this payload.
 */
export function renderDedupeKey(
  template: string | undefined,
  data: { body: unknown; headers: Record<string, string> },
): string {
  if (!template) return "";
  try {
    const key = renderTemplate("trigger.dedupe", template, data).trim();
    return key === "<no value>" ? "" : key.slice(0, 500);
  } catch {
    return "";
  }
}
