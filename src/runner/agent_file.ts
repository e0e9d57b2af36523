/**
 * Reads a file an agent wrote (`$PYLON_OUT/result.json`, `events.ndjson`). The agent owns the
 * folder, so the name may be a symbolic link (to `/dev/zero`, to a root-only host file), a FIFO
 * (which blocks whoever opens it) or a file of any size. The file is opened without following a
 * link and without blocking (`O_NOFOLLOW | O_NONBLOCK`), read only when the opened file is a
 * regular file, and never past a size cap. Only the last path component is the agent's: the
 * folders above it are pylon's (the agent sees its folder as a mount point it cannot replace).
 *
 * @module
 */

import { constants, type Stats } from "node:fs";
import { lstat, open } from "node:fs/promises";

/** What {@linkcode readAgentFile} found. */
export type AgentFile =
  | { kind: "missing" }
  /** Not read: `reason` completes "the agent's <name> …" (e.g. "is a symbolic link"). */
  | { kind: "refused"; reason: string }
  /** `truncated`: the file is larger than the cap and only its first or last bytes were read. */
  | { kind: "read"; bytes: Uint8Array; size: number; truncated: boolean };

/** Options of {@linkcode readAgentFile}. */
export interface ReadAgentFileOptions {
  /** The most bytes read (and kept in memory). */
  maxBytes: number;
  /**
   * What a larger file gives: `"refuse"` (nothing), or its first (`"head"`) or last (`"tail"`)
   * `maxBytes`. @default {"refuse"}
   */
  whenLarger?: "refuse" | "head" | "tail";
  /** Stops reading (the job's deadline or kill); the read then rejects with the reason. */
  signal?: AbortSignal | undefined;
}

const CHUNK = 64 * 1024;
const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK |
  constants.O_NOCTTY;

/** Reads an agent-written file safely (see the module doc). */
export async function readAgentFile(path: string, o: ReadAgentFileOptions): Promise<AgentFile> {
  o.signal?.throwIfAborted();
  // Look before opening: Deno resolves a path's links for its permission check when it runs
  // with per-path permissions (the compiled binary's flags), so O_NOFOLLOW alone does not refuse
  // a link there. The open below still uses O_NOFOLLOW | O_NONBLOCK, and the opened file must be
  // the one looked at (same device and inode), so a link swapped in meanwhile is refused too.
  let seen: Stats;
  try {
    seen = await lstat(path);
  } catch (e) {
    if ((e as { code?: unknown }).code === "ENOENT") return { kind: "missing" };
    throw e;
  }
  if (seen.isSymbolicLink()) return { kind: "refused", reason: "is a symbolic link" };
  if (!seen.isFile()) return { kind: "refused", reason: `is not a regular file (${kindOf(seen)})` };
  let handle;
  try {
    handle = await open(path, FLAGS);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "ENOENT") return { kind: "missing" };
    // O_NOFOLLOW on a link: ELOOP (EMLINK on some BSDs).
    if (code === "ELOOP" || code === "EMLINK") {
      return { kind: "refused", reason: "is a symbolic link" };
    }
    // A socket (ENXIO) or a folder opened for writing: not a file either way.
    if (code === "ENXIO" || code === "EISDIR") {
      return { kind: "refused", reason: "is not a regular file" };
    }
    throw e;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      return { kind: "refused", reason: `is not a regular file (${kindOf(info)})` };
    }
    if (info.dev !== seen.dev || info.ino !== seen.ino) {
      return { kind: "refused", reason: "was replaced while it was being read" };
    }
    const size = info.size;
    const whenLarger = o.whenLarger ?? "refuse";
    if (size > o.maxBytes && whenLarger === "refuse") {
      return { kind: "refused", reason: `is larger than ${formatBytes(o.maxBytes)}` };
    }
    const start = size > o.maxBytes && whenLarger === "tail" ? size - o.maxBytes : 0;
    // One byte more than allowed tells a file that grows while it is read.
    const want = Math.min(o.maxBytes, size - start) + (whenLarger === "refuse" ? 1 : 0);
    const bytes = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      o.signal?.throwIfAborted();
      const { bytesRead } = await handle.read(
        bytes,
        got,
        Math.min(CHUNK, want - got),
        start + got,
      );
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > o.maxBytes) {
      return { kind: "refused", reason: `is larger than ${formatBytes(o.maxBytes)}` };
    }
    return { kind: "read", bytes: bytes.subarray(0, got), size, truncated: size > o.maxBytes };
  } finally {
    await handle.close();
  }
}

/** `1 MiB`, `64 KiB`, `512 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return "a FIFO";
  if (info.isDirectory()) return "a folder";
  if (info.isSocket()) return "a socket";
  if (info.isCharacterDevice() || info.isBlockDevice()) return "a device";
  return "not a file";
}
