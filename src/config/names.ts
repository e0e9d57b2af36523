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

/**
 * A valid pylon name close to `name`, for "rename it to" hints: `My Pylon` → `my-pylon`.
 * Accents are dropped, every other run of characters a name cannot hold becomes one dash.
 */
export function suggestPylonName(name: string): string {
  const slug = name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").slice(0, 63).replace(/^-+|-+$/g, "");
  return slug === "" ? "my-pylon" : slug;
}

/** `word` quoted for a POSIX shell when it needs it; a leading `~/` stays outside the quotes. */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_./~:@%+=,-]+$/.test(word)) return word;
  if (word.startsWith("~/")) return `~/${shellWord(word.slice(2))}`;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The fix for a pylon folder whose name cannot be a pylon name: the `mv` to run, and the
 * `name:` to write when the file says something else.
 *
 * @param pylonsDir the `pylons` folder as shown to the user (`~/.pylon/pylons`)
 * @param name the folder's name as it is
 * @param target the name to rename it to (see {@linkcode suggestPylonName})
 * @param yamlName the file's `name:` value, if it has one
 */
export function renameHint(
  pylonsDir: string,
  name: string,
  target: string,
  yamlName: unknown,
): string {
  const from = shellWord(name.startsWith("-") ? `./${name}` : name);
  const mv = `cd ${shellWord(pylonsDir)} && mv ${from} ${target}`;
  return yamlName === target
    ? `rename the folder: ${mv}`
    : `rename the folder: ${mv}, then set name: ${target} in its pylon.yaml`;
}
