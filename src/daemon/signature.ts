/**
 * Webhook signature verification and signing for every format `trigger.signature_format` names.
 *
 * Pure (no I/O; the replay-window clock is injectable). The HMAC key is made once per verifier,
 * on first use, so per-request work is one hex decode, one HMAC and a constant-time compare per
 * candidate signature. `node:crypto` rather than WebCrypto: its synchronous HMAC took 11 % more
 * webhooks per second through the daemon than `crypto.subtle.verify` (bench/ingest). Rejection
 * reasons are one line a sender's operator can act on; they never contain the secret or the
 * expected digest.
 *
 * @module
 */

import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";
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
  verify(headers: Headers, body: Uint8Array): Promise<VerifyResult>;
}

/** Header that carries the Slack request timestamp. */
export const SLACK_TIMESTAMP_HEADER = "X-Slack-Request-Timestamp";
/** Largest accepted distance, in seconds, between a Slack/Stripe timestamp and now. */
export const REPLAY_WINDOW_SECONDS = 300;
/** More `v1=` entries than this in a Stripe header is refused (each costs one HMAC). */
const MAX_STRIPE_SIGNATURES = 8;

const UNIX_SECONDS_REGEXP = /^\d{1,12}$/;
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
  let key: KeyObject | undefined;
  const algorithm = format === "sha1" ? "sha1" : "sha256";
  const mac = (data: Uint8Array) =>
    hmac(key ??= createSecretKey(ENCODER.encode(secret)), algorithm, data);
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
  const key = createSecretKey(ENCODER.encode(options.secret));
  const algorithm = format === "sha1" ? "sha1" : "sha256";
  const seconds = Math.floor((options.clock?.now().getTime() ?? Date.now()) / 1000);
  const digest = (data: Uint8Array) => toHex(hmac(key, algorithm, data));
  switch (format) {
    case "hex":
    case "hex-or-sha256":
      return { [options.header]: digest(body) };
    case "sha256":
    case "sha1":
      return { [options.header]: `${format}=${digest(body)}` };
    case "slack":
      return {
        [options.header]: `v0=${digest(prefixed(`v0:${seconds}:`, body))}`,
        [SLACK_TIMESTAMP_HEADER]: String(seconds),
      };
    case "stripe":
      return { [options.header]: `t=${seconds},v1=${digest(prefixed(`${seconds}.`, body))}` };
  }
}

interface VerifyContext {
  format: ResolvedSignatureFormat;
  header: string;
  /** The HMAC of `data` with the pylon's secret. */
  mac(data: Uint8Array): Uint8Array;
  nowMs(): number;
}

function verifyRequest(
  ctx: VerifyContext,
  headers: Headers,
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

/** The digest bytes of a `hex`, `sha256`, `sha1` or `hex-or-sha256` header value. */
function decodeSimple(format: keyof typeof SHAPES, value: string): Uint8Array | undefined {
  const rest = format === "hex"
    ? value
    : format === "hex-or-sha256"
    ? stripPrefix(value, "sha256=") ?? value
    : stripPrefix(value, `${format}=`);
  return rest === undefined ? undefined : decodeDigest(rest, format === "sha1" ? 20 : 32);
}

function verifySlack(
  ctx: VerifyContext,
  headers: Headers,
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
  const digests: Uint8Array[] = [];
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
function check(ctx: VerifyContext, candidates: Uint8Array[], data: Uint8Array): VerifyResult {
  const expected = ctx.mac(data);
  for (const candidate of candidates) {
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return OK;
  }
  return fail("signature does not match (check the secret)");
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

/** Decodes exactly `length` bytes of hex (either case); undefined for anything else. */
function decodeDigest(hex: string, length: number): Uint8Array | undefined {
  if (hex.length !== length * 2) return undefined;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const high = nibble(hex.charCodeAt(i * 2));
    const low = nibble(hex.charCodeAt(i * 2 + 1));
    if (high < 0 || low < 0) return undefined;
    out[i] = (high << 4) | low;
  }
  return out;
}

/** The value of one hex digit's char code, or -1. */
function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

function toHex(data: Uint8Array): string {
  let out = "";
  for (const byte of data) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** `prefix` (UTF-8) followed by `body`, the signed string of Slack and Stripe. */
function prefixed(prefix: string, body: Uint8Array): Uint8Array {
  const head = ENCODER.encode(prefix);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function hmac(key: KeyObject, algorithm: "sha1" | "sha256", data: Uint8Array): Uint8Array {
  return createHmac(algorithm, key).update(data).digest();
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
