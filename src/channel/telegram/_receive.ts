/**
 * Turns a routed update into a channel event: button presses are answered first (always, so the
 * button stops spinning), then filtered by `allowed_users`; messages are filtered and normalised.
 *
 * @module
 */

import { type ActionEvent, isToolAction, type MessageEvent } from "../channel.ts";
import type { Logger } from "../../log/mod.ts";
import type { TelegramApi } from "./api.ts";
import { displayName, isAllowed, normalizeCommand, parseButtonData, threadOf } from "./inbound.ts";
import type { TgCallbackQuery, TgMessage } from "./types.ts";

/** What receiving needs from the view. */
export interface ReceiveContext {
  api: TelegramApi;
  log: Logger;
  allowed: readonly number[];
  username: string | undefined;
  anchorOf(messageId: number): number | undefined;
}

/** Answers a button press and returns its event, or undefined when it is refused or unknown. */
export async function handleCallback(
  query: TgCallbackQuery,
  ctx: ReceiveContext,
): Promise<ActionEvent | undefined> {
  const data = parseButtonData(query.data);
  const tool = data !== undefined && isToolAction(data.action);
  const allowed = isAllowed(query.from, ctx.allowed, tool);
  await answerCallback(
    ctx.api,
    ctx.log,
    query.id,
    allowed ? undefined : refusal(tool, ctx.allowed),
  );
  if (!allowed) {
    ctx.log.info("telegram.action_refused", { user: query.from.id, action: data?.action });
    return undefined;
  }
  if (data === undefined) {
    ctx.log.debug("telegram.action_unknown", { user: query.from.id });
    return undefined;
  }
  const message = query.message;
  return {
    jobId: data.jobId,
    action: data.action,
    ...(data.callId !== undefined ? { callId: data.callId } : {}),
    userId: String(query.from.id),
    userName: displayName(query.from),
    message: message ? { chatId: message.chat.id, messageId: message.message_id } : undefined,
    thread: message ? threadOf(message, ctx.anchorOf) : undefined,
  };
}

/** The answer to a refused press. */
function refusal(tool: boolean, allowed: readonly number[]): string {
  if (tool && allowed.length === 0) {
    return "Tool calls cannot be decided from this chat: channel.telegram.allowed_users is " +
      "empty. Add your Telegram user id there, or use pylon allow|deny.";
  }
  return "You may not decide here";
}

/** The event of a person's text message, or undefined when it is filtered out. */
export function handleMessage(message: TgMessage, ctx: ReceiveContext): MessageEvent | undefined {
  const from = message.from;
  if (from === undefined || from.is_bot || typeof message.text !== "string") return undefined;
  if (!isAllowed(from, ctx.allowed)) {
    ctx.log.debug("telegram.message_refused", { user: from.id });
    return undefined;
  }
  const text = normalizeCommand(message.text, ctx.username);
  if (text === undefined || text === "") return undefined; // a command for another bot
  return {
    thread: threadOf(message, ctx.anchorOf),
    text,
    userId: String(from.id),
    userName: displayName(from),
  };
}

/** `answerCallbackQuery`, best effort: a press older than Telegram's window cannot be answered. */
export async function answerCallback(
  api: TelegramApi,
  log: Logger,
  id: string,
  text?: string,
): Promise<void> {
  try {
    await api.call("answerCallbackQuery", {
      callback_query_id: id,
      ...(text !== undefined ? { text } : {}),
    });
  } catch (error) {
    log.debug("telegram.answer_failed", {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
