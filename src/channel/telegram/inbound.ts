/**
 * Pure helpers that turn incoming Telegram updates into channel events: who may act, which thread
 * a message belongs to, command normalisation and button data.
 *
 * @module
 */

import { CHAT_COMMANDS } from "../channel.ts";
import type { ThreadRef } from "../channel.ts";
import type { TgMessage, TgUser } from "./types.ts";

/** What a button's `callback_data` asks for. */
export interface ButtonData {
  action: "investigate" | "ignore";
  jobId: string;
}

const COMMAND_REGEXP = /^\/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(?=\s|$)/;
const COMMANDS: ReadonlySet<string> = new Set(CHAT_COMMANDS.map((c) => c.command));

/** Whether `user` may act: an empty list lets everyone in the chat act. */
export function isAllowed(user: TgUser | undefined, allowed: readonly number[]): boolean {
  if (user === undefined) return false;
  return allowed.length === 0 || allowed.includes(user.id);
}

/** `@username`, else the person's name. */
export function displayName(user: TgUser): string {
  if (user.username) return `@${user.username}`;
  return [user.first_name, user.last_name].filter(Boolean).join(" ");
}

/** `investigate:<jobId>` / `ignore:<jobId>`, or undefined for anything else. */
export function parseButtonData(data: string | undefined): ButtonData | undefined {
  const match = /^(investigate|ignore):(.+)$/.exec(data ?? "");
  if (!match) return undefined;
  return { action: match[1] as ButtonData["action"], jobId: match[2]! };
}

/** The `callback_data` of a button (Telegram allows at most 64 bytes). */
export function buttonData(action: ButtonData["action"], jobId: string): string {
  return `${action}:${jobId}`;
}

/**
 * Normalises `/done@pylon_bot` (and `/done`) to `done`, keeping any words after it; other text is
 * returned unchanged. Returns undefined for a command addressed to another bot.
 */
export function normalizeCommand(text: string, username: string | undefined): string | undefined {
  const trimmed = text.trim();
  const match = COMMAND_REGEXP.exec(trimmed);
  if (!match) return trimmed;
  const [whole, name = "", bot] = match;
  if (bot !== undefined && username !== undefined && bot.toLowerCase() !== username.toLowerCase()) {
    return undefined;
  }
  if (!COMMANDS.has(name.toLowerCase())) return trimmed;
  return (name.toLowerCase() + trimmed.slice(whole.length)).trim();
}

/**
 * The thread a message belongs to: its forum topic, else the reply chain it continues (the
 * anchor of the message it answers when known), else undefined (the main chat).
 */
export function threadOf(
  message: TgMessage,
  anchorOf: (messageId: number) => number | undefined,
): ThreadRef | undefined {
  const chatId = message.chat.id;
  if (message.is_topic_message && message.message_thread_id !== undefined) {
    return { chatId, threadId: message.message_thread_id };
  }
  const reply = message.reply_to_message;
  if (reply === undefined) return undefined;
  const anchor = anchorOf(reply.message_id) ?? anchorOf(message.message_thread_id ?? NaN) ??
    message.message_thread_id ?? reply.message_id;
  return { chatId, replyTo: anchor };
}

/** Remembers which reply-chain anchor each posted message belongs to (bounded, oldest dropped). */
export class AnchorMemory {
  readonly #anchors = new Map<number, number>();
  readonly #limit: number;

  constructor(limit = 5000) {
    this.#limit = limit;
  }

  /** Records that `messageId` was posted in the chain started by `anchorId`. */
  remember(messageId: number, anchorId: number): void {
    this.#anchors.set(messageId, anchorId);
    if (this.#anchors.size > this.#limit) {
      const oldest = this.#anchors.keys().next().value;
      if (oldest !== undefined) this.#anchors.delete(oldest);
    }
  }

  /** The anchor of `messageId`, if it was posted by this process. */
  anchorOf(messageId: number): number | undefined {
    return this.#anchors.get(messageId);
  }
}
