/**
 * The templates over an event (`.body`, `.headers` with lower-case names) that decide what
 * becomes of it: `trigger.when` (a job only when truthy: `true`, or any non-empty text that is
 * not `false` or `0`), `trigger.dedupe` (the key repeats are counted under) and
 * `trigger.supersede`. Each renders within its field's budget (`template/budget.ts`): a webhook
 * waits for them.
 *
 * @module
 */

import { TemplateError } from "../errors.ts";
import { renderTemplate, TemplateBudgetError } from "../template/mod.ts";

/**
 * The verdict of `trigger.when` on one event. An `error` is for the daemon log only: it quotes
 * the template, whose `${VAR}`s are already resolved (secrets included), and may quote the
 * payload.
 */
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
 * The rendered key (`trigger.dedupe` or `trigger.supersede`, named by `field`) of an event;
 * empty (no key) when the template renders nothing or fails for this payload.
 *
 * @throws {TemplateBudgetError} when rendering goes over the field's budget: a payload built to
 *   make the key huge is refused, not silently treated as keyless
 */
export function renderKey(
  field: "trigger.dedupe" | "trigger.supersede",
  template: string | undefined,
  data: { body: unknown; headers: Record<string, string> },
): string {
  if (!template) return "";
  try {
    const key = renderTemplate(field, template, data).trim();
    return key === "<no value>" ? "" : key.slice(0, 500);
  } catch (e) {
    if (e instanceof TemplateBudgetError) throw e;
    return "";
  }
}

/** {@linkcode renderKey} for `trigger.dedupe`, empty whatever fails (`pylon test --dry-run`). */
export function renderDedupeKey(
  template: string | undefined,
  data: { body: unknown; headers: Record<string, string> },
): string {
  try {
    return renderKey("trigger.dedupe", template, data);
  } catch {
    return "";
  }
}
