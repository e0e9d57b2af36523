/**
 * Reading a request body within a size and a time limit, for every route that reads one: a
 * sender may neither send more than `server.max_body` nor take longer than
 * `server.body_timeout` to send it (a slowly dripped body would otherwise hold its connection).
 *
 * @module
 */

import { concatBytes } from "../../bytes.ts";

/** A body read in full, or why not. */
export type BodyResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; reason: "too_large" | "timeout" | "aborted" };

/** Default of `timeoutMs`. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** Reads the body up to `max` bytes, within `timeoutMs` of the call. */
export async function readBody(
  req: Request,
  options: { max: number; timeoutMs?: number | undefined },
): Promise<BodyResult> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > options.max) {
    await req.body?.cancel().catch(() => {});
    return { ok: false, reason: "too_large" };
  }
  if (!req.body) return { ok: true, bytes: new Uint8Array() };
  const reader = req.body.getReader();
  let timedOut = false;
  // Cancelling the reader ends a pending read with `done`, so no race per chunk is needed.
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, options.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) return { ok: false, reason: "timeout" };
      if (done) break;
      size += value.length;
      if (size > options.max) {
        await reader.cancel().catch(() => {});
        return { ok: false, reason: "too_large" };
      }
      chunks.push(value);
    }
  } catch {
    // The sender went away mid-body (or the server closed the connection).
    return { ok: false, reason: timedOut ? "timeout" : "aborted" };
  } finally {
    clearTimeout(timer);
  }
  return { ok: true, bytes: concatBytes(chunks) };
}
