/**
 * Pylon names: they become folder names and URL paths, so they are DNS-label-like.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

const NAME_REGEXP = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `name` cannot be a pylon name, or `undefined` when it can. */
export function pylonNameProblem(name: string): string | undefined {
  if (name === "") return "the name is empty";
  if (name.length > 63) return "the name is longer than 63 characters";
  if (/[/\\]|^\.\.?$/.test(name)) return "the name must not contain / or \\ or be . or ..";
  if (NAME_REGEXP.test(name)) return undefined;
  if (NAME_REGEXP.test(name.toLowerCase())) return `use lowercase: "${name.toLowerCase()}"`;
  return "use lowercase letters, digits and dashes, starting and ending with a letter or digit";
}

/** @throws {UsageError} when `name` is not a valid pylon name */
export function assertPylonName(name: string): void {
  const problem = pylonNameProblem(name);
  if (problem) {
    throw new UsageError(`Invalid pylon name "${name}": ${problem}`, {
      hint: "for example: sentry-triage, pr-review, weekly-audit",
    });
  }
}
