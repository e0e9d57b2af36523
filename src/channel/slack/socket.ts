/**
 * The Socket Mode loop of one app token: `apps.connections.open` → WebSocket → `hello` → envelopes,
 * each acknowledged by its `envelope_id` as soon as it arrives (before it is handled, so a slow
 * handler never makes Slack redeliver). A `disconnect` message reconnects at once; a dropped
 * socket or a failed open reconnects after an exponential backoff with jitter. The loop ends when
 * the signal aborts or the app token is refused.
 *
 * @module
 */

import { ChannelError } from "../channel.ts";
import type { Logger } from "../../log/mod.ts";
import type { SlackApi, Sleep } from "./api.ts";

/** One Socket Mode envelope (`events_api`, `interactive`, `slash_commands`, …). */
export interface SocketEnvelope {
  "envelope_id"?: string;
  type: string;
  payload?: Record<string, unknown>;
  "retry_attempt"?: number;
}

/** Builds a WebSocket; the global constructor by default. */
export type WebSocketFactory = new (url: string) => WebSocket;

/** Options of {@linkcode runSocketMode}. */
export interface SocketModeOptions {
  api: SlackApi;
  appToken: string;
  WebSocket: WebSocketFactory;
  log: Logger;
  sleep: Sleep;
  /** A number in [0, 1) for the jitter. */
  random: () => number;
  /** Called after each `hello`. */
  onConnected(): void;
  /** Called when a socket that said `hello` has closed. */
  onClosed(): void;
  /** Called when a connection attempt failed and the loop will try again. */
  onRetrying(error: unknown): void;
  /** Called for every envelope, after it was acknowledged. */
  onEnvelope(envelope: SocketEnvelope): void;
}

/** First reconnect delay in ms (doubled per failure, up to {@linkcode MAX_BACKOFF_MS}). */
const BASE_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;
/** A socket that says nothing for this long after opening is replaced. */
const HELLO_TIMEOUT_MS = 30_000;
/** How long to wait for the close handshake before giving up on it. */
const CLOSE_TIMEOUT_MS = 3_000;

/** The delay before reconnect attempt `attempt` (0-based): half fixed, half random. */
export function backoffDelay(attempt: number, random: () => number, atLeastMs = 0): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
  return Math.max(atLeastMs, Math.round(ceiling / 2 + (ceiling / 2) * random()));
}

/**
 * Runs Socket Mode until `signal` aborts.
 *
 * @throws {ChannelError} when Slack refuses the app token (not retryable); never for transient
 *   failures, which are retried
 */
export async function runSocketMode(
  options: SocketModeOptions,
  signal: AbortSignal,
): Promise<void> {
  const { api, log } = options;
  let failures = 0;
  while (!signal.aborted) {
    let url: string;
    try {
      const opened = await api.call("apps.connections.open", options.appToken, {}, signal);
      if (typeof opened.url !== "string") throw new TypeError("Slack returned no socket URL");
      url = opened.url;
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ChannelError && !error.retryable) {
        log.error("slack.socket.refused", { error: error.message });
        throw error;
      }
      const retryAfter = error instanceof ChannelError ? (error.retryAfter ?? 0) * 1000 : 0;
      const delay = backoffDelay(failures++, options.random, retryAfter);
      log.warn("slack.socket.open_failed", { error: errorText(error), retry_in_ms: delay });
      options.onRetrying(error);
      await options.sleep(delay, signal);
      continue;
    }
    const outcome = await connectOnce(url, options, signal);
    if (outcome.greeted) options.onClosed();
    if (signal.aborted) return;
    if (outcome.greeted) failures = 0;
    if (outcome.reason === "disconnect") {
      log.info("slack.socket.reconnecting", { reason: outcome.detail });
      continue;
    }
    const delay = backoffDelay(failures++, options.random);
    log.warn("slack.socket.closed", { reason: outcome.detail, retry_in_ms: delay });
    if (!outcome.greeted) options.onRetrying(new Error(outcome.detail));
    await options.sleep(delay, signal);
  }
}

interface Outcome {
  greeted: boolean;
  /** `disconnect`: Slack asked us to reconnect; `closed`: the socket went away. */
  reason: "disconnect" | "closed";
  detail: string;
}

/** Runs one WebSocket until it closes; never rejects. */
function connectOnce(
  url: string,
  options: SocketModeOptions,
  signal: AbortSignal,
): Promise<Outcome> {
  const { log } = options;
  return new Promise((resolve) => {
    const outcome: Outcome = { greeted: false, reason: "closed", detail: "socket closed" };
    let settled = false;
    let closeTimer: ReturnType<typeof setTimeout> | undefined;
    let socket: WebSocket;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(helloTimer);
      clearTimeout(closeTimer);
      signal.removeEventListener("abort", stop);
      resolve(outcome);
    };
    const stop = () => {
      try {
        socket.close(1000);
      } catch {
        // Already closing: the close event (or the timer) finishes.
      }
      closeTimer ??= setTimeout(finish, CLOSE_TIMEOUT_MS);
    };
    const helloTimer = setTimeout(() => {
      outcome.detail = "no hello from Slack";
      stop();
    }, HELLO_TIMEOUT_MS);
    try {
      socket = new options.WebSocket(url);
    } catch (error) {
      outcome.detail = errorText(error);
      return finish();
    }
    signal.addEventListener("abort", stop, { once: true });
    socket.onerror = (event) => {
      outcome.detail = event instanceof ErrorEvent ? redact(event.message) : "socket error";
    };
    socket.onclose = (event) => {
      if (outcome.reason === "closed" && event.code !== 1000) {
        outcome.detail = `socket closed (code ${event.code})`;
      }
      finish();
    };
    socket.onmessage = (event) => {
      let message: SocketEnvelope;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        log.warn("slack.socket.bad_message", { bytes: String(event.data).length });
        return;
      }
      if (message.envelope_id) socket.send(JSON.stringify({ envelope_id: message.envelope_id }));
      if (message.type === "hello") {
        clearTimeout(helloTimer);
        outcome.greeted = true;
        log.info("slack.socket.connected");
        options.onConnected();
      } else if (message.type === "disconnect") {
        outcome.reason = "disconnect";
        const reason = (message as { reason?: unknown }).reason;
        outcome.detail = typeof reason === "string" ? reason : "disconnect";
        stop();
      } else {
        try {
          options.onEnvelope(message);
        } catch (error) {
          log.error("slack.socket.dispatch_failed", {
            type: message.type,
            error: errorText(error),
          });
        }
      }
    };
  });
}

function redact(text: string): string {
  return text.replace(/ticket=[^&\s]+/g, "ticket=[redacted]");
}

function errorText(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error));
}
