/**
 * One channel object per destination, shared by every pylon that reports there (one Telegram
 * poller per bot token, one Slack socket per app token), created when first needed and started
 * with the daemon.
 *
 * @module
 */

import type { Channel } from "../channel/channel.ts";
import { StdoutChannel } from "../channel/stdout.ts";
import { WebhookChannel } from "../channel/webhook.ts";
import type { ResolvedChannel } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { slackChannelFor, type SlackHub } from "../channel/slack/mod.ts";

/** Builds the channel of one resolved config; `undefined` when it cannot (logged by the caller). */
export type ChannelFactory = (settings: ResolvedChannel, log: Logger) => Channel | undefined;

/** Options of {@linkcode ChannelSet}. */
export interface ChannelSetOptions {
  /** Lines printed by the stdout channel. */
  write(line: string): void;
  log: Logger;
  /** Factories of the chat channels (Telegram, Slack) by type. */
  factories?: Partial<Record<string, ChannelFactory>>;
  /** Called once for every new channel (to start it and listen to it). */
  onNew(channel: Channel): void;
  fetch?: typeof fetch;
}

/** The channels in use, by key. */
export class ChannelSet {
  readonly #o: ChannelSetOptions;
  readonly #byKey = new Map<string, Channel>();
  readonly #warned = new Set<string>();

  constructor(options: ChannelSetOptions) {
    this.#o = options;
  }

  /** The channel a pylon reports to. */
  for(settings: ResolvedChannel, pylon: string): Channel | undefined {
    let channel: Channel | undefined;
    if (settings.type === "stdout") channel = new StdoutChannel(this.#o.write);
    else if (settings.type === "webhook") {
      if (!settings.webhook?.url) return this.#warn(pylon, "channel.webhook.url is not set");
      channel = new WebhookChannel({
        settings: settings.webhook,
        ...(this.#o.fetch ? { fetch: this.#o.fetch } : {}),
      });
    } else {
      const factory = this.#o.factories?.[settings.type];
      if (!factory) {
        return this.#warn(pylon, `the ${settings.type} channel is not available in this build`);
      }
      try {
        channel = factory(settings, this.#o.log.with({ channel: settings.type }));
      } catch (e) {
        return this.#warn(pylon, e instanceof Error ? e.message : String(e));
      }
      if (!channel) return this.#warn(pylon, `the ${settings.type} channel is not configured`);
    }
    const existing = this.#byKey.get(channel.key);
    if (existing) return existing;
    this.#byKey.set(channel.key, channel);
    this.#o.onNew(channel);
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
export function builtinChannelFactories(): Partial<Record<string, ChannelFactory>> {
  const slackHubs = new Map<string, SlackHub>();
  return {
    slack: (settings, log) =>
      settings.slack ? slackChannelFor(settings.slack, { hubs: slackHubs, log }) : undefined,
  };
}
