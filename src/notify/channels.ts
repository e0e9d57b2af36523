/**
 * One channel object per destination, shared by every pylon that reports there (one Telegram
 * poller per bot token, one Slack socket per app token), created when first needed and started
 * with the daemon.
 *
 * @module
 */

import { type Channel, type Destination, isReporter } from "../channel/channel.ts";
import { GitHubChannel } from "../channel/github/mod.ts";
import { StdoutChannel } from "../channel/stdout.ts";
import type { StreamedLines } from "../channel/stdout_lines.ts";
import { WebhookChannel } from "../channel/webhook.ts";
import type { ChannelType, PylonPaths, ResolvedChannel } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { slackChannelFor, type SlackHub } from "../channel/slack/mod.ts";
import {
  type ChatIdPath,
  closeTelegramHubs,
  persistChatId,
  telegramChannelFor,
  type TelegramHub,
} from "../channel/telegram/mod.ts";

/** Builds the channel of one resolved config; `undefined` when it cannot (logged by the caller). */
export type ChannelFactory = (
  settings: ResolvedChannel,
  log: Logger,
  origin: ChannelOrigin,
) => Channel | undefined;

/** Which pylon asks for a channel, and which channel sections its own file holds. */
export interface ChannelOrigin {
  pylon: string;
  /** Whether the pylon's own `channel.<type>` section is used (not config.yaml's defaults). */
  ownSettings: boolean | ((type: ChannelType) => boolean);
}

/** Options of {@linkcode ChannelSet}. */
export interface ChannelSetOptions {
  /** Lines printed by the stdout channel. */
  write(line: string): void;
  /** What the runner printed of each job, which the stdout channel does not repeat. */
  streamed?: StreamedLines | undefined;
  log: Logger;
  /** Factories of the chat channels (Telegram, Slack) by type. */
  factories?: Partial<Record<string, ChannelFactory>>;
  /** Called once for every new chat channel (to start it and listen to it). */
  onNew(channel: Channel): void;
  fetch?: typeof fetch;
}

/** The channels in use, by key. */
export class ChannelSet {
  readonly #o: ChannelSetOptions;
  readonly #byKey = new Map<string, Destination>();
  readonly #warned = new Set<string>();

  constructor(options: ChannelSetOptions) {
    this.#o = options;
  }

  /** Every destination a pylon reports to, in the order of `channel.type`. */
  for(settings: ResolvedChannel, origin: ChannelOrigin): Destination[] {
    const out: Destination[] = [];
    for (const type of settings.types) {
      const own = typeof origin.ownSettings === "function"
        ? origin.ownSettings(type)
        : origin.ownSettings;
      const one = this.#one(type, settings, { pylon: origin.pylon, ownSettings: own });
      if (one && !out.includes(one)) out.push(one);
    }
    return out;
  }

  #one(type: ChannelType, settings: ResolvedChannel, origin: ChannelOrigin) {
    const pylon = origin.pylon;
    let channel: Destination | undefined;
    if (type === "stdout") {
      channel = new StdoutChannel(this.#o.write, { streamed: this.#o.streamed });
    } else if (type === "webhook") {
      if (!settings.webhook?.url) return this.#warn(pylon, "channel.webhook.url is not set");
      channel = new WebhookChannel({
        settings: settings.webhook,
        ...(this.#o.fetch ? { fetch: this.#o.fetch } : {}),
      });
    } else if (type === "github") {
      if (!settings.github?.token) return this.#warn(pylon, "channel.github.token is not set");
      channel = new GitHubChannel({
        token: settings.github.token,
        apiUrl: settings.github.api_url,
        allowedRepos: settings.github.allowed_repos,
        log: this.#o.log.with({ channel: "github" }),
        fetch: this.#o.fetch,
      });
    } else {
      const factory = this.#o.factories?.[type];
      if (!factory) {
        return this.#warn(pylon, `the ${type} channel is not available in this build`);
      }
      try {
        channel = factory(settings, this.#o.log.with({ channel: type }), origin);
      } catch (e) {
        return this.#warn(pylon, e instanceof Error ? e.message : String(e));
      }
      if (!channel) return this.#warn(pylon, `the ${type} channel is not configured`);
    }
    const existing = this.#byKey.get(channel.key);
    if (existing) return existing;
    this.#byKey.set(channel.key, channel);
    if (!isReporter(channel)) this.#o.onNew(channel);
    return channel;
  }

  #warn(pylon: string, reason: string): undefined {
    if (!this.#warned.has(`${pylon}:${reason}`)) {
      this.#warned.add(`${pylon}:${reason}`);
      this.#o.log.warn("channel.unavailable", {
        pylon,
        reason,
        note: "jobs run; results stay in `pylon jobs`",
      });
    }
    return undefined;
  }
}

/** The chat channels of this build, sharing one connection per token. */
export interface ChannelKit {
  factories: Partial<Record<string, ChannelFactory>>;
  /** Ends the shared connections (after the channels' start signal was aborted). */
  close(): Promise<void>;
}

/** Telegram and Slack, with chat-id auto-detection written back to the right config file. */
export function builtinChannels(paths: PylonPaths): ChannelKit {
  const slackHubs = new Map<string, SlackHub>();
  const telegramHubs = new Map<string, TelegramHub>();
  return {
    factories: {
      slack: (settings, log) =>
        settings.slack ? slackChannelFor(settings.slack, { hubs: slackHubs, log }) : undefined,
      telegram: (settings, log, origin) => {
        if (!settings.telegram) return undefined;
        const channel = telegramChannelFor(settings.telegram, { hubs: telegramHubs, log });
        if (!settings.telegram.chat_id) {
          channel.onChatDetected(async (chatId) => {
            const [file, keyPath]: [string, ChatIdPath] = origin.ownSettings
              ? [paths.pylonConfig(origin.pylon), ["channel", "telegram", "chat_id"]]
              : [paths.globalConfig, ["defaults", "channel", "telegram", "chat_id"]];
            try {
              await persistChatId(file, keyPath, chatId);
              log.info("telegram.chat_detected", { chat: chatId, saved_to: file });
            } catch (e) {
              log.error("telegram.chat_save_failed", {
                chat: chatId,
                file,
                error: e instanceof Error ? e.message : String(e),
              });
            }
          });
        }
        return channel;
      },
    },
    close: () => closeTelegramHubs(telegramHubs),
  };
}
