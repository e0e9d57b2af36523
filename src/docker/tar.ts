/**
 * A small ustar writer for image build contexts and imported root filesystems.
 *
 * Written by hand: JSR's `@std/tar` is unreachable here, and npm's `tar-stream` pulls in Node
 * stream shims (`streamx`, `b4a`, …) for what is ~150 lines of header arithmetic. Supports files
 * (from bytes, text or a stream of known size), folders and symlinks, with mode/uid/gid/mtime.
 * Names longer than ustar's 100+155 bytes, link targets over 100 bytes and files of 8 GiB or more
 * get a PAX extended header first. Defaults (mtime 0, uid/gid 0) keep the output reproducible, so
 * a digest of it can name an image.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";

const BLOCK = 512;
const ENCODER = new TextEncoder();
const MAX_OCTAL_SIZE = 0o77777777777;

/** Fields every entry may set. */
interface TarEntryBase {
  /** Relative path inside the archive (`a/b.txt`); no `..` segments. */
  path: string;
  /** Permission bits; default 0o644 for files, 0o755 for folders, 0o777 for symlinks. */
  mode?: number | undefined;
  uid?: number | undefined;
  gid?: number | undefined;
  /** Modification time in Unix seconds; default 0. */
  mtime?: number | undefined;
}

/** One archive entry. */
export type TarEntry =
  | TarEntryBase & { type: "file"; data: Uint8Array | string }
  | TarEntryBase & {
    type: "file";
    /** Exact byte count of `stream`; the writer fails if the stream delivers another amount. */
    size: number;
    stream: AsyncIterable<Uint8Array>;
  }
  | TarEntryBase & { type: "dir" }
  | TarEntryBase & { type: "symlink"; target: string };

/** Entries whose content is in memory, accepted by {@linkcode tarBytes}. */
export type TarBytesEntry = Exclude<TarEntry, { stream: AsyncIterable<Uint8Array> }>;

/** Writes `entries` as a ustar archive, streamed. */
export function tarStream(
  entries: Iterable<TarEntry> | AsyncIterable<TarEntry>,
): ReadableStream<Uint8Array> {
  return ReadableStream.from(tarChunks(entries));
}

/** Writes in-memory `entries` as one ustar archive. */
export function tarBytes(entries: Iterable<TarBytesEntry>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    const data = entry.type === "file" ? toBytes(entry.data) : undefined;
    parts.push(...headerBlocks(entry, data?.length ?? 0));
    if (data) parts.push(data, padding(data.length));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return concatBytes(parts);
}

async function* tarChunks(
  entries: Iterable<TarEntry> | AsyncIterable<TarEntry>,
): AsyncGenerator<Uint8Array> {
  for await (const entry of entries) {
    if (entry.type === "file" && "stream" in entry) {
      yield* headerBlocks(entry, entry.size);
      let written = 0;
      for await (const chunk of entry.stream) {
        written += chunk.length;
        if (written > entry.size) break;
        yield chunk;
      }
      if (written !== entry.size) {
        throw new RangeError(
          `Cannot write "${entry.path}" to the archive: its stream gave ${written} bytes, expected ${entry.size}`,
        );
      }
      yield padding(entry.size);
    } else {
      const data = entry.type === "file" ? toBytes(entry.data) : undefined;
      yield* headerBlocks(entry, data?.length ?? 0);
      if (data) yield concatBytes([data, padding(data.length)]);
    }
  }
  yield new Uint8Array(BLOCK * 2);
}

function headerBlocks(entry: TarEntry, size: number): Uint8Array[] {
  const path = normalizePath(entry.path, entry.type === "dir");
  const target = entry.type === "symlink" ? entry.target : "";
  const pax: Record<string, string> = {};
  const split = splitName(path);
  if (!split) pax.path = path;
  if (ENCODER.encode(target).length > 100) pax.linkpath = target;
  if (size > MAX_OCTAL_SIZE) pax.size = String(size);
  const blocks: Uint8Array[] = [];
  if (Object.keys(pax).length > 0) {
    const body = paxBody(pax);
    blocks.push(header({ name: "PaxHeader", prefix: "", type: "x", size: body.length }));
    blocks.push(body, padding(body.length));
  }
  const type = entry.type === "file" ? "0" : entry.type === "dir" ? "5" : "2";
  const defaultMode = entry.type === "file" ? 0o644 : entry.type === "dir" ? 0o755 : 0o777;
  blocks.push(header({
    name: split?.name ?? path.slice(-99),
    prefix: split?.prefix ?? "",
    type,
    size: size > MAX_OCTAL_SIZE ? 0 : size,
    mode: entry.mode ?? defaultMode,
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    mtime: entry.mtime ?? 0,
    linkname: target.length > 100 ? "" : target,
  }));
  return blocks;
}

interface HeaderFields {
  name: string;
  prefix: string;
  type: string;
  size: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
}

function header(f: HeaderFields): Uint8Array {
  const b = new Uint8Array(BLOCK);
  writeString(b, 0, 100, f.name);
  writeOctal(b, 100, 8, f.mode ?? 0o644);
  writeOctal(b, 108, 8, f.uid ?? 0);
  writeOctal(b, 116, 8, f.gid ?? 0);
  writeOctal(b, 124, 12, f.size);
  writeOctal(b, 136, 12, f.mtime ?? 0);
  b.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  writeString(b, 156, 1, f.type);
  writeString(b, 157, 100, f.linkname ?? "");
  writeString(b, 257, 6, "ustar");
  writeString(b, 263, 2, "00");
  writeString(b, 265, 32, f.uid ? "" : "root");
  writeString(b, 297, 32, f.gid ? "" : "root");
  writeString(b, 345, 155, f.prefix);
  const sum = b.reduce((acc, x) => acc + x, 0);
  writeString(b, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return b;
}

/** Splits a path into ustar's `prefix` (≤155 bytes) and `name` (≤100 bytes), if possible. */
function splitName(path: string): { name: string; prefix: string } | undefined {
  const bytes = ENCODER.encode(path);
  if (bytes.length <= 100) return { name: path, prefix: "" };
  if (bytes.length !== path.length) return undefined; // non-ASCII: let PAX carry it exactly
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) {
    if (i <= 155 && path.length - i - 1 <= 100 && path.length - i - 1 > 0) {
      return { prefix: path.slice(0, i), name: path.slice(i + 1) };
    }
  }
  return undefined;
}

function paxBody(records: Record<string, string>): Uint8Array {
  let text = "";
  for (const [key, value] of Object.entries(records)) {
    const rest = ` ${key}=${value}\n`;
    const restLen = ENCODER.encode(rest).length;
    let len = restLen + 1;
    while (String(len).length + restLen !== len) len = String(len).length + restLen;
    text += `${len}${rest}`;
  }
  return ENCODER.encode(text);
}

function normalizePath(path: string, isDir: boolean): string {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.includes("..")) {
    throw new TypeError(`Cannot add "${path}" to the archive: use a relative path without ".."`);
  }
  return parts.join("/") + (isDir ? "/" : "");
}

function writeString(b: Uint8Array, offset: number, length: number, s: string): void {
  b.set(ENCODER.encode(s).subarray(0, length), offset);
}

function writeOctal(b: Uint8Array, offset: number, length: number, n: number): void {
  writeString(b, offset, length, Math.trunc(n).toString(8).padStart(length - 1, "0") + "\0");
}

function padding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? ENCODER.encode(data) : data;
}
