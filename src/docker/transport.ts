/**
 * HTTP to the Docker Engine: one `Deno.HttpClient` per endpoint, the API version prefix, and
 * the mapping of failures to {@linkcode DockerError}. The operations in `_images.ts`,
 * `_containers.ts` and `_exec.ts` speak only through this class.
 *
 * @module
 */

import { connectError, DockerError, type DockerErrorContext, engineError } from "./errors.ts";
import type { DockerEndpoint } from "./host.ts";
import type { EngineVersion } from "./types.ts";

/** Oldest Engine API pylon speaks: Docker 20.10, the engine in Debian bookworm's `docker.io`. */
export const MIN_API_VERSION = "1.41";
/** Newest API pylon asks for: Docker 27. Newer engines still accept it (Docker 29 needs ≥ 1.44). */
export const MAX_API_VERSION = "1.47";

const NEGOTIATE: DockerErrorContext = { op: "version", action: "negotiate the Docker API version" };

/**
 * How long a call waits for the Engine's answer by default (for streams: for the response
 * headers; the body then runs until the caller's signal). A healthy Engine answers creates,
 * starts, kills and inspects in well under a second, and takes a few seconds when busy; a minute
 * keeps slow hosts working while a hung Engine can no longer hold a job or a shutdown forever.
 */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** PEM material for a TLS-protected TCP endpoint. */
export interface DockerTlsOptions {
  /** CA certificates the Engine's certificate must chain to. */
  caCerts?: string[] | undefined;
  /** Client certificate (PEM). */
  cert?: string | undefined;
  /** Client private key (PEM). */
  key?: string | undefined;
}

/** Query values; arrays become repeated keys, booleans `1`/`0`, undefined is left out. */
export type Query = Record<string, string | number | boolean | string[] | undefined>;

/** One request to the Engine. */
export interface RequestOptions {
  method?: string;
  query?: Query | undefined;
  /** A JSON body (sets `content-type: application/json`). */
  json?: unknown;
  /** A raw body (tar archives); streamed when it is a ReadableStream. */
  body?: Uint8Array | ReadableStream<Uint8Array> | undefined;
  contentType?: string;
  /** Extra request headers (`X-Registry-Auth` of a push). */
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds to wait for the answer: the headers for {@linkcode EngineTransport.request},
   * the whole body for `json`/`send`. Default: the transport's timeout; `Infinity` waits forever.
   */
  timeoutMs?: number | undefined;
  /** Statuses handed back instead of thrown (the body is left unread). */
  allow?: readonly number[];
  /** False for the unversioned endpoints (`/_ping`, `/version`). */
  versioned?: boolean;
}

/** Sends requests to one Engine endpoint; see the design note in `client.ts`. */
export class EngineTransport {
  readonly endpoint: DockerEndpoint;
  #client: Deno.HttpClient;
  #pinned: string | undefined;
  #negotiated: Promise<string> | undefined;
  #timeoutMs: number;

  constructor(
    endpoint: DockerEndpoint,
    apiVersion?: string,
    tls?: DockerTlsOptions,
    timeoutMs: number = DEFAULT_TIMEOUT_MS,
  ) {
    this.endpoint = endpoint;
    this.#timeoutMs = timeoutMs;
    this.#pinned = apiVersion?.replace(/^v/, "");
    this.#client = endpoint.kind === "unix"
      ? Deno.createHttpClient({ proxy: { transport: "unix", path: endpoint.socketPath } })
      : Deno.createHttpClient(tlsClientOptions(tls));
  }

  /**
   * The API version used as path prefix: pinned, or negotiated once from `/version`. A failure
   * is reported with `ctx`, the operation that needed the version. The negotiation is shared, so
   * it runs under the timeout only: one caller's abort ends that caller's wait, not the others'.
   */
  apiVersion(signal?: AbortSignal, ctx: DockerErrorContext = NEGOTIATE): Promise<string> {
    if (this.#pinned) return Promise.resolve(this.#pinned);
    this.#negotiated ??= this.#negotiate(ctx).catch((e) => {
      this.#negotiated = undefined; // the Engine may come up later: try again next time
      throw e;
    });
    return untilAborted(this.#negotiated, signal);
  }

  /**
   * Sends a request; a status outside 2xx/`allow` throws a DockerError with the Engine's message.
   * The timeout covers the response headers only: the body (a log stream, a wait) is the caller's.
   */
  request(ctx: DockerErrorContext, path: string, opts: RequestOptions = {}): Promise<Response> {
    return this.#exchange(ctx, path, opts, (res) => Promise.resolve(res));
  }

  /** Sends a request and parses the JSON answer, all within the timeout. */
  json<T>(ctx: DockerErrorContext, path: string, opts: RequestOptions = {}): Promise<T> {
    return this.#exchange(ctx, path, opts, async (res) => await res.json() as T);
  }

