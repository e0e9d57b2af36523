/**
 * The relay of the model API gateway (issue 19): one request of an agent, sent on to the real
 * upstream with the real credential swapped in, its answer streamed back unchanged.
 *
 * - The agent's own `x-api-key` / `authorization` (its job token) and cookies never go upstream;
 *   the real API key (`x-api-key`) or OAuth token (`authorization: Bearer`, plus the
 *   `anthropic-beta: oauth-2025-04-20` Claude Code's OAuth mode sends) is set here instead.
 * - Hop-by-hop headers are dropped both ways; the upstream is asked for `identity` encoding so
 *   the usage can be read off the bytes that pass.
 * - The request body is read within a size and a time cap (a model request is a few MB at
 *   most); the response body is piped, never awaited whole: each chunk goes on as it arrives,
 *   through {@linkcode usageMeter}, and a response over its cap is cut off.
 *
 * @module
 */

import { type UsageDelta, usageMeter } from "./usage_meter.ts";

/** The real credential of the upstream. */
export type UpstreamCredential =
  | { kind: "api_key"; key: string }
  | { kind: "oauth"; accessToken: string };

/** Caps of one relayed request. */
export interface RelayLimits {
  /** The request body. */
  requestBytes: number;
  /** How long the request body may take to arrive. */
  requestMs: number;
  /** The response body. */
  responseBytes: number;
}

/** Default {@linkcode RelayLimits}. */
export const RELAY_LIMITS: RelayLimits = {
  requestBytes: 32 * 1024 * 1024,
  requestMs: 60_000,
  responseBytes: 64 * 1024 * 1024,
};

/** What {@linkcode relayRequest} needs. */
export interface RelayOptions {
  /** The upstream's base URL, e.g. `https://api.anthropic.com`. */
  upstream: string;
  /** The path (and query) under the upstream, e.g. `/v1/messages?beta=true`. */
  path: string;
  credential: UpstreamCredential;
  limits?: Partial<RelayLimits> | undefined;
  /** Called with each growth of the usage the response reports. */
  onUsage(delta: UsageDelta): void;
  /** @default {globalThis.fetch} */
  fetch?: typeof fetch | undefined;
}

/** Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), and others never relayed. */
const DROPPED_REQUEST = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
  "accept-encoding",
  "x-api-key",
  "authorization",
  "cookie",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
]);
const DROPPED_RESPONSE = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "content-encoding",
  "set-cookie",
]);

/** The beta flag Claude Code sends with an OAuth token. */
export const OAUTH_BETA = "oauth-2025-04-20";

/** An answer in the Messages API's error shape, which the CLIs show and stop on (4xx). */
export function apiError(status: number, type: string, message: string): Response {
  return new Response(JSON.stringify({ type: "error", error: { type, message } }) + "\n", {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** Headers of `req` to send upstream, with the real credential. */
export function upstreamHeaders(source: Headers, credential: UpstreamCredential): Headers {
  const out = new Headers();
  // Headers `connection` names are hop-by-hop too.
  const named = new Set(
    (source.get("connection") ?? "").split(",").map((s) => s.trim().toLowerCase()),
  );
  for (const [name, value] of source) {
    if (DROPPED_REQUEST.has(name) || named.has(name)) continue;
    out.set(name, value);
  }
  out.set("accept-encoding", "identity");
  if (credential.kind === "api_key") {
    out.set("x-api-key", credential.key);
  } else {
    out.set("authorization", `Bearer ${credential.accessToken}`);
    const betas = (out.get("anthropic-beta") ?? "").split(",").map((s) => s.trim())
      .filter((s) => s !== "");
    if (!betas.includes(OAUTH_BETA)) betas.push(OAUTH_BETA);
    out.set("anthropic-beta", betas.join(","));
  }
  return out;
}

/** Relays `req` upstream and streams the answer back (see the module doc). */
export async function relayRequest(req: Request, o: RelayOptions): Promise<Response> {
  const limits = { ...RELAY_LIMITS, ...o.limits };
  let body: Uint8Array<ArrayBuffer> | undefined;
  if (req.method !== "GET" && req.method !== "HEAD" && req.body) {
    const read = await readCapped(req, limits.requestBytes, limits.requestMs);
    if (!read.ok) {
      return read.reason === "too_large"
        ? apiError(
          413,
          "request_too_large",
          `the request body exceeds ${limits.requestBytes} bytes`,
        )
        : apiError(408, "timeout_error", "the request body took too long to arrive");
    }
    body = read.bytes;
  }
  const url = o.upstream.replace(/\/+$/, "") + o.path;
  let upstream: Response;
  try {
    upstream = await (o.fetch ?? fetch)(url, {
      method: req.method,
      headers: upstreamHeaders(req.headers, o.credential),
      ...(body ? { body } : {}),
      redirect: "manual",
      // No `req.signal`: an agent that hangs up cancels the response stream, and with it the
      // upstream's body.
    });
  } catch (e) {
    return apiError(
      502,
      "api_error",
      `pylon's model gateway could not reach the upstream: ${e instanceof Error ? e.message : e}`,
    );
  }
  const headers = new Headers();
  for (const [name, value] of upstream.headers) {
    if (!DROPPED_RESPONSE.has(name)) headers.set(name, value);
  }
  if (!upstream.body) return new Response(null, { status: upstream.status, headers });
  const type = upstream.headers.get("content-type") ?? "";
  const kind = type.includes("text/event-stream") ? "sse" : type.includes("json") ? "json" : "none";
  const stream = upstream.body
    .pipeThrough(capStream(limits.responseBytes))
    .pipeThrough(usageMeter(kind, o.onUsage));
  return new Response(stream, { status: upstream.status, headers });
}

/** Passes bytes on until `max`, then errors the stream (the client sees a cut response). */
function capStream(max: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.length;
      if (seen > max) {
        controller.error(new Error(`the upstream's response exceeds ${max} bytes`));
        return;
      }
      controller.enqueue(chunk);
    },
  });
}

async function readCapped(
  req: Request,
  max: number,
  timeoutMs: number,
): Promise<
  { ok: true; bytes: Uint8Array<ArrayBuffer> } | { ok: false; reason: "too_large" | "timeout" }
> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > max) {
    await req.body?.cancel().catch(() => {});
    return { ok: false, reason: "too_large" };
  }
  const reader = req.body!.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    while (true) {
      const next = await Promise.race([reader.read(), timeout]);
      if (next === "timeout") {
        await reader.cancel().catch(() => {});
        return { ok: false, reason: "timeout" };
      }
      if (next.done) break;
      size += next.value.length;
      if (size > max) {
        await reader.cancel().catch(() => {});
        return { ok: false, reason: "too_large" };
      }
      parts.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { ok: true, bytes };
}
