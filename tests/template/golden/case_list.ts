/**
 * The list golden cases are registered into, and the helpers that register them.
 *
 * @module
 */

import { SIMPLE } from "./fixtures.ts";

/**
 * Why pylon's result differs from Go 1.24's on purpose:
 * - `number-format`: a float64 prints as JSON prints it (`1000000`, not `1e+06`);
 * - `json-print`: a map or array prints as compact JSON (not `map[a:1]`, `[a b]`);
 * - `numeric-compare`: an int compares with a float64 (Go: "incompatible types");
 * - `exec-depth`: `{{template}}` recursion stops at depth 1000 (Go: 100000);
 * - `go-version`: Go 1.25 wording ("incompatible types for comparison: string and int").
 */
export type Deviation =
  | "number-format"
  | "json-print"
  | "numeric-compare"
  | "exec-depth"
  | "go-version";

/** One case before Go has run it. */
export interface CaseInput {
  name: string;
  template: string;
  /** JSON text of the data. */
  data?: string;
  templateName?: string;
  deviation?: Deviation;
  /** pylon's result when it deviates from Go on purpose. */
  ours?: { output: string } | { error: string };
}

/** Every registered case, in registration order. */
export const cases: CaseInput[] = [];

/** Registers a case whose result must equal Go's. */
export function add(
  name: string,
  template: string,
  data: unknown = SIMPLE,
  extra: Partial<CaseInput> = {},
): void {
  cases.push({ name, template, data: JSON.stringify(data), ...extra });
}

/** Registers a case where pylon prints `ours` instead of Go's output, on purpose. */
export function deviates(
  name: string,
  template: string,
  deviation: Deviation,
  ours: string,
  data: unknown = SIMPLE,
): void {
  add(name, template, data, { deviation, ours: { output: ours } });
}
