/**
 * Reading a request body within a size and a time limit, for every route that reads one: a
 * sender may neither send more than `server.max_body` nor take longer than
 * `server.body_timeout` to send it (a slowly dripped body would otherwise hold its connection).
 *
 * The deadlines are checked by one sweep timer per timeout length, not a timer per read: a
 * `setTimeout` and `clearTimeout` per webhook were ~3 % of the daemon's CPU under load (bench/
 * README.md, issue 17). A read may so run over its timeout by up to a sweep period, an eighth of
 * the timeout (at most 1 s).
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

/** Options of {@linkcode readBody}. */
export interface ReadBodyOptions {
  max: number;
  /** @default {DEFAULT_BODY_TIMEOUT_MS} */
  timeoutMs?: number | undefined;
  /** The request's headers, when the caller has read them already. @default req.headers */
  headers?: Pick<Headers, "get" | "has"> | undefined;
}

/** Reads the body up to `max` bytes, within `timeoutMs` of the call. */
export async function readBody(req: Request, options: ReadBodyOptions): Promise<BodyResult> {
  const headers = options.headers ?? req.headers;
  const declared = Number(headers.get("content-length") ?? NaN);
  if (declared > options.max) {
    await req.body?.cancel().catch(() => {});
    return { ok: false, reason: "too_large" };
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  if (Number.isSafeInteger(declared) && declared >= 0 && !headers.has("transfer-encoding")) {
    return await readDeclared(req, timeoutMs);
  }
  if (!req.body) return { ok: true, bytes: new Uint8Array() };
  const reader = req.body.getReader();
  let timedOut = false;
  // Cancelling the reader ends a pending read with `done`, so no race per chunk is needed.
  const unwatch = watch(timeoutMs, () => {
    timedOut = true;
    reader.cancel().catch(() => {});
  });
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
    unwatch();
  }
  return { ok: true, bytes: concatBytes(chunks) };
}

/**
 * A body of a declared length, within the limit: the server ends it at that length (bytes after
 * it are the next request), so it is read in one piece, with no stream of chunks in between
 * (4 µs less per request than reading chunks, half of `Deno.serve`'s own cost per request).
 * A body still not complete at the deadline is given up on; the caller's answer closes the
 * connection, which ends the read.
 */
function readDeclared(req: Request, timeoutMs: number): Promise<BodyResult> {
  const { promise, resolve } = Promise.withResolvers<BodyResult>();
  const unwatch = watch(timeoutMs, () => resolve({ ok: false, reason: "timeout" }));
  req.bytes().then(
    (bytes) => resolve({ ok: true, bytes }),
    // The sender went away mid-body (or the server closed the connection).
    () => resolve({ ok: false, reason: "aborted" }),
  ).finally(unwatch);
  return promise;
}

/** A read waiting on its deadline. */
interface Pending {
  due: number;
  expire(): void;
}

/** The reads of one timeout length, and the timer that sweeps them while there are any. */
interface Sweep {
  reads: Set<Pending>;
  everyMs: number;
  timer: ReturnType<typeof setInterval> | undefined;
}

const sweeps = new Map<number, Sweep>();

/** Calls `expire` once `timeoutMs` have passed, unless the returned function is called first. */
function watch(timeoutMs: number, expire: () => void): () => void {
  let sweep = sweeps.get(timeoutMs);
  if (!sweep) {
    const everyMs = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 8)));
    sweep = { reads: new Set(), everyMs, timer: undefined };
    sweeps.set(timeoutMs, sweep);
  }
  const pending: Pending = { due: performance.now() + timeoutMs, expire };
  const { reads } = sweep;
  reads.add(pending);
  if (sweep.timer === undefined) startSweeping(sweep);
  return () => reads.delete(pending);
}

/**
 * Sweeps every `everyMs` until a sweep finds no read left. The timer does not keep the process
 * alive (a read in progress has its connection for that).
 */
function startSweeping(sweep: Sweep): void {
  const timer = setInterval(() => {
    if (sweep.reads.size === 0) {
      clearInterval(sweep.timer);
      sweep.timer = undefined;
      return;
    }
    const now = performance.now();
    for (const pending of sweep.reads) {
      if (pending.due > now) continue;
      sweep.reads.delete(pending);
      pending.expire();
    }
  }, sweep.everyMs);
  Deno.unrefTimer(timer);
  sweep.timer = timer;
}
