/**
 * One Telegram chat as a {@linkcode Channel}: a view over its bot token's shared
 * {@linkcode TelegramHub} (which polls and routes this chat's updates here).
 *
 * Threads: in a forum supergroup each job gets a topic, `{ chatId, threadId }`. Elsewhere (plain
 * groups, private chats, or a forum where the bot may not create topics) the thread is a reply
 * chain: `createThread` posts the title as an anchor message and returns `{ chatId, replyTo }`;
 * later posts reply to the anchor, and a person's reply to any message of the chain comes back
 * with that same ThreadRef. Messages are `{ chatId, messageId }`.
 *
 * @module
 */

import {
  type ActionEvent,
  type Channel,
  ChannelError,
  type EditOptions,
  type MessageEvent,
  type MessageRef,
  type PostOptions,
  type ThreadRef,
} from "../channel.ts";
import type { Logger } from "../../log/mod.ts";
import { isNotModified, type TelegramApi } from "./api.ts";
import { escapeMarkdownV2, formatTelegram, type TelegramChunk } from "./format.ts";
import { AnchorMemory } from "./inbound.ts";
import {
  chatOf,
  EMPTY_TEXT,
  keyboardOf,
  numberOf,
  sendWithFallback,
  topicName,
} from "./outbound.ts";
import { handleCallback, handleMessage } from "./_receive.ts";
import type { TgChat, TgForumTopic, TgInlineKeyboard, TgMessage, TgUpdate } from "./types.ts";

/** Per-chat settings of a view. */
export interface TelegramChannelSettings {
  /** The chat to post to; 0 or undefined: detect it from the first message (see the hub). */
  chatId?: number | undefined;
  /**
   * Telegram user ids allowed to press buttons and write follow-ups; empty: everyone, except for
   * tool approvals, which then no one may decide from the chat.
   */
  allowedUsers?: readonly number[] | undefined;
  log?: Logger | undefined;
}

/** What a view needs from its hub. */
export interface HubLink {
  readonly api: TelegramApi;
  /** `telegram:<sha256(token)[:12]>`. */
  readonly keyPrefix: string;
  readonly log: Logger;
  /** The bot's username, once `getMe` answered. */
  username(): string | undefined;
  /** Makes the hub poll until `signal` aborts. */
  attach(signal: AbortSignal): void;
}

type Handler<T> = (event: T) => void | Promise<void>;

/** A Telegram chat as a pylon channel. Constructing it does no I/O. */
export class TelegramChannel implements Channel {
  readonly kind = "telegram";
  readonly interactive = true;
  readonly #link: HubLink;
  #chatId: number;
  #allowed: readonly number[];
  #log: Logger;
  #forum: Promise<boolean> | undefined;
  readonly #anchors = new AnchorMemory();
  #onAction: Handler<ActionEvent> | undefined;
  #onMessage: Handler<MessageEvent> | undefined;
  #onChatDetected: Handler<number> | undefined;

  constructor(link: HubLink, settings: TelegramChannelSettings) {
    this.#link = link;
    this.#chatId = settings.chatId ?? 0;
    this.#allowed = settings.allowedUsers ?? [];
    this.#log = settings.log ?? link.log;
  }

  /** `telegram:<sha256(token)[:12]>:<chatId>`; `<chatId>` is 0 until the chat is detected. */
  get key(): string {
    return `${this.#link.keyPrefix}:${this.#chatId}`;
  }

  /** The chat posted to; 0 while waiting for auto-detection. */
  get chatId(): number {
    return this.#chatId;
  }

  /** Who may act (empty: everyone in the chat). */
  get allowedUsers(): readonly number[] {
    return this.#allowed;
  }

  /** Replaces the settings that may change on a config reload (allowed users, logger). */
  update(settings: Pick<TelegramChannelSettings, "allowedUsers" | "log">): void {
    this.#allowed = settings.allowedUsers ?? [];
    if (settings.log) this.#log = settings.log;
  }

  start(signal: AbortSignal): Promise<void> {
    this.#link.attach(signal);
    return Promise.resolve();
  }

