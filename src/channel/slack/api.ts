/**
 * A thin Slack Web API client over an injected `fetch`: form-encoded POSTs to
 * `<api_url>/<method>` with `Authorization: Bearer`, `{ok:false}` and HTTP errors mapped to
 * {@linkcode ChannelError}, and HTTP 429 retried after `Retry-After` a bounded number of times.
 *
 * Tokens travel only in the Authorization header; no error message or log line carries one.
 *
 * @module
 */

import { ChannelError } from "../channel.ts";
import type { Logger } from "../../log/mod.ts";

/** Waits `ms` milliseconds; rejects (or resolves early) when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Options of {@linkcode SlackApi}. */
export interface SlackApiOptions {
  /** Base URL of the Web API, e.g. `https://slack.com/api`. */
  apiUrl: string;
  fetch?: typeof fetch | undefined;
  sleep?: Sleep | undefined;
  log: Logger;
  /** Retries of a 429 answer. @default 3 */
  maxRetries?: number | undefined;
  /** Longest `Retry-After` (seconds) waited for; longer ones fail at once. @default 30 */
  maxRetryWait?: number | undefined;
  /** Per-request timeout in milliseconds. @default 15000 */
  timeoutMs?: number | undefined;
}

/** A successful Web API answer. */
export type SlackResponse = Record<string, unknown> & { ok: true };

/** Slack error codes worth trying again later. */
const RETRYABLE_ERRORS = new Set([
  "ratelimited",
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
]);

/** What a user can do about common Slack error codes. */
const ERROR_ADVICE: Record<string, string> = {
  "invalid_auth": "the token is not valid; check bot_token and app_token",
  "not_authed": "no token was sent",
  "token_revoked": "the token was revoked; reinstall the app and update the token",
  "account_inactive": "the token belongs to a deleted user or app",
  "not_allowed_token_type":
    "wrong kind of token; app_token must be an app-level token (xapp-) and bot_token a bot token (xoxb-)",
  "channel_not_found": "check channel_id and that the app was added to the channel",
  "not_in_channel": "invite the app to the channel (/invite @Pylon)",
  "is_archived": "the channel is archived",
  "msg_too_long": "the message is too long",
};

const TOKEN_REGEXP = /x(?:ox[a-z]|app)-[A-Za-z0-9-]+/g;

/** Removes anything that looks like a Slack token from `text`. */
export function redactTokens(text: string): string {
  return text.replace(TOKEN_REGEXP, "[redacted]");
}

/** Sleeps on a timer that is cleared when `signal` aborts (then resolves at once). */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Calls Slack Web API methods. */
export class SlackApi {
  #apiUrl: string;
  #fetch: typeof fetch;
  #sleep: Sleep;
  #log: Logger;
  #maxRetries: number;
  #maxRetryWait: number;
  #timeoutMs: number;

  constructor(options: SlackApiOptions) {
    this.#apiUrl = options.apiUrl.replace(/\/+$/, "");
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#log = options.log;
    this.#maxRetries = options.maxRetries ?? 3;
    this.#maxRetryWait = options.maxRetryWait ?? 30;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  /**
   * Calls `method` with `token`; objects and arrays in `params` are sent as JSON strings.
   *
   * @throws {ChannelError} when Slack answers `ok: false`, an HTTP error, or cannot be reached
   */
  async call(
    method: string,
    token: string,
    params: Record<string, unknown> = {},
    signal?: AbortSignal,
  ): Promise<SlackResponse> {
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined || value === null) continue;
      body.set(key, typeof value === "object" ? JSON.stringify(value) : String(value));
    }
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#once(method, token, body, signal);
      } catch (error) {
        if (!(error instanceof ChannelError) || error.status !== 429) throw error;
        const wait = error.retryAfter ?? 1;
        if (attempt >= this.#maxRetries || wait > this.#maxRetryWait || signal?.aborted) {
          throw error;
        }
        this.#log.warn("slack.api.rate_limited", {
          method,
          retry_after: wait,
          attempt: attempt + 1,
        });
        await this.#sleep(wait * 1000, signal);
      }
    }
  }

  async #once(
    method: string,
    token: string,
    body: URLSearchParams,
    signal: AbortSignal | undefined,
  ): Promise<SlackResponse> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#timeoutMs);
    const fail = (detail: string, extra: { status?: number; retryAfter?: number } = {}) =>
      new ChannelError(`Cannot call Slack ${method}: ${redactTokens(detail)}`, {
        channel: "slack",
        method,
        status: extra.status,
        retryable: extra.status === undefined || extra.status === 429 || extra.status >= 500,
        retryAfter: extra.retryAfter,
      });
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(`${this.#apiUrl}/${method}`, {
        method: "POST",
        headers: {
          "authorization": `Bearer ${token}`,
          "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        },
        body,
        signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
      });
      text = await response.text();
    } catch (error) {
      const reason = timeout.signal.aborted
        ? `no answer within ${this.#timeoutMs / 1000} s`
        : error instanceof Error
        ? error.message
        : String(error);
      throw fail(reason);
    } finally {
      clearTimeout(timer);
    }
    if (response.status === 429) {
      const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
      throw fail(`rate limited (HTTP 429, retry after ${retryAfter} s)`, {
        status: 429,
        retryAfter,
      });
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw fail(`HTTP ${response.status} with a body that is not JSON`, {
        status: response.status,
      });
    }
    const result = (typeof data === "object" && data !== null ? data : {}) as Record<
      string,
      unknown
    >;
    if (result.ok === true) return result as SlackResponse;
    const code = typeof result.error === "string" ? result.error : `HTTP ${response.status}`;
    const needed = typeof result.needed === "string" ? ` (needs scope ${result.needed})` : "";
    const advice = ERROR_ADVICE[code];
    throw new ChannelError(
      `Cannot call Slack ${method}: ${redactTokens(code)}${needed}${advice ? ` (${advice})` : ""}`,
      {
        channel: "slack",
        method,
        status: response.status,
        retryable: RETRYABLE_ERRORS.has(code) || response.status >= 500,
      },
    );
  }
}

function parseRetryAfter(header: string | null): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds) : 1;
}
