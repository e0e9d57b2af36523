/**
 * Helpers for what the Telegram channel sends: the approval keyboard, topic names, thread and
 * message ids read back from JSON refs, and the MarkdownV2 send with its plain-text fallback.
 *
 * @module
 */

import { type ActionKind, ChannelError, type PostOptions, type ThreadRef } from "../channel.ts";
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
  return keyboardOf({ approval: { jobId } })!;
}

/** The inline keyboard of a post's (or an edit's) buttons; undefined when it has none. */
export function keyboardOf(options: PostOptions): TgInlineKeyboard | undefined {
  const button = (text: string, action: ActionKind, jobId: string, callId?: string) => {
    try {
      return { text, callback_data: buttonData(action, jobId, callId) };
    } catch (error) {
      throw new ChannelError(`Cannot add buttons: ${(error as Error).message}`, {
        channel: "telegram",
        method: "sendMessage",
        retryable: false,
      });
    }
  };
  if (options.approval) {
    const { jobId } = options.approval;
    return {
      inline_keyboard: [[
        button("Investigate", "investigate", jobId),
        button("Ignore", "ignore", jobId),
      ]],
    };
  }
  if (options.runAnyway) {
    return { inline_keyboard: [[button("Run anyway", "run_anyway", options.runAnyway.jobId)]] };
  }
  if (options.tool) {
    const { jobId, callId } = options.tool;
    return {
      inline_keyboard: [
        [
          button("Allow", "tool_allow", jobId, callId),
          button("Deny", "tool_deny", jobId, callId),
        ],
        [button("Allow for this job", "tool_allow_job", jobId, callId)],
      ],
    };
  }
  return undefined;
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
