/**
 * Validation of `workspace.ref`, which is often rendered from a webhook payload and therefore
 * hostile until proven otherwise.
 *
 * A ref is accepted when it follows `git check-ref-format --allow-onelevel` (no `..`, no control
 * characters, spaces, `~ ^ : ? * [ \`, no `@{`, no component starting with `.` or ending with
 * `.lock`, ...) and, on top of that, does not start with `-` and uses only letters, digits and
 * `. _ - / + = , @ # %`. Git allows a few more characters (`$ ( ) ; & | ' "` ...), but they only
 * ever show up in injection attempts, so they are refused. A commit sha (4–40 hex digits) passes
 * these rules as it is.
 *
 * @module
 */

import { quote, WorkspaceError } from "./errors.ts";

/** A full or abbreviated commit sha. */
export const SHA_REGEXP = /^[0-9a-f]{4,40}$/i;

const ALLOWED_CHARS_REGEXP = /^[\p{L}\p{N}._\-/+=,@#%]*$/u;
const CONTROL_REGEXP = /\p{Cc}/u;
const SPACE_REGEXP = /\s/u;
const MAX_REF_LENGTH = 255;

const REF_HINT = "set workspace.ref to a branch, tag or commit sha (like main, v1.2.0 or " +
  "3f2a9c1), or leave it out for the default branch; when it is a template, check the " +
  "payload it was rendered from";

/** Why `ref` is not an acceptable ref name, or undefined when it is. */
export function refProblem(ref: string): string | undefined {
  if (ref === "") return "it is empty";
  if (ref.length > MAX_REF_LENGTH) return `it is longer than ${MAX_REF_LENGTH} characters`;
  if (ref.startsWith("-")) return 'it starts with "-" and would be read as an option';
  if (CONTROL_REGEXP.test(ref)) return "it contains a control character";
  if (SPACE_REGEXP.test(ref)) return "it contains whitespace";
  if (ref.includes("..")) return 'it contains ".."';
  if (ref.includes("@{")) return 'it contains "@{"';
  if (!ALLOWED_CHARS_REGEXP.test(ref)) {
    const bad = [...ref].find((c) => !ALLOWED_CHARS_REGEXP.test(c));
    return `it contains ${quote(bad ?? "?")}, which a branch, tag or commit name may not contain`;
  }
  if (ref === "@") return 'it is "@"';
  if (ref.startsWith("/") || ref.endsWith("/")) return 'it starts or ends with "/"';
  if (ref.includes("//")) return 'it contains "//"';
  if (ref.endsWith(".")) return 'it ends with "."';
  for (const part of ref.split("/")) {
    if (part.startsWith(".")) return 'a part of it starts with "."';
    if (part.endsWith(".lock")) return 'a part of it ends with ".lock"';
  }
  return undefined;
}

/**
 * Returns `ref` when it is a safe branch, tag, full ref or commit name.
 *
 * @throws {WorkspaceError} naming `workspace.ref` and quoting the value
 */
export function validateRef(ref: string): string {
  const problem = refProblem(ref);
  if (problem) {
    throw new WorkspaceError(`Cannot use workspace.ref ${quote(ref)}: ${problem}`, {
      field: "workspace.ref",
      hint: REF_HINT,
    });
  }
  return ref;
}

/** Whether `name` is a safe branch name (same rules), e.g. a remote's default branch. */
export function isSafeRefName(name: string): boolean {
  return refProblem(name) === undefined;
}
