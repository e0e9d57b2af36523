/**
 * Reads the JSON-lines progress stream of build, pull and import. The Engine reports failures
 * inside a 200 answer (`{"error": ..., "errorDetail": ...}`), so the stream must be read to the end
 * before an operation counts as successful.
 *
 * @module
 */

import { type DockerErrorContext, engineError } from "./errors.ts";
import type { ProgressEvent } from "./types.ts";

/** What a finished progress stream reported. */
export interface ProgressSummary {
  /** The image id: `aux.ID` of a build, the `sha256:` status of an import. */
  imageId: string | undefined;
}

/** Parses newline-delimited JSON objects; tolerates `\r\n` and blank lines. */
export async function* jsonLines(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of source) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) yield JSON.parse(line);
    }
  }
  const rest = (buffer + decoder.decode()).trim();
  if (rest) yield JSON.parse(rest);
}

/**
 * Reads a progress stream to its end, calling `onProgress` for each event.
 *
 * @throws {DockerError} with the Engine's message when an event carries `error`
 */
export async function readProgress(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ctx: DockerErrorContext,
  onProgress?: (event: ProgressEvent) => void,
): Promise<ProgressSummary> {
  const summary: ProgressSummary = { imageId: undefined };
  for await (const value of jsonLines(source)) {
    const event = value as ProgressEvent;
    onProgress?.(event);
    if (event.error !== undefined || event.errorDetail?.message !== undefined) {
      throw engineError(ctx, undefined, event.errorDetail?.message ?? event.error ?? "");
    }
    if (typeof event.aux?.ID === "string") summary.imageId = event.aux.ID;
    if (event.status?.startsWith("sha256:")) summary.imageId = event.status;
  }
  return summary;
}
