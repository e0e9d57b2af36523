/**
 * The `Template` object: parse once, execute many times.
 *
 * @module
 */

import { TemplateError } from "../errors.ts";
import { executeTree } from "./exec.ts";
import { type FuncSpec, funcTable, type TemplateFunc } from "./funcs.ts";
import type { Tree } from "./nodes.ts";
import { parseTrees } from "./parse.ts";
import { budgetFor, type RenderBudget } from "./budget.ts";

/** Options of {@linkcode parseTemplate}. */
export interface TemplateOptions {
  /** Functions added to the builtins; a name shared with a builtin replaces it, as in Go. */
  funcs?: Record<string, TemplateFunc>;
  /** What one rendering may cost; default: the budget of the field the template is named after. */
  budget?: RenderBudget;
}

/** A JS stack overflow (absurdly deep data or nesting) still surfaces as a TemplateError. */
function stackError(name: string, e: unknown): unknown {
  if (!(e instanceof RangeError)) return e;
  return new TemplateError(`template: ${name}: ${e.message}`, {
    templateName: name,
    line: 0,
    column: 0,
    cause: e,
  });
}

/** A parsed template, ready to execute any number of times. */
export class Template {
  /** The name errors report, normally the config field (`agent.prompt`). */
  readonly name: string;
  #text: string;
  #trees: ReadonlyMap<string, Tree>;
  #funcs: ReadonlyMap<string, FuncSpec>;
  #budget: RenderBudget;

  constructor(
    name: string,
    text: string,
    trees: ReadonlyMap<string, Tree>,
    funcs: ReadonlyMap<string, FuncSpec>,
    budget: RenderBudget = budgetFor(name),
  ) {
    this.name = name;
    this.#text = text;
    this.#trees = trees;
    this.#funcs = funcs;
    this.#budget = budget;
  }

  /**
   * Renders the template against `data` (plain JSON values).
   *
   * @throws {TemplateBudgetError} when the rendering goes over its budget (output, one value's
   *   size, or steps); it stops there
   * @throws {TemplateError} when execution fails, e.g. `index out of range: 5`
   */
  execute(data: unknown): string {
    const ctx = {
      text: this.#text,
      parseName: this.name,
      trees: this.#trees,
      funcs: this.#funcs,
      budget: this.#budget,
    };
    try {
      return executeTree(ctx, this.name, data);
    } catch (e) {
      throw stackError(this.name, e);
    }
  }
}

/**
 * Parses `text` as a Go template named `name` (the name errors report).
 *
 * @throws {TemplateError} on a syntax error, with line and column
 */
export function parseTemplate(name: string, text: string, options: TemplateOptions = {}): Template {
  const funcs = funcTable(options.funcs);
  try {
    const trees = parseTrees(name, text, new Set(funcs.keys()));
    return new Template(name, text, trees, funcs, options.budget ?? budgetFor(name));
  } catch (e) {
    throw stackError(name, e);
  }
}

/**
 * Parses and executes in one call.
 *
 * @throws {TemplateError} when parsing or execution fails
 */
export function renderTemplate(
  name: string,
  text: string,
  data: unknown,
  options: TemplateOptions = {},
): string {
  return parseTemplate(name, text, options).execute(data);
}
