/**
 * The file edits behind `pylon setup`: setting values in `config.yaml` through `yaml`'s document
 * model, so comments and fields setup does not know survive a re-run, and setting keys in a
 * `.env` file line by line, so its comments and other variables survive too. Both are pure
 * (text in, text out); {@linkcode stageAndCommit} writes the results atomically.
 *
 * @module
 */

import { basename, join } from "node:path";
import { isMap, parseDocument } from "yaml";
import { ConfigError } from "../errors.ts";

/** One value to set in `config.yaml`: its key path and the new value. */
export type ConfigChange = readonly [path: readonly string[], value: unknown];

const NEW_CONFIG_HEADER = "# pylon config. `pylon setup` updates the values it asks about and\n" +
  "# keeps everything else in this file, comments included.\n";

/**
 * Returns `text` (a config.yaml, possibly empty) with `changes` applied; comments, order and
 * other fields are kept.
 *
 * @throws {ConfigError} when `text` is not valid YAML or not a mapping
 */
export function updateConfigYaml(
  text: string,
  changes: readonly ConfigChange[],
  file = "config.yaml",
): string {
  const fresh = text.trim() === "";
  const doc = parseDocument(fresh ? NEW_CONFIG_HEADER : text);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      `Cannot update ${file}: it is not valid YAML: ${doc.errors[0]!.message}`,
      {
        file,
        cause: doc.errors[0],
        hint: "fix the file (or move it away), then run `pylon setup` again",
      },
    );
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new ConfigError(`Cannot update ${file}: its top level is not a mapping of keys`, {
      file,
      hint: "fix the file (or move it away), then run `pylon setup` again",
    });
  }
  for (const [path, value] of changes) {
    // A section written as `defaults:` (null) cannot take children; make it an empty mapping.
    for (let i = 1; i < path.length; i++) {
      const prefix = path.slice(0, i);
      const node = doc.getIn(prefix, true);
      if (node !== undefined && !isMap(node)) doc.setIn(prefix, doc.createNode({}));
    }
    doc.setIn(path, value);
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

const LINE_KEY_REGEXP = /^\s*(export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=/;
const PLAIN_VALUE_REGEXP = /^[A-Za-z0-9_\-.:/+@=,%~]*$/;

/** Quotes a value for a `.env` line when it needs it (as `parseDotEnv` reads it back). */
export function dotEnvValue(value: string): string {
  if (PLAIN_VALUE_REGEXP.test(value)) return value;
  const escaped = value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r").replace(/\t/g, "\\t");
  return `"${escaped}"`;
}

/**
 * Returns `text` (a `.env` file, possibly empty) with `vars` set: a key that is already there is
 * updated in place (every occurrence, as the last one wins when read), a new key is appended,
 * and comments and other lines are kept as they are.
 */
export function updateDotEnv(text: string, vars: Readonly<Record<string, string>>): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const seen = new Set<string>();
  const out = lines.map((line) => {
    const m = LINE_KEY_REGEXP.exec(line);
    const key = m?.[2];
    if (key === undefined || !Object.hasOwn(vars, key)) return line;
    seen.add(key);
    return `${m![1] ?? ""}${key}=${dotEnvValue(vars[key]!)}`;
  });
  for (const [key, value] of Object.entries(vars)) {
    if (!seen.has(key)) out.push(`${key}=${dotEnvValue(value)}`);
  }
  return out.length ? out.join("\n") + "\n" : "";
}

/** A file to write: its final path, text and mode. */
export interface StagedFile {
  path: string;
  text: string;
  mode: number;
}

/**
 * Writes `files` into a temporary folder inside `dir`, calls `check` with the temporary paths
 * (keyed by final path), and only if it returns renames each file into place. On any error
 * nothing is replaced and the temporary folder is removed.
 */
export async function stageAndCommit(
  dir: string,
  files: readonly StagedFile[],
  check: (staged: Map<string, string>) => Promise<void>,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const stage = await Deno.makeTempDir({ dir, prefix: ".setup-" });
  try {
    const staged = new Map<string, string>();
    for (const f of files) {
      const tmp = join(stage, basename(f.path));
      await Deno.writeTextFile(tmp, f.text, { mode: f.mode });
      await Deno.chmod(tmp, f.mode);
      staged.set(f.path, tmp);
    }
    await check(staged);
    for (const f of files) await Deno.rename(staged.get(f.path)!, f.path);
  } finally {
    await Deno.remove(stage, { recursive: true });
  }
}

/** Reads a text file; `""` when it does not exist. */
export async function readTextOrEmpty(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "";
    throw e;
  }
}
