/**
 * Turns a pylon off or on in its `pylon.yaml` (`disabled: true`, or no `disabled` key) without
 * losing the user's comments or layout: a line is replaced, added or removed in the text where
 * the document allows it, else `yaml`'s document model edits the one key. The file is replaced
 * atomically (a temporary file in the same folder, then a rename), so the daemon's hot reload
 * never reads half a file.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { type Document, isMap, isScalar, parseDocument } from "yaml";
import { ConfigError } from "../errors.ts";

/**
 * Writes `disabled: true` into the YAML file `file` (or removes the key when `disabled` is
 * false); true when the file changed, false when it already said so.
 *
 * @throws {ConfigError} when the file is not valid YAML or not a mapping
 * @throws {Deno.errors.NotFound} when the file does not exist
 */
export async function writeDisabledFlag(file: string, disabled: boolean): Promise<boolean> {
  // lstat, not stat: pylon.yaml is replaced by a rename, which would turn a link into a file.
  const info = await Deno.lstat(file);
  if (!info.isFile) {
    throw new ConfigError(`Cannot change ${file}: it is not a regular file`, {
      file,
      hint: "edit the file it points to by hand",
    });
  }
  const text = await Deno.readTextFile(file);
  const next = withDisabledFlag(text, disabled, file);
  if (next === text) return false;
  const tmp = join(dirname(file), `.${basename(file)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  try {
    await Deno.writeTextFile(tmp, next, {
      createNew: true,
      ...(info.mode === null ? {} : { mode: info.mode & 0o777 }),
    });
    await Deno.rename(tmp, file);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
  return true;
}

/**
 * `text` with `disabled: true` set (or the key removed); `text` itself when nothing changes.
 * Pure, for tests.
 *
 * @throws {ConfigError} when `text` is not a YAML mapping
 */
export function withDisabledFlag(text: string, disabled: boolean, file = "pylon.yaml"): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !(isMap(doc.contents) || doc.contents === null)) {
    throw new ConfigError(`Cannot change ${file}: it is not a valid YAML mapping`, {
      file,
      ...(doc.errors[0] ? { cause: doc.errors[0] } : {}),
      hint: `fix it with \`pylon edit\`, then try again`,
    });
  }
  const current = doc.get("disabled");
  if (disabled ? current === true : !doc.has("disabled")) return text;
  const edited = editLines(text, doc, disabled);
  if (edited !== undefined && saysDisabled(edited) === disabled) return edited;
  if (disabled) doc.set("disabled", true);
  else doc.delete("disabled");
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** Whether `text` parses to a mapping with `disabled: true`. */
function saysDisabled(text: string): boolean | undefined {
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.contents)) return undefined;
  return doc.get("disabled") === true;
}

/**
 * The edit as a change of whole lines of a block mapping, where one does it: the existing
 * `disabled:` line replaced or removed, or a new one after the `name:` line (or first).
 */
function editLines(text: string, doc: Document, disabled: boolean): string | undefined {
  const map = doc.contents;
  if (!isMap(map) || map.flow) return undefined;
  const pairAt = (key: string) =>
    map.items.find((p) => isScalar(p.key) && p.key.value === key && isScalar(p.value));
  const existing = pairAt("disabled");
  if (existing && disabled) {
    // `disabled: false  # why`: only the value changes, the comment stays.
    const range = (existing.value as { range?: [number, number, number] }).range;
    return range ? text.slice(0, range[0]) + "true" + text.slice(range[1]) : undefined;
  }
  if (existing) {
    const line = lineOf(text, existing);
    return line ? text.slice(0, line.start) + text.slice(line.end) : undefined;
  }
  if (!disabled) return undefined;
  const name = pairAt("name");
  const at = name ? lineOf(text, name)?.end : 0;
  if (at === undefined) return undefined;
  const before = text.slice(0, at);
  const newline = before === "" || before.endsWith("\n") ? "" : "\n";
  return before + newline + "disabled: true\n" + text.slice(at);
}

/** The whole line(s) of a top-level `key: scalar` pair, when it starts a line and is alone. */
function lineOf(
  text: string,
  pair: { key: unknown; value: unknown },
): { start: number; end: number } | undefined {
  const key = pair.key as { range?: [number, number, number] };
  const value = pair.value as { range?: [number, number, number] };
  if (!key.range || !value.range) return undefined;
  const start = key.range[0];
  if (start !== 0 && text[start - 1] !== "\n") return undefined;
  if (text.slice(start, value.range[1]).includes("\n")) return undefined; // a multi-line value
  const newline = text.indexOf("\n", value.range[1]);
  return { start, end: newline === -1 ? text.length : newline + 1 };
}
