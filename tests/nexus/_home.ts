/**
 * A pylon home and a job runner for the nexus tests: a webhook pylon that runs at once
 * (`hook`), one that waits for approval (`gated`), and a cron pylon (`nightly`); jobs write
 * `text` to their log (hostile escape sequences included, when asked) and run until released
 * or killed.
 */

import { join } from "node:path";
import type { CommandContext } from "../../src/cli/command.ts";
import { createPylonPaths } from "../../src/config/mod.ts";
import type { JobRunner, RunOutcome } from "../../src/queue/mod.ts";
import type { JobUsage } from "../../src/store/mod.ts";
import { writeHome } from "../_helpers/daemon.ts";

/** Terminal escapes an agent might print to take over a terminal. */
export const HOSTILE = "\x1b]0;PWNED-TITLE\x07" + // window title
  "\x1b]52;c;cHduZWQ=\x07" + // clipboard write
  "\x1b[2J\x1b[H" + // clear screen, cursor home
  "\x1b[5;5HOVERWRITE" + // cursor move
  "\x1b[?1049l" + // leave the alternate screen
  "\x1b[31mred-text\x1b[0m" + // colour: kept
  " after-escapes\n";

/** What every completed job reports it cost. */
const USAGE: JobUsage = {
  costUsd: 0.42,
  costBasis: "api",
  inputTokens: 1000,
  outputTokens: 200,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  numTurns: 3,
  durationApiMs: 1000,
  models: ["claude-test"],
};

/** A runner whose jobs log `lines` and then wait; completed jobs cost $0.42. */
export interface HoldingRunner extends JobRunner {
  release(): void;
  running: Set<string>;
}

/** Creates the runner; `jobsDir()` is `$PYLON_HOME/jobs`. */
export function holdingRunner(jobsDir: () => string, lines: () => string): HoldingRunner {
  let gate = Promise.withResolvers<void>();
  const runner: HoldingRunner = {
    running: new Set(),
    release() {
      gate.resolve();
      gate = Promise.withResolvers<void>();
    },
    async run(job, _pylon, ctx): Promise<RunOutcome> {
      runner.running.add(job.id);
      try {
        await Deno.mkdir(jobsDir(), { recursive: true });
        await Deno.writeTextFile(join(jobsDir(), `${job.id}.log`), lines(), { append: true });
        const killed = new Promise<"killed">((resolve) =>
          ctx.signal.addEventListener("abort", () => resolve("killed"), { once: true })
        );
        if (await Promise.race([gate.promise.then(() => "go" as const), killed]) === "killed") {
          return { status: "killed", error: "killed by request" };
        }
        return { status: "completed", exitCode: 0, result: "done", usage: USAGE };
      } finally {
        runner.running.delete(job.id);
      }
    },
  };
  return runner;
}

/** A fresh home with the three pylons. */
export async function nexusHome(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "pylon-nexus-" });
  await writeHome(root, {
    "pylons/hook/pylon.yaml": [
      "name: hook",
      "description: Runs on every event",
      "trigger:",
      "  type: webhook",
      "  path: /hook",
      "channel:",
      "  type: stdout",
      "agent:",
      "  prompt: Fix it",
      "",
    ].join("\n"),
    "pylons/gated/pylon.yaml": [
      "name: gated",
      "trigger:",
      "  type: webhook",
      "  path: /gated",
      "channel:",
      "  type: stdout",
      "  approval: true",
      "agent:",
      "  prompt: Fix it after a yes",
      "",
    ].join("\n"),
    "pylons/nightly/pylon.yaml": [
      "name: nightly",
      "trigger:",
      "  type: cron",
      '  cron: "0 9 * * 1-5"',
      "channel:",
      "  type: stdout",
      "agent:",
      "  prompt: Audit the repository",
      "",
    ].join("\n"),
  });
  return root;
}

/** A command context on the home `root`, its output dropped (as nexus keeps it off-screen). */
export function contextFor(root: string): CommandContext {
  return {
    paths: createPylonPaths(root),
    env: { HOME: root, PYLON_HOME: root, TZ: "UTC" },
    io: {
      out: () => {},
      err: () => {},
      readLine: () => Promise.resolve(null),
      isTty: false,
    },
    clock: { now: () => new Date() },
    spawnInteractive: () => Promise.resolve(0),
  };
}
