/**
 * One connection per bot token: a single `getUpdates` long-polling loop that routes each update
 * to the view ({@linkcode TelegramChannel}) of the chat it came from. Telegram answers 409 to a
 * second concurrent poller on the same token, so every pylon using the token shares this hub.
 *
 * The loop starts when the first view starts and stops when the last view's signal aborts (or on
 * {@linkcode TelegramHub.close}). Network errors and 5xx back off exponentially with jitter
 * (1 s → 30 s); 429 waits `retry_after`; 409 (another poller, or a webhook is set) is logged once
 * and retried every 5–60 s. Updates from chats no view uses are dropped, except that a view
 * created without a chat id adopts the first group, supergroup or private chat that writes to the
 * bot or adds it (from an allowed user, when `allowed_users` is set).
 *
 * Polling starts at offset 0, so updates Telegram still holds unconfirmed (a button pressed while
 * the daemon was restarting) are handled; each batch is confirmed by the next call's offset.
 * Handlers run concurrently with polling; {@linkcode TelegramHub.close} waits for them.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { ChannelError, CHAT_COMMANDS } from "../channel.ts";
import type { Logger } from "../../log/mod.ts";
import { SYSTEM_CLOCK, TelegramApi, type TelegramClock } from "./api.ts";
import { answerCallback } from "./_receive.ts";
import { TelegramChannel, type TelegramChannelSettings } from "./telegram_channel.ts";
import type { TgChat, TgUpdate, TgUser } from "./types.ts";

/** Options of {@linkcode createTelegramHub}. */
export interface TelegramHubOptions {
  token: string;
  /** Bot API base URL; default https://api.telegram.org. */
  apiUrl?: string | undefined;
  fetch?: typeof fetch | undefined;
  log: Logger;
  clock?: TelegramClock | undefined;
  /** Random numbers in [0, 1) for backoff jitter. */
  random?: (() => number) | undefined;
  /** `getUpdates` long-poll timeout in seconds; default 30. */
  pollTimeoutSec?: number | undefined;
}

const DETECTABLE: ReadonlySet<string> = new Set(["private", "group", "supergroup"]);

/** Creates the hub of one bot token (no I/O until a view starts). */
export function createTelegramHub(options: TelegramHubOptions): TelegramHub {
  return new TelegramHub(options);
}

/** `sha256(token)` in hex: names a token in keys and maps without keeping it. */
export function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The shared poller of one bot token and the per-chat views on it. */
export class TelegramHub implements AsyncDisposable {
  /** The first 12 hex digits of `sha256(token)`. */
  readonly tokenId: string;
  readonly api: TelegramApi;
  readonly #log: Logger;
  readonly #clock: TelegramClock;
  readonly #random: () => number;
  readonly #pollTimeout: number;
  /** Views by chat id; 0 is the view waiting for (or having done) auto-detection. */
  readonly #views = new Map<number, TelegramChannel>();
  readonly #inflight = new Set<Promise<void>>();
  /** The current polling run and how many started views use it. */
  #current: { controller: AbortController; users: number } | undefined;
  #loop: Promise<void> | undefined;
  #username: string | undefined;
  #prepared = false;
  #prepareWarned = false;

  constructor(options: TelegramHubOptions) {
    this.tokenId = tokenDigest(options.token).slice(0, 12);
    this.#log = options.log.with({ bot: this.tokenId });
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#random = options.random ?? Math.random;
    this.#pollTimeout = options.pollTimeoutSec ?? 30;
    this.api = new TelegramApi({
      token: options.token,
      apiUrl: options.apiUrl,
      fetch: options.fetch,
      clock: this.#clock,
    });
  }

  /** The bot's username, once `getMe` answered. */
  get username(): string | undefined {
    return this.#username;
  }

  /** Whether the polling loop is running. */
  get polling(): boolean {
    return this.#current !== undefined && !this.#current.controller.signal.aborted;
  }

  /**
   * The view of one chat. The same chat id returns the same view (its allowed users are updated);
   * chat id 0/undefined returns the view that waits for auto-detection (or already detected).
   */
  channel(settings: TelegramChannelSettings = {}): TelegramChannel {
    const chatId = settings.chatId ?? 0;
    const existing = this.#views.get(chatId);
    if (existing) {
      existing.update(settings);
      return existing;
    }
    const view = new TelegramChannel({
      api: this.api,
      keyPrefix: `telegram:${this.tokenId}`,
      log: this.#log,
      username: () => this.#username,
      attach: (signal) => this.#attach(signal),
    }, { ...settings, chatId });
    this.#views.set(chatId, view);
    return view;
  }

  /** Stops polling (whoever still uses it) and waits for the loop and running handlers. */
  async close(): Promise<void> {
    this.#current?.controller.abort();
    await this.#loop;
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #attach(signal: AbortSignal): void {
    if (signal.aborted) return;
    if (this.#current === undefined || this.#current.controller.signal.aborted) {
      const run = { controller: new AbortController(), users: 0 };
      this.#current = run;
      const previous = this.#loop ?? Promise.resolve();
      this.#loop = previous.then(() => this.#poll(run.controller.signal));
    }
    const run = this.#current;
    run.users++;
    signal.addEventListener("abort", () => {
      if (--run.users === 0) run.controller.abort();
    }, { once: true });
  }

