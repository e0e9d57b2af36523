/**
 * Webhook signature verification and signing for every format `trigger.signature_format` names.
 *
 * Pure (no I/O; the replay-window clock is injectable). The HMAC's two padded-key hash states
 * are made once per verifier, on first use, so per-request work is two copies of those states
 * (RFC 2104), the digest in hex and a constant-time compare with each candidate signature's hex.
 * `node:crypto` rather than WebCrypto: its synchronous HMAC took 11 % more webhooks per second
 * through the daemon than `crypto.subtle.verify`; the prepared states and the hex compare take
 * `verify()` from 12 µs (a `createHmac` per request, its bytes compared) to 5 µs (issue 17,
 * `bench/signature_bench.ts`). Rejection reasons are one line a sender's operator can act on;
 * they never contain the secret or the expected digest.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import type { TriggerConfig } from "../config/mod.ts";

/** A `trigger.signature_format` value, `auto` included. */
export type SignatureFormat = TriggerConfig["signature_format"];

/** A format after `auto` is resolved; `hex-or-sha256` accepts a bare or `sha256=` digest. */
export type ResolvedSignatureFormat = Exclude<SignatureFormat, "auto"> | "hex-or-sha256";

/** The outcome of one verification. */
export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** What a verifier or signer needs. */
export interface SignatureOptions {
  /** The shared HMAC secret (`trigger.secret`). */
  secret: string;
  /** The header carrying the signature (`trigger.signature_header`), in its configured spelling. */
  header: string;
  /** `trigger.signature_format`. @default "auto" */
  format?: SignatureFormat | undefined;
  /** Time source for the Slack and Stripe replay windows. @default the system clock */
  clock?: { now(): Date } | undefined;
}

/** Verifies the signature of incoming webhook requests for one pylon. */
export interface SignatureVerifier {
  /** The format in effect after `auto` was resolved from the header name. */
  readonly format: ResolvedSignatureFormat;
  /** Checks `headers` against the raw request `body`. */
  verify(headers: Pick<Headers, "get">, body: Uint8Array): Promise<VerifyResult>;
}

/** Header that carries the Slack request timestamp. */
export const SLACK_TIMESTAMP_HEADER = "X-Slack-Request-Timestamp";
/** Largest accepted distance, in seconds, between a Slack/Stripe timestamp and now. */
export const REPLAY_WINDOW_SECONDS = 300;
/** More `v1=` entries than this in a Stripe header is refused (each costs one HMAC). */
const MAX_STRIPE_SIGNATURES = 8;

const UNIX_SECONDS_REGEXP = /^\d{1,12}$/;
const HEX_REGEXP = /^[0-9a-f]*$/i;
const ENCODER = new TextEncoder();
const OK: VerifyResult = { ok: true };

/** Resolves `auto` from the header name (case-insensitive); other formats pass through. */
export function resolveSignatureFormat(
  header: string,
  format: SignatureFormat = "auto",
): ResolvedSignatureFormat {
  if (format !== "auto") return format;
  switch (header.toLowerCase()) {
    case "x-hub-signature-256":
      return "sha256";
    case "x-hub-signature":
      return "sha1";
    case "x-slack-signature":
      return "slack";
    case "stripe-signature":
      return "stripe";
    default:
      return "hex-or-sha256";
  }
}

/**
 * Creates a verifier; does no work until the first `verify()`, which imports the HMAC key once.
 *
 * @throws {TypeError} when the secret or the header name is empty
 */
export function createSignatureVerifier(options: SignatureOptions): SignatureVerifier {
  const { secret, header, clock } = options;
  assertUsable(options);
  const format = resolveSignatureFormat(header, options.format);
  let prepared: ((data: Uint8Array) => string) | undefined;
  const algorithm = format === "sha1" ? "sha1" : "sha256";
  const mac = (data: Uint8Array) =>
    (prepared ??= hmacWith(ENCODER.encode(secret), algorithm))(data);
  const nowMs = clock ? () => clock.now().getTime() : Date.now;
  const ctx: VerifyContext = { format, header, mac, nowMs };
  return {
    format,
    verify(headers, body) {
      return Promise.resolve(verifyRequest(ctx, headers, body));
    },
  };
}