  async createThread(title: string): Promise<ThreadRef | null> {
    const chatId = this.#requireChat("createForumTopic");
    const name = topicName(title);
    if (await this.#isForum(chatId)) {
      try {
        const topic = await this.#link.api.call<TgForumTopic>("createForumTopic", {
          chat_id: chatId,
          name,
        });
        return { chatId, threadId: topic.message_thread_id };
      } catch (error) {
        if (!(error instanceof ChannelError) || error.retryable) throw error;
        this.#log.warn("telegram.topic_failed", { chat: chatId, error: error.message });
      }
    }
    const text = "*" + escapeMarkdownV2(name) + "*";
    const anchor = await this.#send(chatId, null, { text, raw: name }, undefined);
    this.#anchors.remember(anchor.message_id, anchor.message_id);
    return { chatId, replyTo: anchor.message_id };
  }

  async post(thread: ThreadRef | null, text: string, options: PostOptions = {}) {
    const chatId = chatOf(thread) ?? this.#requireChat("sendMessage");
    const chunks = formatTelegram(text);
    if (chunks.length === 0) chunks.push({ text: escapeMarkdownV2(EMPTY_TEXT), raw: EMPTY_TEXT });
    const keyboard = keyboardOf(options);
    let last: TgMessage | undefined;
    for (const [i, chunk] of chunks.entries()) {
      last = await this.#send(
        chatId,
        thread,
        chunk,
        i === chunks.length - 1 ? keyboard : undefined,
      );
    }
    return { chatId, messageId: last!.message_id } satisfies MessageRef;
  }

  async edit(
    thread: ThreadRef | null,
    message: MessageRef,
    text: string,
    options: EditOptions = {},
  ) {
    const chatId = numberOf(message.chatId) ?? chatOf(thread) ??
      this.#requireChat("editMessageText");
    const chunks = formatTelegram(text, 4096 - 3);
    const chunk = chunks[0] ?? { text: escapeMarkdownV2(EMPTY_TEXT), raw: EMPTY_TEXT };
    if (chunks.length > 1) {
      chunk.text += "\n…";
      chunk.raw += "\n…";
    }
    const params: Record<string, unknown> = {
      "chat_id": chatId,
      "message_id": numberOf(message.messageId),
      "link_preview_options": { is_disabled: true },
    };
    // Without reply_markup Telegram removes the buttons, which is what an edit does by default.
    const keyboard = keyboardOf(options);
    if (keyboard) params.reply_markup = keyboard;
    try {
      await sendWithFallback(this.#link.api, this.#log, "editMessageText", params, chunk);
    } catch (error) {
      if (!isNotModified(error)) throw error;
    }
  }

  async typing(thread: ThreadRef | null): Promise<void> {
    const chatId = chatOf(thread) ?? this.#requireChat("sendChatAction");
    const topic = numberOf(thread?.threadId);
    await this.#link.api.call("sendChatAction", {
      chat_id: chatId,
      action: "typing",
      ...(topic !== undefined ? { message_thread_id: topic } : {}),
    });
  }

  async close(thread: ThreadRef): Promise<void> {
    const topic = numberOf(thread.threadId);
    if (topic === undefined) return; // a reply chain has nothing to close
    const chatId = chatOf(thread) ?? this.#requireChat("closeForumTopic");
    try {
      await this.#link.api.call("closeForumTopic", { chat_id: chatId, message_thread_id: topic });
    } catch (error) {
      if (!(error instanceof ChannelError && /TOPIC_NOT_MODIFIED/.test(error.message))) throw error;
    }
  }

  /** Registers the handler of button presses (replacing an earlier one). */
  onAction(handler: Handler<ActionEvent>): void {
    this.#onAction = handler;
  }

  /** Registers the handler of messages (replacing an earlier one). */
  onMessage(handler: Handler<MessageEvent>): void {
    this.#onMessage = handler;
  }

  /**
   * Registers the handler told once when this view, configured without a chat id, adopted the
   * chat of the first message (or membership) the bot saw; the daemon persists it with
   * `persistChatId`. Replaces an earlier handler.
   */
  onChatDetected(handler: Handler<number>): void {
    this.#onChatDetected = handler;
  }

  /** Binds a view waiting for auto-detection to `chat` and tells its handlers (hub only). */
  async adoptChat(chat: TgChat): Promise<void> {
    this.#chatId = chat.id;
    this.#forum = undefined;
    this.#log.info("telegram.chat_detected", { chat: chat.id, type: chat.type });
    await this.#emit("chat_detected", this.#onChatDetected, chat.id);
  }

  /** Handles one update the hub routed to this chat. */
  async deliver(update: TgUpdate): Promise<void> {
    const context = {
      api: this.#link.api,
      log: this.#log,
      allowed: this.#allowed,
      username: this.#link.username(),
      anchorOf: (id: number) => this.#anchors.anchorOf(id),
    };
    if (update.callback_query) {
      const event = await handleCallback(update.callback_query, context);
      if (event) await this.#emit("action", this.#onAction, event);
    } else if (update.message) {
      const event = handleMessage(update.message, context);
      if (event) await this.#emit("message", this.#onMessage, event);
    }
  }

  async #emit<T>(what: string, handler: Handler<T> | undefined, event: T): Promise<void> {
    if (handler === undefined) return this.#log.debug(`telegram.${what}_unhandled`);
    try {
      await handler(event);
    } catch (error) {
      this.#log.error(`telegram.${what}_handler_failed`, {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  async #send(
    chatId: number,
    thread: ThreadRef | null,
    chunk: TelegramChunk,
    keyboard: TgInlineKeyboard | undefined,
  ): Promise<TgMessage> {
    const topic = numberOf(thread?.threadId);
    const replyTo = numberOf(thread?.replyTo);
    const params: Record<string, unknown> = {
      "chat_id": chatId,
      "link_preview_options": { is_disabled: true },
    };
    if (topic !== undefined) params.message_thread_id = topic;
    if (replyTo !== undefined) {
      params.reply_parameters = { message_id: replyTo, allow_sending_without_reply: true };
    }
    if (keyboard) params.reply_markup = keyboard;
    const sent = await sendWithFallback<TgMessage>(
      this.#link.api,
      this.#log,
      "sendMessage",
      params,
      chunk,
    );
    if (replyTo !== undefined) this.#anchors.remember(sent.message_id, replyTo);
    return sent;
  }

  #isForum(chatId: number): Promise<boolean> {
    this.#forum ??= this.#link.api.call<TgChat>("getChat", { chat_id: chatId }).then(
      (chat) => chat.type === "supergroup" && chat.is_forum === true,
      (error) => {
        this.#forum = undefined;
        throw error;
      },
    );
    return this.#forum;
  }

  #requireChat(method: string): number {
    if (this.#chatId !== 0) return this.#chatId;
    throw new ChannelError("Cannot post to Telegram: the chat is not known yet", {
      channel: "telegram",
      method,
      retryable: false,
    });
  }
}
