/**
 * Keeps secrets out of what leaves the daemon (issue 12, item 18). An agent holds the pylon's
 * API key and `agent.env`, and a prompt may hold `${VAR}` values: whatever it prints or answers
 * could otherwise be posted as a public comment. One {@linkcode Redactor} per pylon, built from
 * its resolved secrets ({@linkcode redactorFor}), replaces each value with `[redacted]` in results,
 * errors, rendered prompts, events, the job's log file and the daemon's output lines.
 *
 * Values shorter than {@linkcode MIN_SECRET_LENGTH} are left alone: replacing `dev` or `1` in
 * every text would mangle it, and such values are not secrets worth the name. Each value is also
 * matched in its JSON-escaped and URL-encoded forms (agent output is often JSON). Other encodings
 * (base64, hex, a value split by the agent) are not recognised: redaction stops accidents and
 * casual leaks, not an agent determined to exfiltrate (that is what `agent.network: none` is for).
 *
 * @module
 */

/** What a secret becomes. */
export const REDACTED = "[redacted]";

/** Shorter values are not redacted (see the module doc). */
export const MIN_SECRET_LENGTH = 6;

/** Replaces known secret values in text. */
export interface Redactor {
  /** `text` with every secret replaced by {@linkcode REDACTED}. */
  redact(text: string): string;
  /** A redactor for text that arrives in pieces (a log stream): secrets split across pieces are caught. */
  stream(): StreamRedactor;
  /**
   * The same for raw bytes (a log file), keeping their length: each secret is overwritten in
   * place by `[redacted]` padded with `*` (or `*`s, for a shorter one), and bytes that are not
   * UTF-8 pass unchanged. Written bytes stay at the offsets of the output they came from.
   */
  bytes(): StreamRedactor<Uint8Array>;
  /** Whether there is anything to redact. */
  readonly active: boolean;
}

/** Redacts a stream of text (or bytes); see {@linkcode Redactor.stream}. */
export interface StreamRedactor<T extends string | Uint8Array = string> {
  /**
   * Redacts `piece` together with what was held back; returns what is safe to pass on. The end
   * of a piece that could be the start of a secret is held back until the next piece.
   */
  push(piece: T): T;
  /** What is still held back: call at the end of the stream (not after an abort). */
  flush(): T;
}

/** A redactor that changes nothing. */
export const NO_REDACTION: Redactor = {
  redact: (text) => text,
  stream: () => ({ push: (piece) => piece, flush: () => "" }),
  bytes: () => ({ push: (piece) => piece, flush: () => new Uint8Array() }),
  active: false,
};

/** Builds a redactor for `values` (duplicates, empty and short values are dropped). */
export function createRedactor(values: Iterable<string | null | undefined>): Redactor {
  const forms = new Set<string>();
  for (const value of values) {
    if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH) continue;
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
    forms.add(encodeURIComponent(value));
  }
  if (forms.size === 0) return NO_REDACTION;
  // Longest first: a secret that contains another is replaced whole.
  const secrets = [...forms].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(secrets.map(escapeRegExp).join("|"), "g");
  const redact = (text: string) => text.replace(pattern, REDACTED);
  // Bytes are handled as Latin-1 text (one character per byte), secrets as their UTF-8 bytes.
  const raw = [...new Set(secrets.map((v) => latin1(utf8.encode(v))))]
    .sort((a, b) => b.length - a.length);
  const rawPattern = new RegExp(raw.map(escapeRegExp).join("|"), "g");
  const mask = (text: string) => text.replace(rawPattern, (m) => maskOf(m.length));
  return {
    redact,
    stream: () => streamRedactor(secrets, redact),
    bytes: () => {
      const inner = streamRedactor(raw, mask);
      return {
        push: (piece) => fromLatin1(inner.push(latin1(piece))),
        flush: () => fromLatin1(inner.flush()),
      };
    },
    active: true,
  };
}

/**
 * Redacts the data of log chunks per stream (stdout and stderr are split independently), in
 * place and keeping byte lengths ({@linkcode Redactor.bytes}). What is held back is passed on when
 * the source ends, and dropped when it fails (an aborted follow reads it again later).
 */
export async function* redactChunks<C extends { stream: string; data: Uint8Array }>(
  chunks: AsyncIterable<C>,
  redactor: Redactor,
): AsyncGenerator<C> {
  if (!redactor.active) return yield* chunks;
  const streams = new Map<string, StreamRedactor<Uint8Array>>();
  const last = new Map<string, C>();
  for await (const chunk of chunks) {
    let stream = streams.get(chunk.stream);
    if (!stream) streams.set(chunk.stream, stream = redactor.bytes());
    last.set(chunk.stream, chunk);
    const data = stream.push(chunk.data);
    if (data.length > 0) yield { ...chunk, data };
  }
  for (const [name, stream] of streams) {
    const data = stream.flush();
    if (data.length > 0) yield { ...last.get(name)!, data };
  }
}

const utf8 = new TextEncoder();

/** Length-keeping stand-in for a secret of `n` bytes. */
function maskOf(n: number): string {
  return n >= REDACTED.length ? REDACTED.padEnd(n, "*") : "*".repeat(n);
}

function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

function fromLatin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

const cache = new WeakMap<readonly string[], Redactor>();

/** The redactor of a pylon's resolved `secrets`, built once per resolved pylon. */
export function redactorFor(pylon: { secrets: readonly string[] } | undefined): Redactor {
  if (!pylon) return NO_REDACTION;
  let redactor = cache.get(pylon.secrets);
  if (!redactor) {
    redactor = createRedactor(pylon.secrets);
    cache.set(pylon.secrets, redactor);
  }
  return redactor;
}

function streamRedactor(secrets: string[], redact: (text: string) => string): StreamRedactor {
  const longest = secrets[0]!.length;
  let held = "";
  return {
    push(piece) {
      const text = redact(held + piece);
      const keep = heldBack(text, secrets, longest);
      held = text.slice(text.length - keep);
      return text.slice(0, text.length - keep);
    },
    flush() {
      const rest = held;
      held = "";
      return rest;
    },
  };
}

/** Length of the longest end of `text` that is the start of some secret. */
function heldBack(text: string, secrets: string[], longest: number): number {
  for (let n = Math.min(longest - 1, text.length); n > 0; n--) {
    const end = text.slice(text.length - n);
    if (secrets.some((s) => s.length > n && s.startsWith(end))) return n;
  }
  return 0;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