  /** `GET` of one object's JSON (an inspect), within the timeout; null when the Engine says 404. */
  jsonOrNull<T>(
    ctx: DockerErrorContext,
    path: string,
    opts: RequestOptions = {},
  ): Promise<T | null> {
    return this.#exchange(ctx, path, { ...opts, allow: [404] }, async (res) => {
      if (res.status !== 404) return await res.json() as T;
      await res.body?.cancel();
      return null;
    });
  }

  /** Sends a request and discards the answer; returns the status. */
  send(ctx: DockerErrorContext, path: string, opts: RequestOptions = {}): Promise<number> {
    return this.#exchange(ctx, path, opts, async (res) => {
      await res.body?.cancel();
      return res.status;
    });
  }

  /**
   * One request under the caller's signal and a timeout: `read` runs inside the timeout, and what
   * it returns (a Response whose body is still unread, for streams) is left to the caller's signal.
   */
  async #exchange<T>(
    ctx: DockerErrorContext,
    path: string,
    opts: RequestOptions,
    read: (res: Response) => Promise<T>,
  ): Promise<T> {
    const ms = opts.timeoutMs ?? this.#timeoutMs;
    const timer = new AbortController();
    const id = Number.isFinite(ms)
      ? setTimeout(() => timer.abort(timeoutError(ctx, ms)), Math.max(0, ms))
      : undefined;
    const signal = opts.signal ? AbortSignal.any([opts.signal, timer.signal]) : timer.signal;
    try {
      return await read(await this.#fetch(ctx, path, { ...opts, signal }));
    } catch (e) {
      // The caller's own abort keeps its reason; a timeout becomes a DockerError.
      if (timer.signal.aborted && !opts.signal?.aborted) throw timer.signal.reason;
      throw e;
    } finally {
      clearTimeout(id);
    }
  }

  async #fetch(ctx: DockerErrorContext, path: string, opts: RequestOptions): Promise<Response> {
    const prefix = opts.versioned === false ? "" : `/v${await this.apiVersion(opts.signal, ctx)}`;
    const url = `${this.endpoint.baseUrl}${prefix}${path}${queryString(opts.query)}`;
    const headers: Record<string, string> = { ...opts.headers };
    // Uint8Array<ArrayBufferLike> is a valid body at runtime; TS wants ArrayBuffer-backed views.
    let body = opts.body as BodyInit | undefined;
    if (opts.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.contentType) headers["content-type"] = opts.contentType;
    let res: Response;
    try {
      res = await fetch(url, {
        method: opts.method ?? "GET",
        headers,
        body: body ?? null,
        signal: opts.signal ?? null,
        client: this.#client,
      });
    } catch (cause) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw connectError(ctx, this.endpoint.display, cause);
    }
    if (res.ok || opts.allow?.includes(res.status)) return res;
    throw engineError(ctx, res.status, await errorText(res));
  }

  /** Releases the HTTP client and its pooled connections. */
  close(): void {
    this.#client.close();
  }

  async #negotiate(ctx: DockerErrorContext): Promise<string> {
    const v = await this.json<EngineVersion>(ctx, "/version", { versioned: false });
    return chooseApiVersion(v.ApiVersion, v.MinAPIVersion, v.Version);
  }
}

/**
 * Picks the API version to speak with an Engine that supports `[min, max]`: the newest both sides
 * know, or the Engine's minimum when that is newer than ours (a future Engine).
 *
 * @throws {DockerError} when the Engine is older than {@linkcode MIN_API_VERSION}
 */
export function chooseApiVersion(max: string, min: string | undefined, engine?: string): string {
  if (compareVersions(max, MIN_API_VERSION) < 0) {
    throw new DockerError(
      `Cannot use Docker Engine ${
        engine ?? "?"
      }: it speaks API ${max}, pylon needs ${MIN_API_VERSION}`,
      { op: "version", hint: "upgrade Docker to 20.10 or newer" },
    );
  }
  if (min && compareVersions(min, MAX_API_VERSION) > 0) return min;
  return compareVersions(max, MAX_API_VERSION) < 0 ? max : MAX_API_VERSION;
}

/** Compares dotted versions numerically (`1.9` < `1.41`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function timeoutError(ctx: DockerErrorContext, ms: number): DockerError {
  return new DockerError(
    `Cannot ${ctx.action}: the Docker Engine did not answer within ${ms / 1000} s`,
    {
      op: ctx.op,
      hint: "the Engine is hung or overloaded: check `docker info` and the Docker daemon log " +
        "(`journalctl -u docker`)",
    },
  );
}

function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) { for (const item of v) params.append(k, item); }
    else params.append(k, typeof v === "boolean" ? (v ? "1" : "0") : String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

async function errorText(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // not JSON: use the text itself
  }
  return text;
}

function tlsClientOptions(tls: DockerTlsOptions | undefined): Deno.CreateHttpClientOptions {
  const opts: Deno.CreateHttpClientOptions = {};
  if (tls?.caCerts) opts.caCerts = tls.caCerts;
  if (tls?.cert && tls.key) Object.assign(opts, { cert: tls.cert, key: tls.key });
  return opts;
}

/**
 * The `label` filter of a list call: `key=value`, or `key` alone (`true`: any value).
 */
export function labelFilter(labels: Record<string, string | true> | undefined): string[] {
  return Object.entries(labels ?? {}).map(([k, v]) => v === true ? k : `${k}=${v}`);
}