  async #poll(signal: AbortSignal): Promise<void> {
    let offset = 0;
    let failures = 0;
    let reported: number | undefined;
    this.#log.info("telegram.polling_started");
    while (!signal.aborted) {
      if (!this.#prepared) await this.#prepare(signal);
      try {
        const updates = await this.api.call<TgUpdate[]>("getUpdates", {
          offset,
          timeout: this.#pollTimeout,
          allowed_updates: this.#allowedUpdates(),
        }, { signal, timeoutMs: (this.#pollTimeout + 15) * 1000, retry: false });
        if (reported !== undefined) this.#log.info("telegram.polling_resumed");
        failures = 0;
        reported = undefined;
        for (const update of updates) {
          offset = Math.max(offset, update.update_id + 1);
          this.#track(this.#route(update));
        }
      } catch (error) {
        if (signal.aborted) break;
        const status = error instanceof ChannelError ? error.status : undefined;
        // One log line per kind of outage, not one per retry.
        if (reported !== (status ?? 0)) this.#report(error, status);
        reported = status ?? 0;
        const wait = this.#backoff(error, failures++);
        await this.#clock.sleep(wait, signal).catch(() => {});
      }
    }
    this.#log.info("telegram.polling_stopped");
  }

  /** `getMe` (for `/cmd@bot`) and `setMyCommands`, best effort, until they succeed once. */
  async #prepare(signal: AbortSignal): Promise<void> {
    try {
      const me = await this.api.call<TgUser>("getMe", {}, { signal });
      this.#username = me.username;
      this.#prepared = true;
      await this.api.call("setMyCommands", { commands: CHAT_COMMANDS }, { signal });
    } catch (error) {
      if (signal.aborted || this.#prepareWarned) return;
      this.#prepareWarned = true;
      this.#log.warn("telegram.setup_failed", { error: errorText(error) });
    }
  }

  #allowedUpdates(): string[] {
    const waiting = this.#views.get(0)?.chatId === 0;
    return waiting
      ? ["message", "callback_query", "my_chat_member"]
      : ["message", "callback_query"];
  }

  #report(error: unknown, status: number | undefined): void {
    const fields = {
      error: errorText(error),
      hint: error instanceof ChannelError ? error.hint : undefined,
    };
    if (status === 409) this.#log.warn("telegram.polling_conflict", fields);
    else if (status === 401 || status === 404) this.#log.error("telegram.polling_refused", fields);
    else this.#log.warn("telegram.polling_failed", fields);
  }

  #backoff(error: unknown, failures: number): number {
    const status = error instanceof ChannelError ? error.status : undefined;
    if (status === 429 && error instanceof ChannelError) return (error.retryAfter ?? 1) * 1000;
    let base: number;
    if (status === 409) base = Math.min(5_000 * 2 ** failures, 60_000);
    else if (status === 401 || status === 404) base = 60_000;
    else if (status !== undefined && status < 500) base = 30_000;
    else base = Math.min(1_000 * 2 ** failures, 30_000);
    return Math.round(base / 2 + (this.#random() * base) / 2);
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch((error) => {
      this.#log.error("telegram.update_failed", { error: errorText(error) });
    }).finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
  }

  async #route(update: TgUpdate): Promise<void> {
    const query = update.callback_query;
    if (query) {
      const chatId = query.message?.chat.id;
      const view = chatId === undefined ? undefined : this.#viewOf(chatId);
      if (view) return await view.deliver(update);
      return await answerCallback(this.api, this.#log, query.id);
    }
    const message = update.message;
    if (message) {
      const view = this.#viewOf(message.chat.id) ??
        await this.#detect(message.chat, message.from);
      if (view) await view.deliver(update);
      else this.#log.debug("telegram.update_ignored", { chat: message.chat.id });
      return;
    }
    const member = update.my_chat_member;
    const joined = member && ["member", "administrator"].includes(member.new_chat_member.status) &&
      ["left", "kicked"].includes(member.old_chat_member.status);
    if (member && joined && !this.#viewOf(member.chat.id) && member.chat.type !== "private") {
      await this.#detect(member.chat, member.from);
    }
  }

  #viewOf(chatId: number): TelegramChannel | undefined {
    if (chatId === 0) return undefined;
    const view = this.#views.get(chatId);
    if (view) return view;
    const detected = this.#views.get(0);
    return detected?.chatId === chatId ? detected : undefined;
  }

  /** Lets the view waiting for auto-detection adopt `chat`, if allowed. */
  async #detect(chat: TgChat, from: TgUser | undefined): Promise<TelegramChannel | undefined> {
    const view = this.#views.get(0);
    if (!view || view.chatId !== 0 || !DETECTABLE.has(chat.type)) return undefined;
    if (from === undefined || from.is_bot) return undefined;
    const allowed = view.allowedUsers;
    if (allowed.length > 0 && !allowed.includes(from.id)) {
      this.#log.info("telegram.chat_detect_refused", { chat: chat.id, user: from.id });
      return undefined;
    }
    this.#views.set(chat.id, view);
    await view.adoptChat(chat);
    return view;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
