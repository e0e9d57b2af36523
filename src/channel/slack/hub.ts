/**
 * {@linkcode SlackHub}: the one Socket Mode connection of an app token, shared by every pylon that
 * uses the token. Each Slack conversation is a view ({@linkcode SlackChannel}); envelopes are routed
 * to the view of their channel id. The connection runs while at least one view's `start` signal is
 * live, and starts again when a view starts after it stopped.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { PylonError } from "../../errors.ts";
import type { Logger } from "../../log/mod.ts";
import type { SlackSettings } from "../../config/mod.ts";
import { defaultSleep, SlackApi, type Sleep } from "./api.ts";
import { SlackChannel, type SlackChannelSettings } from "./channel.ts";
import { parseBlockActions, parseMessageEvent } from "./events.ts";
import { runSocketMode, type SocketEnvelope, type WebSocketFactory } from "./socket.ts";

/** Timers of the hub; tests pass a fast `sleep`. */
export interface SlackClock {
  sleep: Sleep;
  /** A number in [0, 1) for reconnect jitter. */
  random(): number;
}

/** Options of {@linkcode createSlackHub}. */
export interface SlackHubOptions {
  /** App-level token (`xapp-…`) with `connections:write`. */
  appToken: string;
  /** Web API base URL. @default "https://slack.com/api" */
  apiUrl?: string | undefined;
  fetch?: typeof fetch | undefined;
  WebSocket?: WebSocketFactory | undefined;
  log: Logger;
  clock?: SlackClock | undefined;
}

/** Settings of one view, as {@linkcode SlackHub.channel} takes them. */
export type SlackViewSettings = Omit<SlackChannelSettings, "log"> & { log?: Logger | undefined };

/** How many envelope/event ids are remembered to drop Slack's redeliveries. */
const SEEN_LIMIT = 500;

/** The first 12 hex digits of the SHA-256 of `text` (names a token without revealing it). */
export function tokenId(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}

/** Creates a hub; no I/O until a view starts. */
export function createSlackHub(options: SlackHubOptions): SlackHub {
  return new SlackHub(options);
}

/** One Socket Mode connection and the conversations listening on it. */
export class SlackHub {
  /** `sha256(appToken)[:12]`. */
  readonly id: string;
  #appToken: string;
  #api: SlackApi;
  #WebSocket: WebSocketFactory;
  #log: Logger;
  #clock: SlackClock;
  #views = new Map<string, SlackChannel>();
  #seen = new Set<string>();
  #holders = 0;
  #controller: AbortController | undefined;
  #loop: Promise<void> = Promise.resolve();
  #ready: Promise<void> = Promise.resolve();
  #connected = false;

