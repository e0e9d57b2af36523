/** Shared set-up of the Slack tests: a fake Slack, a hub map, a recording logger and clock. */

import { createLogger } from "../../src/log/mod.ts";
import type { Logger } from "../../src/log/mod.ts";
import {
  type SlackChannel,
  slackChannelFor,
  type SlackClock,
  type SlackHub,
} from "../../src/channel/slack/mod.ts";
import { type FakeSlack, type FakeSlackOptions, startFakeSlack } from "../fakes/slack_server.ts";

export const CHANNEL = "C0PYLON";
export const ADA = "U0ADA";
export const EVE = "U0EVE";

/** Real timers, but no wait longer than 20 ms; remembers what was asked for. */
export function fastClock(): SlackClock & { waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    random: () => 0.5,
    sleep(ms, signal) {
      waits.push(ms);
      return new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(ms, 20));
        signal?.addEventListener("abort", done, { once: true });
      });
    },
  };
}

/** Everything a Slack test needs; `await using` closes it all. */
export interface SlackSetup extends AsyncDisposable {
  fake: FakeSlack;
  hubs: Map<string, SlackHub>;
  log: Logger;
  lines: string[];
  clock: ReturnType<typeof fastClock>;
  controller: AbortController;
  /** A view on the fake, allowing `allowed` (default: Ada only). */
  channel(channelId?: string, allowed?: string[]): SlackChannel;
}

/** Starts a fake Slack and the pieces around it. */
export function slackSetup(options: FakeSlackOptions = {}): SlackSetup {
  const fake = startFakeSlack(options);
  const lines: string[] = [];
  const log = createLogger({ write: (line) => lines.push(line), level: "debug" });
  const hubs = new Map<string, SlackHub>();
  const clock = fastClock();
  const controller = new AbortController();
  return {
    fake,
    hubs,
    log,
    lines,
    clock,
    controller,
    channel: (channelId = CHANNEL, allowed = [ADA]) =>
      slackChannelFor({
        "bot_token": fake.botToken,
        "app_token": fake.appToken,
        "channel_id": channelId,
        "allowed_users": allowed,
        "api_url": fake.apiUrl,
      }, { hubs, log, clock }),
    async [Symbol.asyncDispose]() {
      controller.abort();
      await Promise.all([...hubs.values()].map((hub) => hub.stopped()));
      await fake.close();
      const leaked = lines.filter((l) => l.includes(fake.botToken) || l.includes(fake.appToken));
      if (leaked.length > 0) throw new Error(`Token in log lines: ${leaked.join("\n")}`);
    },
  };
}