/**
 * Returns the headers a sender attaches to `body`, signed as the verifier expects (used by
 * `pylon test` against a running daemon, and by tests). `auto` on an unknown header signs bare hex.
 *
 * @throws {TypeError} when the secret or the header name is empty
 */
export function signRequest(
  options: SignatureOptions,
  body: Uint8Array,
): Promise<Record<string, string>> {
  try {
    return Promise.resolve(signedHeaders(options, body));
  } catch (e) {
    return Promise.reject(e);
  }
}

function signedHeaders(
  options: SignatureOptions,
  body: Uint8Array,
): Record<string, string> {
  assertUsable(options);
  const format = resolveSignatureFormat(options.header, options.format);
  const mac = hmacWith(ENCODER.encode(options.secret), format === "sha1" ? "sha1" : "sha256");
  const seconds = Math.floor((options.clock?.now().getTime() ?? Date.now()) / 1000);
  switch (format) {
    case "hex":
    case "hex-or-sha256":
      return { [options.header]: mac(body) };
    case "sha256":
    case "sha1":
      return { [options.header]: `${format}=${mac(body)}` };
    case "slack":
      return {
        [options.header]: `v0=${mac(prefixed(`v0:${seconds}:`, body))}`,
        [SLACK_TIMESTAMP_HEADER]: String(seconds),
      };
    case "stripe":
      return { [options.header]: `t=${seconds},v1=${mac(prefixed(`${seconds}.`, body))}` };
  }
}

interface VerifyContext {
  format: ResolvedSignatureFormat;
  header: string;
  /** The HMAC of `data` with the pylon's secret, in lowercase hex. */
  mac(data: Uint8Array): string;
  nowMs(): number;
}

function verifyRequest(
  ctx: VerifyContext,
  headers: Pick<Headers, "get">,
  body: Uint8Array,
): VerifyResult {
  const { format, header } = ctx;
  const value = headers.get(header);
  if (value === null || value === "") return fail(`missing ${header} header`);
  if (format === "slack") return verifySlack(ctx, headers, value, body);
  if (format === "stripe") return verifyStripe(ctx, value, body);
  const digest = decodeSimple(format, value);
  if (digest === undefined) return fail(`${header} is not in the ${SHAPES[format]} format`);
  return check(ctx, [digest], body);
}

/** How each single-digest format is written, for the format error. */
const SHAPES = {
  "hex": "<hex>",
  "hex-or-sha256": "<hex> or sha256=<hex>",
  "sha256": "sha256=<hex>",
  "sha1": "sha1=<hex>",
} as const;

/** The digest (lowercase hex) of a `hex`, `sha256`, `sha1` or `hex-or-sha256` header value. */
function decodeSimple(format: keyof typeof SHAPES, value: string): string | undefined {
  const rest = format === "hex"
    ? value
    : format === "hex-or-sha256"
    ? stripPrefix(value, "sha256=") ?? value
    : stripPrefix(value, `${format}=`);
  return rest === undefined ? undefined : decodeDigest(rest, format === "sha1" ? 20 : 32);
}

function verifySlack(
  ctx: VerifyContext,
  headers: Pick<Headers, "get">,
  value: string,
  body: Uint8Array,
): VerifyResult {
  const rest = stripPrefix(value, "v0=");
  const digest = rest === undefined ? undefined : decodeDigest(rest, 32);
  if (digest === undefined) return fail(`${ctx.header} is not in the v0=<hex> format`);
  const timestamp = headers.get(SLACK_TIMESTAMP_HEADER);
  if (timestamp === null || timestamp === "") {
    return fail(`missing ${SLACK_TIMESTAMP_HEADER} header`);
  }
  const stale = windowProblem(SLACK_TIMESTAMP_HEADER, timestamp, ctx.nowMs());
  if (stale !== undefined) return fail(stale);
  return check(ctx, [digest], prefixed(`v0:${timestamp}:`, body));
}

