/**
 * Helpers for what the Telegram channel sends: the approval keyboard, topic names, thread and
 * message ids read back from JSON refs, and the MarkdownV2 send with its plain-text fallback.
 *
 * @module
 */

import { ChannelError, type ThreadRef } from "../channel.ts";
import type { Logger } from "../../log/mod.ts";
import { isParseError, type TelegramApi } from "./api.ts";
import type { TelegramChunk } from "./format.ts";
import { buttonData } from "./inbound.ts";
import type { TgInlineKeyboard } from "./types.ts";

/** Sent for a blank text (Telegram refuses empty messages). */
export const EMPTY_TEXT = "(empty message)";

const TOPIC_NAME_MAX = 128;

/**
 * Calls `method` with the chunk as MarkdownV2; when Telegram cannot parse it ("can't parse
 * entities"), again with the chunk's Markdown source as plain text.
 */
export async function sendWithFallback<T>(
  api: TelegramApi,
  log: Logger,
  method: string,
  params: Record<string, unknown>,
  chunk: TelegramChunk,
): Promise<T> {
  try {
    return await api.call<T>(method, { ...params, text: chunk.text, parse_mode: "MarkdownV2" });
  } catch (error) {
    if (!isParseError(error)) throw error;
    log.warn("telegram.markdown_rejected", { method, error: (error as Error).message });
    return await api.call<T>(method, { ...params, text: chunk.raw });
  }
}

/** The Investigate / Ignore keyboard of a job. */
export function approvalKeyboard(jobId: string): TgInlineKeyboard {
  const investigate = buttonData("investigate", jobId);
  if (new TextEncoder().encode(investigate).length > 64) {
    throw new ChannelError(`Cannot add approval buttons: job id "${jobId}" is too long`, {
      channel: "telegram",
      method: "sendMessage",
      retryable: false,
    });
  }
  return {
    inline_keyboard: [[
      { text: "Investigate", callback_data: investigate },
      { text: "Ignore", callback_data: buttonData("ignore", jobId) },
    ]],
  };
}

/** A topic name Telegram accepts: one line, 1–128 characters. */
export function topicName(title: string): string {
  const line = title.replace(/\s+/g, " ").trim() || "pylon job";
  if (line.length <= TOPIC_NAME_MAX) return line;
  let cut = TOPIC_NAME_MAX - 1;
  if (/[\udc00-\udfff]/.test(line[cut] ?? "")) cut--;
  return line.slice(0, cut) + "…";
}

/** The chat id of a ref, if it has one. */
export function chatOf(thread: ThreadRef | null | undefined): number | undefined {
  return numberOf(thread?.chatId);
}

/** A ref value as a safe integer, if it is one. */
export function numberOf(value: string | number | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}
