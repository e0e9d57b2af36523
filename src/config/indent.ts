/**
 * Finds lines whose indentation does not match their neighbours', for a file YAML refused.
 *
 * Why: the YAML parser reports a key indented one space too far (`   path: /x` under
 * `  type: webhook`) at the line above, as "Nested mappings are not allowed in compact
 * mappings", because to it the value `webhook` runs on into the next line. People need the line
 * of the mistake and what is wrong with it. Only used once the parser has failed, so a layout
 * this simple scan does not follow (flow collections spread over lines) costs nothing.
 *
 * @module
 */

import type { ConfigIssue } from "../errors.ts";

const BLOCK_SCALAR_REGEXP = /:\s*[|>][-+0-9]*\s*(#.*)?$/;
const OPENS_REGEXP = /(:|^-|[[{,])\s*(#.*)?$/;
const KEY_REGEXP = /^(?:-\s+)?([^\s:#][^:#]*?)\s*:(\s|$)/;

/** Lines indented unlike any line they could belong with, each with what to do. */
export function indentationIssues(text: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const levels: number[] = [];
  let prev: { indent: number; line: number; content: string } | undefined;
  let scalarOwner: number | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const content = raw.trim();
    if (content === "" || content.startsWith("#") || /^(---|\.\.\.)/.test(raw)) return;
    const indent = raw.length - raw.trimStart().length;
    if (scalarOwner !== undefined && indent > scalarOwner) return; // inside a | or > text
    scalarOwner = undefined;
    const line = i + 1;
    if (prev && indent > prev.indent && !opens(prev.content)) {
      issues.push(mismatch(content, line, indent, prev, "more"));
      return; // the line is skipped: its neighbours stay the reference
    }
    if (prev && indent > prev.indent) {
      levels.push(indent);
      // A list item's keys line up with the text after "- ".
      if (prev.content.startsWith("- ")) levels.push(prev.indent + 2);
    } else {
      while (levels.length > 0 && levels.at(-1)! > indent) levels.pop();
      if (levels.length === 0) levels.push(indent);
      if (levels.at(-1) !== indent && prev) {
        issues.push(mismatch(content, line, indent, prev, "less"));
        return;
      }
    }
    if (BLOCK_SCALAR_REGEXP.test(content)) scalarOwner = indent;
    prev = { indent, line, content };
  });
  return issues;
}

function opens(content: string): boolean {
  return OPENS_REGEXP.test(content) || content.startsWith("- ");
}

function mismatch(
  content: string,
  line: number,
  indent: number,
  prev: { indent: number; line: number; content: string },
  how: "more" | "less",
): ConfigIssue {
  const key = KEY_REGEXP.exec(content)?.[1];
  const what = key ? `\`${key}\`` : "this line";
  const above = KEY_REGEXP.exec(prev.content)?.[1];
  const neighbour = above ? `\`${above}\` on line ${prev.line}` : `line ${prev.line}`;
  const fix = how === "more"
    ? `indent it ${prev.indent} space${
      prev.indent === 1 ? "" : "s"
    } like ${neighbour}, or end line ${prev.line} with \`:\` to nest it there`
    : "indent it exactly like the key it belongs with";
  return {
    keyPath: "",
    message: `${what} is indented ${indent} space${
      indent === 1 ? "" : "s"
    }, ${how} than ${neighbour} (${prev.indent}): its indentation does not match its neighbours; ${fix}`,
    line,
    column: indent + 1,
    hint: "keys of one mapping start in the same column; indent with spaces, not tabs",
  };
}
