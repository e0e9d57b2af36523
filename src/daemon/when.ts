/**
 * `trigger.when`: a template over the event (`.body`, `.headers` with lower-case names) that
 * decides whether it becomes a job. Truthy: `true`, or any non-empty text that is not `false`
 * or `0`.
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
