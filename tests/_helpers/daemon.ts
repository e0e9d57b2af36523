/**
 * Runs a whole daemon in-process on a temp `PYLON_HOME` and a free loopback port.
 */

import { createPylonPaths, type PylonPaths } from "../../src/config/mod.ts";
import { type DaemonOptions, runDaemon } from "../../src/daemon/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { JobRunner } from "../../src/queue/mod.ts";

/** A running test daemon. */
export interface TestDaemon {
  url: string;
  token: string;
  paths: PylonPaths;
  logs: string[];
  out: string[];
  /** Stops the daemon and waits until it has shut down. */
  stop(): Promise<void>;
  /** `fetch` against the daemon with the bearer token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Waits until a log line matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Starts a daemon on `root` (a pylon home prepared by the test). */
export async function startTestDaemon(
  root: string,
  options: {
    runner?: JobRunner;
    createRunner?: DaemonOptions["createRunner"];
    channelFactories?: DaemonOptions["channelFactories"];
    closeChannels?: DaemonOptions["closeChannels"];
    notifyRetryMs?: number[];
    env?: Record<string, string>;
    only?: string[];
    /** Where it listens (default 127.0.0.1, a free port): the url follows. */
    host?: string;
    port?: number;
  } = {},
): Promise<TestDaemon> {
  const paths = createPylonPaths(root);
  const logs: string[] = [];
  const out: string[] = [];
  const stop = new AbortController();
  const { promise: listening, resolve, reject } = Promise.withResolvers<number>();
  const done = runDaemon({
    paths,
    env: { HOME: root, TZ: "UTC", ...options.env },
    log: createLogger({ write: (l) => logs.push(l), level: "debug" }),
    clock: { now: () => new Date() },
    out: (t) => out.push(t),
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    runner: options.runner,
    ...(options.createRunner ? { createRunner: options.createRunner } : {}),
    ...(options.channelFactories ? { channelFactories: options.channelFactories } : {}),
    ...(options.closeChannels ? { closeChannels: options.closeChannels } : {}),
    ...(options.notifyRetryMs ? { notifyRetryMs: options.notifyRetryMs } : {}),
    signal: stop.signal,
    ...(options.only ? { only: options.only } : {}),
    onListen: (addr) => resolve(addr.port),
  });
  done.catch(reject);
  const port = await listening;
  const token = (await Deno.readTextFile(paths.daemonToken)).trim();
  const url = `http://${options.host ?? "127.0.0.1"}:${port}`;
  return {
    url,
    token,
    paths,
    logs,
    out,
    async stop() {
      stop.abort();
      await done;
    },
    api: (path, init = {}) =>
      fetch(url + path, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
      }),
    async waitForLog(pattern, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const line = logs.find((l) => pattern.test(l));
        if (line) return line;
        if (Date.now() > until) {
          throw new Error(`no log line matched ${pattern}:\n${logs.join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Writes files into a pylon home. */
export async function writeHome(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    const path = `${root}/${rel}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, text);
  }
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 5000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}
