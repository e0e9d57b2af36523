/**
 * `.env` files and `${VAR}` references.
 *
 * A `.env` file holds `KEY=VALUE` lines; `#` comments, blank lines, an `export ` prefix and
 * matching single or double quotes around the value are tolerated. References are written
 * `${NAME}` (or `${NAME:-fallback}`); `$${NAME}` is a literal `${NAME}`. A bare `$NAME` is left
 * alone on purpose: prompts often contain shell snippets.
 *
 * @module
 */

/** A `.env` line that could not be read. */
export interface DotEnvProblem {
  line: number;
  message: string;
}

/** Result of parsing a `.env` file. */
export interface DotEnv {
  vars: Record<string, string>;
  problems: DotEnvProblem[];
}

const KEY_REGEXP = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** Parses the text of a `.env` file. Bad lines are reported, never thrown. */
export function parseDotEnv(text: string): DotEnv {
  const vars: Record<string, string> = {};
  const problems: DotEnvProblem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (line.startsWith("export ")) line = line.slice(7).trimStart();
    const eq = line.indexOf("=");
    if (eq <= 0) {
      problems.push({ line: index + 1, message: "expected KEY=VALUE" });
      return;
    }
    const key = line.slice(0, eq).trim();
    if (!KEY_REGEXP.test(key)) {
      problems.push({ line: index + 1, message: `"${key}" is not a valid variable name` });
      return;
    }
    vars[key] = unquote(line.slice(eq + 1).trim());
  });
  return { vars, problems };
}

function unquote(value: string): string {
  const q = value[0];
  if ((q === '"' || q === "'") && value.length >= 2) {
    const end = value.lastIndexOf(q);
    if (end > 0) {
      const inner = value.slice(1, end);
      return q === '"' ? inner.replace(/\\(["\\nrt])/g, unescapeChar) : inner;
    }
  }
  // An unquoted value may carry a trailing comment after whitespace.
  const hash = value.search(/\s#/);
  return hash >= 0 ? value.slice(0, hash).trimEnd() : value;
}

function unescapeChar(_: string, c: string): string {
  return c === "n" ? "\n" : c === "r" ? "\r" : c === "t" ? "\t" : c;
}

/** One `${NAME}` reference found in a string. */
export interface VarReference {
  name: string;
  /** Whether the reference has a `:-fallback`. */
  hasFallback: boolean;
}

const REF_REGEXP = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Lists the `${NAME}` references of a string (escaped `$${NAME}` excluded). */
export function findReferences(text: string): VarReference[] {
  const refs: VarReference[] = [];
  for (const m of text.matchAll(REF_REGEXP)) {
    if (m[1]) continue;
    refs.push({ name: m[2]!, hasFallback: m[3] !== undefined });
  }
  return refs;
}

/**
 * Replaces `${NAME}` references using `lookup`. Unset or empty names without a fallback are
 * collected in `missing` and replaced by the empty string.
 */
export function expandReferences(
  text: string,
  lookup: (name: string) => string | undefined,
  missing: string[] = [],
): string {
  return text.replace(REF_REGEXP, (whole, escaped, name: string, fallback?: string) => {
    if (escaped) return whole.slice(1);
    const value = lookup(name);
    if (value !== undefined && value !== "") return value;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return "";
  });
}

/**
 * Merges the global `.env` under the process environment: exported variables win, the file only
 * fills in what is not set (an empty exported value counts as unset).
 */
export function mergeGlobalEnv(
  processEnv: Record<string, string>,
  globalFile: Record<string, string>,
): Record<string, string> {
  const merged: Record<string, string> = { ...processEnv };
  for (const [key, value] of Object.entries(globalFile)) {
    if (!merged[key]) merged[key] = value;
  }
  return merged;
}

/**
 * Variables whose values are not secrets even when a `.env` sets them or a config refers to them
 * (`${HOME}/data`): redacting them would only mangle paths and names in results.
 */
const PLAIN_VARS = new Set([
  "HOME",
  "USER",
  "LOGNAME",
  "PWD",
  "PATH",
  "SHELL",
  "TZ",
  "LANG",
  "HOSTNAME",
  "TMPDIR",
  "PYLON_HOME",
]);

/**
 * The values pylon keeps out of what leaves the daemon (results, logs, posts): every value of a
 * `.env` file, and the value of every `${NAME}` a config file expanded (wherever it came from).
 */
export function secretValues(
  dotEnv: Record<string, string>,
  referenced: Iterable<string>,
  env: Record<string, string | undefined>,
): string[] {
  const out = Object.entries(dotEnv).filter(([k]) => !PLAIN_VARS.has(k)).map(([, v]) => v);
  for (const name of referenced) {
    const value = env[name];
    if (value && !PLAIN_VARS.has(name)) out.push(value);
  }
  return out;
}
