/**
 * What one rendering may cost. A template renders a payload its sender chose, and
 * `{{ range .body.items }}{{ $.body }}{{ end }}` turned a 403 KB body into 400 MB: every
 * rendering therefore has an output cap, checked as output is written (it stops at the cap, it
 * does not build the whole text first), a cap on any single value a function returns (so
 * `print $x $x` in a loop cannot grow a variable without bound), and a cap on steps (so nested
 * `range`s over a large payload cannot hold the CPU).
 *
 * Caps are per field, by the template's name (`agent.prompt`), so every caller gets them.
 *
 * @module
 */

import { TemplateError } from "../errors.ts";

/** Limits of one rendering. */
export interface RenderBudget {
  /** Most characters (UTF-16 code units) of output. */
  output: number;
  /** Most nodes walked and functions called. */
  steps: number;
}

const KI = 1024;
const MI = 1024 * KI;

/** Fields rendered on the request path: small output, few steps (a webhook waits for them). */
const REQUEST_PATH: RenderBudget = { output: 64 * KI, steps: 1_000_000 };

/** The budget of each field pylon renders; other names get {@linkcode DEFAULT_BUDGET}. */
export const FIELD_BUDGETS: Readonly<Record<string, RenderBudget>> = {
  // Twice the default server.max_body, so a prompt quoting a whole payload fits.
  "agent.prompt": { output: 2 * MI, steps: 10_000_000 },
  "workspace.repo": { output: 4 * KI, steps: 1_000_000 },
  "workspace.ref": { output: 4 * KI, steps: 1_000_000 },
  "channel": { output: 64 * KI, steps: 1_000_000 },
  "channel.topic": { output: 64 * KI, steps: 1_000_000 },
  "channel.message": { output: 64 * KI, steps: 1_000_000 },
  "trigger.when": REQUEST_PATH,
  "trigger.dedupe": REQUEST_PATH,
  "trigger.supersede": REQUEST_PATH,
};

/** The budget of a template whose name is not a known field. */
export const DEFAULT_BUDGET: RenderBudget = { output: 2 * MI, steps: 10_000_000 };

/** A value a function returns may be larger than the output (`contains "x" (toJson .body)`). */
export const MIN_VALUE_CAP = 4 * MI;

/** The budget of the field `name`. */
export function budgetFor(name: string): RenderBudget {
  return FIELD_BUDGETS[name] ?? DEFAULT_BUDGET;
}

/** A rendering stopped because it went over its budget. */
export class TemplateBudgetError extends TemplateError {
  /** Which limit: output characters, one value's characters, or steps. */
  readonly limit: "output" | "value" | "steps";
  /** The cap that was passed. */
  readonly cap: number;

  constructor(
    message: string,
    options: {
      templateName: string;
      line: number;
      column: number;
      limit: "output" | "value" | "steps";
      cap: number;
    },
  ) {
    super(message, options);
    this.name = "TemplateBudgetError";
    this.limit = options.limit;
    this.cap = options.cap;
  }
}

/** How a cap reads in a message: `65536 characters`, `1000000 steps`. */
export function describeCap(limit: "output" | "value" | "steps", cap: number): string {
  return limit === "steps" ? `${cap} steps` : `${cap} characters`;
}