function verifyStripe(
  ctx: VerifyContext,
  value: string,
  body: Uint8Array,
): VerifyResult {
  const formatError = `${ctx.header} is not in the t=<unix>,v1=<hex> format`;
  let timestamp: string | undefined;
  const digests: string[] = [];
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const item = part.slice(eq + 1).trim();
    if (name === "t") timestamp = item;
    if (name !== "v1") continue;
    const digest = decodeDigest(item, 32);
    if (digest !== undefined) digests.push(digest);
  }
  if (timestamp === undefined || digests.length === 0) return fail(formatError);
  if (digests.length > MAX_STRIPE_SIGNATURES) {
    return fail(`${ctx.header} has more than ${MAX_STRIPE_SIGNATURES} v1 signatures`);
  }
  const stale = windowProblem(`${ctx.header} timestamp`, timestamp, ctx.nowMs());
  if (stale !== undefined) return fail(stale);
  return check(ctx, digests, prefixed(`${timestamp}.`, body));
}

/** Verifies `data` against each candidate digest (constant-time); any match passes. */
function check(ctx: VerifyContext, candidates: string[], data: Uint8Array): VerifyResult {
  const expected = ctx.mac(data);
  for (const candidate of candidates) {
    if (candidate.length === expected.length && sameText(candidate, expected)) return OK;
  }
  return fail("signature does not match (check the secret)");
}

/**
 * Whether two strings of the same length are equal, in a time that depends on their length
 * only (every character is compared, whatever differs), so a forged signature's timing tells
 * nothing about how much of it matched.
 */
function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Why `value` (Unix seconds) falls outside the replay window around `nowMs`, if it does. */
function windowProblem(label: string, value: string, nowMs: number): string | undefined {
  if (!UNIX_SECONDS_REGEXP.test(value)) return `${label} is not a Unix time in seconds`;
  const ageMs = nowMs - Number(value) * 1000;
  if (ageMs > REPLAY_WINDOW_SECONDS * 1000) return `${label} is older than 5 minutes`;
  if (ageMs < -REPLAY_WINDOW_SECONDS * 1000) return `${label} is more than 5 minutes in the future`;
  return undefined;
}

/** `value` without a case-insensitive `prefix`, or undefined when it does not start with it. */
function stripPrefix(value: string, prefix: string): string | undefined {
  return value.slice(0, prefix.length).toLowerCase() === prefix
    ? value.slice(prefix.length)
    : undefined;
}

/** `hex` in lowercase when it is exactly `length` bytes of hex (either case); else undefined. */
function decodeDigest(hex: string, length: number): string | undefined {
  return hex.length === length * 2 && HEX_REGEXP.test(hex) ? hex.toLowerCase() : undefined;
}

/** `prefix` (UTF-8) followed by `body`, the signed string of Slack and Stripe. */
function prefixed(prefix: string, body: Uint8Array): Uint8Array {
  const head = ENCODER.encode(prefix);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** SHA-1's and SHA-256's block size in bytes: the length of HMAC's padded key. */
const HMAC_BLOCK_BYTES = 64;

/**
 * HMAC with `secret` in lowercase hex (RFC 2104: `H(K ^ opad || H(K ^ ipad || data))`), its two
 * padded-key hash states hashed once here and copied per call. `createHmac` derives and hashes
 * the pads again on every call: 12 µs per ~200-byte body, against 5.5 µs this way.
 */
function hmacWith(
  secret: Uint8Array,
  algorithm: "sha1" | "sha256",
): (data: Uint8Array) => string {
  const key = secret.length > HMAC_BLOCK_BYTES
    ? createHash(algorithm).update(secret).digest()
    : secret;
  const pads = [0x36, 0x5c].map((pad) => {
    const block = new Uint8Array(HMAC_BLOCK_BYTES).fill(pad);
    for (let i = 0; i < key.length; i++) block[i]! ^= key[i]!;
    return block;
  });
  const inner: Hash = createHash(algorithm).update(pads[0]!);
  const outer: Hash = createHash(algorithm).update(pads[1]!);
  for (const block of pads) block.fill(0);
  return (data) => outer.copy().update(inner.copy().update(data).digest()).digest("hex");
}

function assertUsable({ secret, header }: SignatureOptions): void {
  if (secret === "") throw new TypeError("Cannot use a webhook signature: the secret is empty");
  if (header.trim() === "") {
    throw new TypeError("Cannot use a webhook signature: the header name is empty");
  }
}

function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}
