/**
 * Checks an archive an agent uploaded (its state folder, `PUT /agent/v1/jobs/<id>/state`) before
 * the daemon keeps it. Everything that comes back from a job is hostile input (issue 12): the
 * archive must be plain ustar (with PAX or GNU long-name records for long paths), hold only
 * regular files and folders — no symbolic or hard links, devices, FIFOs or sparse files — under
 * relative paths without `..`, and stay within a size and an entry count. The daemon never
 * extracts it: it is kept as one file and handed back to the job's follow-up, whose container
 * extracts it into its own state folder.
 *
 * @module
 */

const BLOCK = 512;
const DECODER = new TextDecoder("utf-8", { fatal: false });

/** Limits of {@linkcode checkStateTar}. */
export interface TarLimits {
  /** The most bytes of the archive. */
  maxBytes: number;
  /** The most entries (files and folders). @default {100_000} */
  maxEntries?: number;
}

/** What the check found. */
export type TarCheck =
  | { ok: true; entries: number; fileBytes: number }
  | { ok: false; problem: string };

/** Checks `tar` (see the module doc). */
export function checkStateTar(tar: Uint8Array, limits: TarLimits): TarCheck {
  const maxEntries = limits.maxEntries ?? 100_000;
  if (tar.length > limits.maxBytes) {
    return { ok: false, problem: `the archive is larger than ${limits.maxBytes} bytes` };
  }
  if (tar.length % BLOCK !== 0) {
    return { ok: false, problem: "the archive is not a whole number of 512-byte blocks" };
  }
  let at = 0;
  let entries = 0;
  let fileBytes = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  let paxSize: number | undefined;
  while (at + BLOCK <= tar.length) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) return { ok: true, entries, fileBytes };
    if (!checksumMatches(header)) return { ok: false, problem: `a bad header at byte ${at}` };
    const type = String.fromCharCode(header[156] ?? 0);
    const rawSize = octal(header.subarray(124, 136));
    if (rawSize === null) return { ok: false, problem: `an unreadable size at byte ${at}` };
    const size = paxSize ?? rawSize;
    const dataEnd = at + BLOCK + Math.ceil(rawSize / BLOCK) * BLOCK;
    if (dataEnd > tar.length) return { ok: false, problem: "the archive ends inside an entry" };
    const data = tar.subarray(at + BLOCK, at + BLOCK + rawSize);
    at = dataEnd;
    if (type === "x") {
      const pax = parsePax(data);
      if (typeof pax === "string") return { ok: false, problem: pax };
      if (pax.has("linkpath")) return { ok: false, problem: "a link (PAX linkpath)" };
      paxPath = pax.get("path");
      const s = pax.get("size");
      paxSize = s === undefined ? undefined : Number(s);
      if (paxSize !== undefined && !Number.isSafeInteger(paxSize)) {
        return { ok: false, problem: "a PAX size that is not a number" };
      }
      continue;
    }
    if (type === "L") {
      longName = cString(data);
      continue;
    }
    const name = paxPath ?? longName ?? ustarName(header);
    paxPath = longName = paxSize = undefined;
    const pathProblem = problemOfPath(name);
    if (pathProblem) return { ok: false, problem: `${JSON.stringify(name)}: ${pathProblem}` };
    if (type === "0" || type === "\0" || type === "7") {
      if (size !== rawSize) return { ok: false, problem: `${name}: sizes disagree` };
      fileBytes += size;
    } else if (type !== "5") {
      return { ok: false, problem: `${JSON.stringify(name)} is ${kindOf(type)}` };
    }
    if (++entries > maxEntries) {
      return { ok: false, problem: `more than ${maxEntries} entries` };
    }
  }
  // GNU and busybox tar end with zero blocks; an archive cut short of them is still whole.
  return { ok: true, entries, fileBytes };
}

/** Why `name` may not be in the archive, or undefined. */
export function problemOfPath(name: string): string | undefined {
  if (name === "" || name === "./" || name === ".") {
    return name === "" ? "an empty name" : undefined;
  }
  if (name.startsWith("/")) return "an absolute path";
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\\]/.test(name)) return "a control character or backslash in the name";
  const segments = name.replace(/\/+$/, "").split("/");
  if (segments.includes("..")) return "a path with ..";
  return undefined;
}

function kindOf(type: string): string {
  switch (type) {
    case "1":
      return "a hard link";
    case "2":
      return "a symbolic link";
    case "3":
    case "4":
      return "a device";
    case "6":
      return "a FIFO";
    case "S":
      return "a sparse file";
    default:
      return `an entry of type ${JSON.stringify(type)} (only files and folders are kept)`;
  }
}

function ustarName(header: Uint8Array): string {
  const name = cString(header.subarray(0, 100));
  const magic = DECODER.decode(header.subarray(257, 262));
  const prefix = magic === "ustar" ? cString(header.subarray(345, 500)) : "";
  return prefix ? `${prefix}/${name}` : name;
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return DECODER.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function octal(field: Uint8Array): number | null {
  // Base-256 (GNU, for 8 GiB and more) is refused: no state file is that large.
  if ((field[0] ?? 0) & 0x80) return null;
  const text = cString(field).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) return null;
  const n = parseInt(text, 8);
  return Number.isSafeInteger(n) ? n : null;
}

function checksumMatches(header: Uint8Array): boolean {
  const stored = octal(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  return stored === sum;
}

/** PAX records (`<len> <key>=<value>\n`), or a problem. */
function parsePax(data: Uint8Array): Map<string, string> | string {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) return "a malformed PAX record";
    const len = Number(DECODER.decode(data.subarray(at, space)));
    if (!Number.isSafeInteger(len) || len <= 0 || at + len > data.length) {
      return "a malformed PAX record";
    }
    const record = DECODER.decode(data.subarray(space + 1, at + len - 1));
    const eq = record.indexOf("=");
    if (eq < 0) return "a malformed PAX record";
    out.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return out;
}
