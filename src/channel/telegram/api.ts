/**
 * The one function every Bot API call goes through: a JSON POST to
 * `<apiUrl>/bot<token>/<method>`, with a timeout, Telegram's errors mapped to
 * {@linkcode ChannelError}, and 429 answers honoured by waiting `retry_after` and trying again
 * (a bounded number of times).
 *
 * The request URL contains the bot token, and so do the messages of network errors that name it:
 * every text that leaves this module goes through {@linkcode TelegramApi.redact}.
 *
 * @module
 */

import { ChannelError } from "../channel.ts";
import type { TgResponse } from "./types.ts";

/** Wall clock and sleeping, injected so tests do not wait for real. */
export interface TelegramClock {
  now(): Date;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Options of {@linkcode TelegramApi}. */
export interface TelegramApiOptions {
  token: string;
  /** Base URL of the Bot API (a self-hosted server or a test fake); default api.telegram.org. */
  apiUrl?: string | undefined;
  fetch?: typeof fetch | undefined;
  clock?: TelegramClock | undefined;
  /** Per-call timeout; default 30 s. */
  timeoutMs?: number | undefined;
  /** How often a call answered 429 is tried again; default 3. */
  maxRetries?: number | undefined;
  /** Longest `retry_after` waited for inside a call (longer ones are thrown); default 60 s. */
  maxRetryAfterSec?: number | undefined;
}

/** Options of one call. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  /** Wait and retry on 429 (default true). */
  retry?: boolean | undefined;
}

/** The real clock. */
export const SYSTEM_CLOCK: TelegramClock = {
  now: () => new Date(),
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};

/** A Bot API client for one token. Constructing it does no I/O. */
export class TelegramApi {
  readonly #token: string;
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #clock: TelegramClock;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #maxRetryAfter: number;

  constructor(options: TelegramApiOptions) {
    this.#token = options.token;
    this.#base = (options.apiUrl ?? "https://api.telegram.org").replace(/\/+$/, "");
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxRetries = options.maxRetries ?? 3;
    this.#maxRetryAfter = options.maxRetryAfterSec ?? 60;
  }

  /** The base URL calls go to (without the token). */
  get apiUrl(): string {
    return this.#base;
  }

  /**
   * Calls a Bot API method and returns its `result`.
   *
   * @throws {ChannelError} when Telegram refuses or cannot be reached (`retryable` for 429, 5xx
   * and network errors)
   */
  async call<T>(
    method: string,
    params: Record<string, unknown> = {},
    options: CallOptions = {},
  ): Promise<T> {
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#once<T>(method, params, options);
      } catch (error) {
        const wait = error instanceof ChannelError && error.status === 429
          ? error.retryAfter ?? 1
          : undefined;
        const again = wait !== undefined && options.retry !== false &&
          attempt < this.#maxRetries && wait <= this.#maxRetryAfter;
        if (!again) throw error;
        await this.#clock.sleep(wait * 1000, options.signal);
      }
    }
  }

  /** Replaces the token (plain or URL-encoded) in `text`. */
  redact(text: string): string {
    if (this.#token === "") return text;
    return text.replaceAll(this.#token, "<token>")
      .replaceAll(encodeURIComponent(this.#token), "<token>");
  }

  async #once<T>(method: string, params: Record<string, unknown>, options: CallOptions) {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const controller = new AbortController();
    const signal = options.signal;
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let response: Response;
    let body: string;
    try {
      if (signal?.aborted) throw signal.reason;
      response = await this.#fetch(`${this.#base}/bot${this.#token}/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(params),
        signal: controller.signal,
      });
      body = await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const why = controller.signal.aborted
        ? `no answer within ${timeoutMs} ms`
        : this.redact(describe(error));
      throw new ChannelError(`Cannot call Telegram ${method}: ${why}`, {
        channel: "telegram",
        method,
        retryable: true,
        cause: this.#safeCause(error),
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
    return this.#result<T>(method, response.status, body);
  }

  #result<T>(method: string, status: number, body: string): T {
    let json: TgResponse<T>;
    try {
      json = JSON.parse(body);
    } catch {
      throw new ChannelError(`Cannot call Telegram ${method}: HTTP ${status} without a JSON body`, {
        channel: "telegram",
        method,
        status,
        retryable: status === 429 || status >= 500,
      });
    }
    if (json.ok) return json.result as T;
    const code = json.error_code ?? status;
    const description = this.redact(json.description ?? `HTTP ${status}`);
    const retryAfter = json.parameters?.retry_after;
    const hint = hintFor(code, description, json.parameters?.migrate_to_chat_id);
    const error = new ChannelError(`Cannot call Telegram ${method}: ${description}`, {
      channel: "telegram",
      method,
      status: code,
      retryable: code === 429 || code >= 500,
      retryAfter,
    });
    if (hint !== undefined) Object.defineProperty(error, "hint", { value: hint });
    throw error;
  }

  /** A copy of a fetch error that cannot leak the token (its message names the URL). */
  #safeCause(error: unknown): Error {
    const copy = new Error(this.redact(describe(error)));
    copy.name = error instanceof Error ? error.name : "Error";
    return copy;
  }
}

/** Whether Telegram refused MarkdownV2 text ("can't parse entities"). */
export function isParseError(error: unknown): boolean {
  return error instanceof ChannelError && error.status === 400 &&
    /can't parse entities|can't find end/i.test(error.message);
}

/** Whether an edit changed nothing ("message is not modified"). */
export function isNotModified(error: unknown): boolean {
  return error instanceof ChannelError && error.status === 400 &&
    /message is not modified/i.test(error.message);
}

/** The messages of an error and its causes ("fetch failed: error sending request for …"). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && parts.length < 5;) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ");
}

function hintFor(code: number, description: string, migrateTo: number | undefined) {
  if (migrateTo !== undefined) {
    return `the group became a supergroup: set channel.telegram.chat_id to ${migrateTo}`;
  }
  if (code === 401 || code === 404) return "check channel.telegram.bot_token (from @BotFather)";
  if (code === 403) return "add the bot to the chat again (it was removed or blocked)";
  if (code === 409) {
    return "another program reads this bot's updates (another pylon daemon?) or a webhook is " +
      "set: stop it, or call deleteWebhook";
  }
  if (/chat not found/i.test(description)) {
    return "check channel.telegram.chat_id and that the bot is a member of that chat";
  }
  return undefined;
}
