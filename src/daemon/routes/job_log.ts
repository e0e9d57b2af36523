/**
 * `GET /api/jobs/<id>/log`: a byte range of the job's saved output (`jobs/<id>.log`, written
 * redacted by the runner), readable while it grows. Reads are bounded: at most
 * {@linkcode MAX_LOG_READ} bytes per request, and the file is opened without following a link
 * and must be the regular file that was looked at (the path is pylon's, but a link there would
 * make the API read any file the daemon can).
 *
 * @module
 */

import { constants, type Stats } from "node:fs";
import { lstat, open } from "node:fs/promises";

/** The most bytes one request returns (`limit` is capped at it). */
export const MAX_LOG_READ = 1024 * 1024;

const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK |
  constants.O_NOCTTY;

/** A read part of a log: `size` is the file's size when read (0 when there is no log). */
export type LogSlice =
  | { ok: true; bytes: Uint8Array<ArrayBuffer>; size: number }
  | { ok: false; reason: string };

/** Reads up to `limit` bytes of the log at `path` from byte `offset`. */
export async function readLogSlice(path: string, offset: number, limit: number): Promise<LogSlice> {
  let seen: Stats;
  try {
    seen = await lstat(path);
  } catch (e) {
    if ((e as { code?: unknown }).code === "ENOENT") return empty();
    throw e;
  }
  if (!seen.isFile()) return { ok: false, reason: "the job's log is not a regular file" };
  let handle;
  try {
    handle = await open(path, FLAGS);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "ENOENT") return empty(); // removed meanwhile (retention)
    if (code === "ELOOP" || code === "EMLINK" || code === "ENXIO") {
      return { ok: false, reason: "the job's log is not a regular file" };
    }
    throw e;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.dev !== seen.dev || info.ino !== seen.ino) {
      return { ok: false, reason: "the job's log was replaced while it was being read" };
    }
    const size = info.size;
    const want = Math.max(0, Math.min(limit, MAX_LOG_READ, size - offset));
    const bytes = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await handle.read(bytes, got, want - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { ok: true, bytes: bytes.subarray(0, got), size };
  } finally {
    await handle.close();
  }
}

function empty(): LogSlice {
  return { ok: true, bytes: new Uint8Array(), size: 0 };
}