  constructor(options: SlackHubOptions) {
    this.id = tokenId(options.appToken);
    this.#appToken = options.appToken;
    this.#log = options.log.with({ channel: "slack", app: this.id });
    this.#clock = options.clock ?? { sleep: defaultSleep, random: Math.random };
    this.#api = new SlackApi({
      apiUrl: options.apiUrl ?? "https://slack.com/api",
      fetch: options.fetch,
      sleep: this.#clock.sleep,
      log: this.#log,
    });
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
  }

  /** Whether the socket is connected (between `hello` and its close). */
  get connected(): boolean {
    return this.#connected;
  }

  /** The view of one conversation; the same object for the same channel id, updated in place. */
  channel(settings: SlackViewSettings): SlackChannel {
    const full: SlackChannelSettings = {
      ...settings,
      log: (settings.log ?? this.#log).with({ channel: "slack", conversation: settings.channelId }),
    };
    const existing = this.#views.get(settings.channelId);
    if (existing) {
      existing.update(full);
      return existing;
    }
    const view = new SlackChannel({
      key: `slack:${this.id}:${settings.channelId}`,
      api: this.#api,
      settings: full,
      start: (signal) => this.start(signal),
    });
    this.#views.set(settings.channelId, view);
    return view;
  }

  /**
   * Holds the connection open until `signal` aborts. Resolves once connected, or once the first
   * attempt failed for a reason worth retrying (it keeps retrying in the background).
   *
   * @throws {ChannelError} when Slack refuses the app token
   */
  start(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    this.#holders++;
    signal.addEventListener("abort", () => this.#release(), { once: true });
    if (!this.#controller) this.#launch();
    return this.#ready;
  }

  /** Resolves when the connection loop has ended and its socket is closed. */
  stopped(): Promise<void> {
    return this.#loop;
  }

  #launch(): void {
    const controller = new AbortController();
    this.#controller = controller;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    promise.catch(() => {}); // the callers of start() see the rejection; nobody else must
    this.#ready = promise;
    // A loop still closing its socket finishes first: never two sockets for one token.
    this.#loop = this.#loop.then(() =>
      runSocketMode({
        api: this.#api,
        appToken: this.#appToken,
        WebSocket: this.#WebSocket,
        log: this.#log,
        sleep: this.#clock.sleep,
        random: () => this.#clock.random(),
        onConnected: () => {
          this.#connected = true;
          resolve();
        },
        onClosed: () => {
          this.#connected = false;
        },
        onRetrying: () => resolve(),
        onEnvelope: (envelope) => this.#dispatch(envelope),
      }, controller.signal)
    ).catch((error) => reject(error)).finally(() => {
      this.#connected = false;
      if (this.#controller === controller) this.#controller = undefined;
      resolve();
    });
  }

  #release(): void {
    this.#holders--;
    if (this.#holders > 0 || !this.#controller) return;
    this.#controller.abort();
    this.#controller = undefined;
  }

  #dispatch(envelope: SocketEnvelope): void {
    const payload = envelope.payload ?? {};
    const id = typeof payload.event_id === "string" ? payload.event_id : envelope.envelope_id;
    if (id !== undefined) {
      if (this.#seen.has(id)) return this.#log.debug("slack.envelope.duplicate", { id });
      this.#seen.add(id);
      if (this.#seen.size > SEEN_LIMIT) this.#seen.delete(this.#seen.values().next().value!);
    }
    if (envelope.type === "events_api") {
      const event = payload.event;
      const parsed = typeof event === "object" && event !== null
        ? parseMessageEvent(event as Record<string, unknown>)
        : null;
      if (parsed) this.#views.get(parsed.channelId)?.deliverMessage(parsed);
    } else if (envelope.type === "interactive") {
      for (const action of parseBlockActions(payload)) {
        const view = this.#views.get(action.channelId);
        if (view) view.deliverAction(action);
        else this.#log.debug("slack.action.unrouted", { conversation: action.channelId });
      }
    } else {
      this.#log.debug("slack.envelope.ignored", { type: envelope.type });
    }
  }
}

/** What {@linkcode slackChannelFor} needs besides the settings. */
export interface SlackChannelDeps {
  /** Hubs by app token (and API URL), shared across calls: one socket per app token. */
  hubs: Map<string, SlackHub>;
  log: Logger;
  fetch?: typeof fetch | undefined;
  WebSocket?: WebSocketFactory | undefined;
  clock?: SlackClock | undefined;
}

/**
 * The channel of a pylon's `channel.slack` settings (tokens already expanded), reusing the hub of
 * its app token.
 *
 * @throws {PylonError} when a token or the channel id is missing or of the wrong kind
 */
export function slackChannelFor(settings: SlackSettings, deps: SlackChannelDeps): SlackChannel {
  const botToken = required(settings.bot_token, "bot_token", "xoxb-", "SLACK_BOT_TOKEN");
  const appToken = required(settings.app_token, "app_token", "xapp-", "SLACK_APP_TOKEN");
  const channelId = settings.channel_id?.trim();
  if (!channelId) {
    throw new PylonError("Cannot use Slack: channel.slack.channel_id is not set", {
      hint:
        "set it to the channel's id (like C1234567890, from the channel's details), not its name",
    });
  }
  const key = `${tokenId(appToken)} ${settings.api_url}`;
  let hub = deps.hubs.get(key);
  if (!hub) {
    hub = createSlackHub({
      appToken,
      apiUrl: settings.api_url,
      fetch: deps.fetch,
      WebSocket: deps.WebSocket,
      log: deps.log,
      clock: deps.clock,
    });
    deps.hubs.set(key, hub);
  }
  return hub.channel({ botToken, channelId, allowedUsers: settings.allowed_users, log: deps.log });
}

function required(value: string | undefined, field: string, prefix: string, env: string): string {
  const token = value?.trim();
  if (!token) {
    throw new PylonError(`Cannot use Slack: channel.slack.${field} is not set`, {
      hint: `set it, e.g. ${field}: "\${${env}}" with ${env} in ~/.pylon/.env`,
    });
  }
  if (!token.startsWith(prefix)) {
    throw new PylonError(
      `Cannot use Slack: channel.slack.${field} does not start with ${prefix}`,
      { hint: `${field} must be the ${prefix}… token from the Slack app's settings` },
    );
  }
  return token;
}
