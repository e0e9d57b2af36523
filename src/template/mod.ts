/**
 * Go `text/template` compatible templates for pylon's `agent.prompt`, `channel.topic`,
 * `channel.message`, `workspace.repo` and `workspace.ref`. Pure: no I/O, no clock, no
 * environment; imports nothing of pylon's except `errors.ts`.
 *
 * Output matches Go's (1.24+) for data decoded by `json.Unmarshal` into `any`, except for the
 * deliberate deviations of ARCHITECTURE.md §3.1:
 * - a float64 prints as JSON prints it (`1000000`, `0.00001`), not as Go's `%v` (`1e+06`);
 * - maps and arrays print as compact JSON with sorted keys, not `map[a:1]` / `[a b]`;
 * - `eq`/`ne`/`lt`/`le`/`gt`/`ge` compare an int with a float64 numerically, where Go fails
 *   with "incompatible types for comparison" (JSON numbers are float64, literals like `1` int).
 *
 * Errors are {@linkcode TemplateError}s (from `errors.ts`) worded as Go words them. Execution
 * errors are Go's text exactly (`template: agent.prompt:1:7: executing "agent.prompt" at
 * <.body.x.y>: …`, the column being Go's byte offset in the line); parse errors add that same
 * column to Go's `template: NAME:LINE: msg`. The error's `line`/`column` fields are 1-based.
 *
 * @module
 */

export { parseTemplate, renderTemplate } from "./template.ts";
export { budgetFor, FIELD_BUDGETS, TemplateBudgetError } from "./budget.ts";
export type { RenderBudget } from "./budget.ts";
export type { Template, TemplateOptions } from "./template.ts";
export type { TemplateFunc } from "./funcs.ts";
export type { GoValue } from "./value.ts";
