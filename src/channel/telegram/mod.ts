/**
 * The Telegram channel: posts jobs to a chat (forum topics or reply chains), shows Investigate /
 * Ignore buttons, and receives presses and follow-up messages by long polling.
 *
 * How the daemon uses it:
 *
 * ```ts
 * const hubs = new Map<string, TelegramHub>(); // one per daemon
 * const channel = telegramChannelFor(resolved.channel.telegram!, { hubs, log });
 * channel.onAction(...); channel.onMessage(...);
 * if (channel.chatId === 0) channel.onChatDetected((id) => persistChatId(file, keyPath, id));
 * await channel.start(signal); // the hub polls while any started view's signal is live
 * // on shutdown: abort, then await closeTelegramHubs(hubs)
 * ```
 *
 * **Raw Bot API, not grammY.** `npm:grammy` (1.46) works under Deno 2.9.6 with the daemon's
 * permissions and takes a custom `apiRoot` and `fetch`, but: its npm build drags in `node-fetch`
 * (a punycode deprecation warning on stderr at import); its `Bot` owns the polling loop and
 * handler chain per instance, so one poller shared by many chats, 409 handling, chat-id
 * detection and routing would be ours anyway; adding it needs a new import in deno.json; and we
 * use twelve methods whose wire format is simple JSON. So this is a thin client: one `call()`
 * with injected `fetch` + `apiUrl` (self-hosted Bot API servers and the test fake work alike),
 * Telegram errors mapped to `ChannelError`, and the token kept out of every error and log.
 *
 * Does not import the daemon, the notifier or the CLI.
 *
 * @module
 */

export { isNotModified, isParseError, SYSTEM_CLOCK, TelegramApi } from "./api.ts";
export type { CallOptions, TelegramApiOptions, TelegramClock } from "./api.ts";
export {
  escapeMarkdownV2,
  escapeMarkdownV2Code,
  escapeMarkdownV2Url,
  formatTelegram,
  TELEGRAM_MAX_LENGTH,
  toMarkdownV2,
} from "./format.ts";
export type { TelegramChunk } from "./format.ts";
export { createTelegramHub, TelegramHub, tokenDigest } from "./hub.ts";
export type { TelegramHubOptions } from "./hub.ts";
export { TelegramChannel } from "./telegram_channel.ts";
export { approvalKeyboard, topicName } from "./outbound.ts";
export type { TelegramChannelSettings } from "./telegram_channel.ts";
export { closeTelegramHubs, telegramChannelFor } from "./registry.ts";
export type { TelegramChannelConfig, TelegramRegistryDeps } from "./registry.ts";
export { persistChatId } from "./persist_chat.ts";
export type { ChatIdPath } from "./persist_chat.ts";
