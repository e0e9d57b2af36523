/**
 * Writes an auto-detected chat id into a config file without losing its comments or layout:
 * `yaml`'s document model (`parseDocument` + `setIn`) edits the one value, and the file is
 * replaced atomically (a temporary file in the same folder, then a rename), so a reader — the
 * daemon's hot reload — never sees half a file.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { type Document, isScalar, parseDocument } from "yaml";
import { ConfigError } from "../../errors.ts";

/** Where `chat_id` lives: a pylon's own section, or the defaults of config.yaml. */
export type ChatIdPath =
  | ["channel", "telegram", "chat_id"]
  | ["defaults", "channel", "telegram", "chat_id"];

/**
 * Sets `keyPath` to `chatId` in the YAML file `file` (created when missing), keeping comments.
 *
 * @throws {ConfigError} when the file is not valid YAML
 */
export async function persistChatId(file: string, keyPath: ChatIdPath, chatId: number) {
  let text = "";
  let mode: number | undefined;
  try {
    text = await Deno.readTextFile(file);
    mode = (await Deno.stat(file)).mode ?? undefined;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      `Cannot save the detected chat id ${chatId}: ${file} is not valid YAML`,
      {
        file,
        cause: doc.errors[0],
        hint: `fix the file, or set ${keyPath.join(".")}: ${chatId} by hand`,
      },
    );
  }
  const tmp = join(dirname(file), `.${basename(file)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  try {
    await Deno.writeTextFile(tmp, edited(text, doc, keyPath, chatId), {
      ...(mode === undefined ? {} : { mode: mode & 0o777 }),
    });
    await Deno.rename(tmp, file);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/**
 * The file with the new value. An existing scalar is replaced in place, so nothing else changes
 * by even a byte; a missing key is added through the document model (comments are kept, but
 * `yaml` may respace flow collections).
 */
function edited(text: string, doc: Document, keyPath: ChatIdPath, chatId: number): string {
  const node = doc.getIn(keyPath, true);
  if (isScalar(node) && node.range) {
    const [start, end] = node.range;
    return text.slice(0, start) + String(chatId) + text.slice(end);
  }
  doc.setIn(keyPath, chatId);
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
