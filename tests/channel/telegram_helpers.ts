/**
 * Shared setup of the Telegram channel tests: a fake Bot API, a hub on it, captured logs, and a
 * clock whose sleeps are recorded and cut to a few milliseconds.
 */

import { createLogger } from "../../src/log/mod.ts";
import {
  createTelegramHub,
  type TelegramClock,
  type TelegramHub,
} from "../../src/channel/telegram/mod.ts";
import {
  type FakeChatOptions,
  type FakeTelegram,
  startFakeTelegram,
} from "../fakes/telegram_server.ts";

/** A clock that records each sleep and sleeps at most `capMs` for real. */
export function fastClock(capMs = 5): TelegramClock & { slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    now: () => new Date(),
    sleep(ms, signal) {
      slept.push(ms);
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const timer = setTimeout(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }, Math.min(ms, capMs));
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
  };
}

/** Everything one test needs; `await using` stops it all. */
export interface TelegramTestbed extends AsyncDisposable {
  fake: FakeTelegram;
  hub: TelegramHub;
  logs: string[];
  clock: TelegramClock & { slept: number[] };
  /** Aborting it stops every view started with it. */
  controller: AbortController;
}

/** Starts a fake with `chats` and a hub on it (not polling until a view starts). */
export function testbed(chats: FakeChatOptions[] = [], apiUrl?: string): TelegramTestbed {
  const fake = startFakeTelegram({ chats });
  const logs: string[] = [];
  const log = createLogger({ write: (line) => logs.push(line), level: "debug" });
  const clock = fastClock();
  const hub = createTelegramHub({
    token: fake.token,
    apiUrl: apiUrl ?? fake.url,
    log,
    clock,
    pollTimeoutSec: 1,
  });
  const controller = new AbortController();
  return {
    fake,
    hub,
    logs,
    clock,
    controller,
    async [Symbol.asyncDispose]() {
      controller.abort();
      await hub.close();
      await fake.close();
    },
  };
}

/** Collects events passed to a handler and waits for them. */
export function collector<T>() {
  const events: T[] = [];
  const waiting: { count: number; resolve: () => void }[] = [];
  return {
    events,
    handler(event: T) {
      events.push(event);
      for (const w of waiting.filter((w) => events.length >= w.count)) w.resolve();
    },
    /** Resolves once `count` events arrived (rejects after 5 s). */
    until(count: number): Promise<T[]> {
      if (events.length >= count) return Promise.resolve(events);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${events.length} events`)), 5000);
        waiting.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(events);
          },
        });
      });
    },
  };
}

/** Waits until `check` holds, polling every few milliseconds (rejects after `ms`). */
export async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
