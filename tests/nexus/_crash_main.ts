/**
 * `pylon nexus` with a data source whose answer breaks the renderer: the pylon's prompt throws
 * when the detail view reads it (as a bug in a renderer would). Run in tmux by `crash_test.ts`
 * to check that an exception inside the UI puts the terminal back and prints the error.
 *
 * Everything else is the real session: the process context, Ink, the alternate screen.
 *
 * @module
 */

import { createProcessContext } from "../../src/cli/process.ts";
import type { Snapshot } from "../../src/nexus/model.ts";
import { runNexusSession } from "../../src/nexus/session.ts";

/** A snapshot with one pylon whose `prompt` cannot be read. */
function brokenSnapshot(): Snapshot {
  const pylon = {
    name: "broken",
    state: "active",
    description: "",
    trigger: { type: "webhook", path: "/broken" },
    webhookUrl: null,
    workspace: "none",
    agent: "claude",
    channel: "stdout",
    topic: null,
    message: null,
    autoRun: true,
    problem: null,
    costToday: null,
    costMonth: null,
    successRate: null,
    get prompt(): string {
      throw new Error("renderer assumption broken: CRASH-MARKER");
    },
  } as const;
  return { pylons: [pylon], jobs: [], waiting: [], toolCalls: [], daemon: false };
}

if (import.meta.main) {
  const code = await runNexusSession(createProcessContext(), {
    readSnapshot: () => Promise.resolve(brokenSnapshot()),
  });
  Deno.exit(code);
}
