/**
 * Claude Code permission rules as `agent.approve_tools` uses them (issue 14 §4): `Bash(git
 * push:*)`, `Bash(rm:*)`, `WebFetch`, `WebFetch(domain:github.com)`, `Edit(src/**)`,
 * `mcp__github__*`. Checking a rule's syntax (for a config error that names the fix) and
 * deciding whether a tool call matches one. Pure.
 *
 * The hook inside the container (`agents/_shared/pylon-approve.mjs`) matches with the same
 * rules in JavaScript; `tests/tools/rules_test.ts` runs both over one table so they agree.
 *
 * Design: a rule that asks for approval must err towards matching. A call that matches by
 * mistake costs a person a press; one that slips past costs a `git push`. So `Bash(x:*)` and
 * `Bash(x)` both match every command that starts with `x`, in every part of a compound command
 * (`cd a && git push`), after leading `VAR=value`, `sudo`, `env`, `exec`, `nohup`, `time`,
 * `command`. What pattern rules cannot see (`sh -c "…"`, `git -C dir push`, an interpreter) is
 * in the README; `allowed_tools` is the real limit.
 *
 * @module
 */

/** A rule, parsed: the tool name (may hold `*`) and what is inside the parentheses. */
export interface PermissionRule {
  text: string;
  tool: string;
  spec: string | undefined;
}

const RULE_REGEXP = /^([A-Za-z*][A-Za-z0-9_*-]*)(?:\((.*)\))?$/s;

/** Why `text` is not a permission rule (completes "agent.approve_tools[0] …"), or undefined. */
export function permissionRuleProblem(text: string): string | undefined {
  const example = "write it like Bash(git push:*), WebFetch or mcp__github__*";
  if (text.trim() === "") return `is empty; ${example}`;
  const m = RULE_REGEXP.exec(text.trim());
  if (!m) return `is not a permission rule; ${example}`;
  if (m[2] !== undefined && m[2].trim() === "") {
    return `has empty parentheses; drop them (${m[1]}) or say what to match, e.g. Bash(git push:*)`;
  }
  return undefined;
}

/** Parses a rule already checked by {@linkcode permissionRuleProblem}. */
export function parsePermissionRule(text: string): PermissionRule {
  const m = RULE_REGEXP.exec(text.trim());
  if (!m) throw new TypeError(`Cannot parse permission rule ${JSON.stringify(text)}`);
  return { text: text.trim(), tool: m[1]!, spec: m[2]?.trim() };
}

/** The first of `rules` that the call `tool(input)` matches, or undefined. */
export function matchingRule(
  rules: readonly string[],
  tool: string,
  input: unknown,
): string | undefined {
  return rules.find((rule) => ruleMatches(parsePermissionRule(rule), tool, input));
}

/** Whether the call `tool(input)` matches `rule`. */
export function ruleMatches(rule: PermissionRule, tool: string, input: unknown): boolean {
  if (!toolNameMatches(rule.tool, tool)) return false;
  if (rule.spec === undefined || rule.spec === "*") return true;
  const fields = isRecord(input) ? input : {};
  if (tool === "Bash") {
    const command = typeof fields.command === "string" ? fields.command : "";
    return commandParts(command).some((part) => commandMatches(rule.spec!, part));
  }
  if (tool === "WebFetch" && rule.spec.startsWith("domain:")) {
    const domain = rule.spec.slice("domain:".length).trim().toLowerCase();
    const host = hostOf(fields.url);
    return host === undefined || host === domain || host.endsWith("." + domain);
  }
  const path = fields.file_path ?? fields.notebook_path ?? fields.path;
  if (typeof path === "string") return pathMatches(rule.spec, path);
  // Any other tool: any string in its input.
  return stringsOf(input).some((s) => globRegExp(rule.spec!, false).test(s));
}

/** `Bash`, `mcp__github` (the whole server), `mcp__github__*`, `mcp__*`. */
function toolNameMatches(pattern: string, tool: string): boolean {
  if (pattern.includes("*")) return globRegExp(pattern, false).test(tool);
  if (pattern === tool) return true;
  // A server alone names all of its tools.
  return pattern.startsWith("mcp__") && !pattern.slice(5).includes("__") &&
    tool.startsWith(pattern + "__");
}

/** The simple commands of a shell line, leading assignments and wrappers removed. */
export function commandParts(command: string): string[] {
  return command.split(/&&|\|\||[;|&\n\r`()]|\$\(/).map(normalizeCommand).filter((p) => p !== "");
}

const WRAPPERS = new Set(["sudo", "env", "exec", "nohup", "time", "command", "builtin", "nice"]);

function normalizeCommand(part: string): string {
  const words = part.trim().split(/\s+/).filter((w) => w !== "");
  while (
    words.length > 0 &&
    (WRAPPERS.has(words[0]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!))
  ) words.shift();
  return words.join(" ");
}

/** `git push:*` and `git push` match `git push …`; `git * main` is a glob. */
function commandMatches(spec: string, command: string): boolean {
  const prefix = spec.endsWith(":*") ? spec.slice(0, -2) : spec;
  const normalized = normalizeCommand(prefix);
  if (normalized.includes("*")) return globRegExp(normalized + "*", false).test(command);
  return command === normalized || command.startsWith(normalized + " ") ||
    // `Bash(rm:*)` also stops `rm-something`: erring towards asking.
    (spec.endsWith(":*") && command.startsWith(normalized));
}

function pathMatches(spec: string, path: string): boolean {
  const pattern = spec.replace(/^\.\//, "");
  const re = globRegExp(pattern, true);
  if (re.test(path)) return true;
  const relative = path.replace(/^\/workspace\//, "");
  return re.test(relative) || (!pattern.startsWith("/") && globRegExp("**/" + pattern, true)
    .test(relative));
}

/** A glob as an anchored RegExp: `**` any text, `*` any text (in paths: within one folder). */
function globRegExp(glob: string, path: boolean): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      out += ".*";
      i++;
      if (glob[i + 1] === "/") i++;
    } else if (c === "*") out += path ? "[^/]*" : ".*";
    else out += c.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`, "s");
}

function hostOf(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function stringsOf(value: unknown, depth = 0): string[] {
  if (typeof value === "string") return [value];
  if (depth > 8 || value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap((v) => stringsOf(v, depth + 1));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
