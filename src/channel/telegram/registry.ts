/**
 * How the daemon gets Telegram channels: one {@linkcode TelegramHub} per bot token, kept in a map
 * the daemon owns, and one view per chat on it.
 *
 * @module
 */

import { ChannelError } from "../channel.ts";
import type { Logger } from "../../log/mod.ts";
import type { TelegramClock } from "./api.ts";
import { createTelegramHub, type TelegramHub, tokenDigest } from "./hub.ts";
import type { TelegramChannel } from "./telegram_channel.ts";

/** A pylon's `channel.telegram` settings (the config's `TelegramSettings`, tokens expanded). */
export interface TelegramChannelConfig {
  "bot_token"?: string | undefined;
  /** 0 or absent: auto-detect. */
  "chat_id"?: number | undefined;
  "allowed_users"?: readonly number[] | undefined;
  "api_url"?: string | undefined;
}

/** What {@linkcode telegramChannelFor} needs. */
export interface TelegramRegistryDeps {
  /** Hubs by `sha256(token)`; the daemon keeps it for its lifetime. */
  hubs: Map<string, TelegramHub>;
  log: Logger;
  fetch?: typeof fetch | undefined;
  clock?: TelegramClock | undefined;
}

/**
 * The channel of a pylon's (resolved, `${VAR}`-expanded) Telegram settings, sharing the hub of
 * its bot token with every other pylon that uses the token.
 *
 * @throws {ChannelError} when `bot_token` is empty
 */
export function telegramChannelFor(
  settings: TelegramChannelConfig,
  deps: TelegramRegistryDeps,
): TelegramChannel {
  const token = settings.bot_token?.trim() ?? "";
  if (token === "") {
    const error = new ChannelError("Cannot use Telegram: channel.telegram.bot_token is empty", {
      channel: "telegram",
      method: "setup",
      retryable: false,
    });
    Object.defineProperty(error, "hint", {
      value: 'set bot_token (e.g. "${TELEGRAM_BOT_TOKEN}" with the variable in .env)',
    });
    throw error;
  }
  const apiUrl = settings.api_url ?? "https://api.telegram.org";
  const digest = tokenDigest(token);
  let hub = deps.hubs.get(digest);
  if (hub === undefined) {
    hub = createTelegramHub({ token, apiUrl, fetch: deps.fetch, log: deps.log, clock: deps.clock });
    deps.hubs.set(digest, hub);
  } else if (hub.api.apiUrl !== apiUrl.replace(/\/+$/, "")) {
    deps.log.warn("telegram.api_url_ignored", {
      bot: hub.tokenId,
      used: hub.api.apiUrl,
      ignored: apiUrl,
    });
  }
  return hub.channel({
    chatId: settings.chat_id ?? 0,
    allowedUsers: settings.allowed_users ?? [],
  });
}

/** Stops every hub (the daemon calls it on shutdown) and waits for them. */
export async function closeTelegramHubs(hubs: Map<string, TelegramHub>): Promise<void> {
  await Promise.all([...hubs.values()].map((hub) => hub.close()));
}
