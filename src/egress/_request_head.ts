/**
 * Reads and parses the request head a client sends the egress proxy: the request line and the
 * headers, within a size and a time limit (the client is an agent: hostile). Private to
 * `src/egress`.
 *
 * @module
 */

/** A parsed request head and the bytes that followed it in the same reads. */
export interface RequestHead {
  method: string;
  target: string;
  version: string;
  /** Header lines as sent (name, value), in order. */
  headers: [string, string][];
  /** Bytes after the blank line (the start of a body or a TLS hello). */
  rest: Uint8Array;
}

const decoder = new TextDecoder();

/** Returns the head, or a reason string when the client sent none within the limits. */
export async function readRequestHead(
  conn: Deno.Conn,
  o: { maxBytes: number; signal: AbortSignal },
): Promise<RequestHead | string> {
  let buf = new Uint8Array(0);
  const chunk = new Uint8Array(4096);
  const onAbort = () => conn.close();
  o.signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      const end = indexOfBlankLine(buf);
      if (end >= 0) return parseHead(buf.subarray(0, end), buf.slice(end + 4));
      if (buf.length >= o.maxBytes) return "request head too large";
      let n: number | null;
      try {
        n = await conn.read(chunk);
      } catch {
        return o.signal.aborted ? "request head timed out" : "connection failed";
      }
      if (n === null) return "connection closed before the request head";
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      buf = next;
    }
  } finally {
    o.signal.removeEventListener("abort", onAbort);
  }
}

function indexOfBlankLine(buf: Uint8Array): number {
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

function parseHead(bytes: Uint8Array, rest: Uint8Array): RequestHead | string {
  const lines = decoder.decode(bytes).split("\r\n");
  const parts = (lines[0] ?? "").split(" ");
  if (parts.length !== 3 || !/^HTTP\/1\.[01]$/.test(parts[2]!)) return "malformed request line";
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) return "malformed header line";
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { method: parts[0]!, target: parts[1]!, version: parts[2]!, headers, rest };
}

/** The value of header `name` (case-insensitive), or undefined. */
export function headerValue(head: RequestHead, name: string): string | undefined {
  const lower = name.toLowerCase();
  return head.headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}
