/**
 * `pylon nexus`: the full-screen terminal dashboard (pylons, jobs, what waits for you, live
 * logs, and the daemon), built in `src/nexus/`. Loaded lazily so other commands never pay for
 * the UI library.
 *
 * @module
 */

import { PylonError } from "../../errors.ts";
import type { Command } from "../command.ts";

/**
 * Loads the UI. Design note: Ink, when the process has `DEV=true`, imports its optional peer
 * `react-devtools-core` at load time to reach React DevTools. pylon does not ship that package
 * (a compiled binary carries only the npm packages it resolves), and `DEV` is a common variable
 * with other meanings, so a user's `DEV=true` would print a warning over the terminal or, in a
 * binary, fail the import. The UI is therefore loaded with `DEV` unset, and `DEV` restored
 * right after (child `pylon` wizards see it as it was).
 */
async function loadSession(): Promise<typeof import("../../nexus/session.ts")> {
  const dev = Deno.env.get("DEV");
  if (dev !== undefined) Deno.env.delete("DEV");
  try {
    return await import("../../nexus/session.ts");
  } finally {
    if (dev !== undefined) Deno.env.set("DEV", dev);
  }
}

export const nexusCommand: Command = {
  name: "nexus",
  summary: "Full-screen terminal dashboard: pylons, jobs, approvals, live logs, the daemon",
  usage: "nexus",
  description: `Keys: j/k move, l or Enter opens, h or Esc goes back, q quits. On the pylon list:
c construct, e edit, x enable/disable, D delete, d start/stop the daemon, n what needs you,
g setup, ? doctor, u upgrade (when a release is newer). On a pylon: p prompt, t job table,
y copy the webhook URL, f fire a cron pylon, a message template builder (the newest job's
payload fields: space checks, Enter saves channel.message, Esc cancels), and on its selected
job l log, x kill (never changes a finished job), r retry, A approve, i ignore. In "needs
you" (n): a approve or allow a tool call, A allow it for the rest of the job, i ignore or
deny. Works without a daemon (read-only, d starts one), in 80x24, and honours NO_COLOR; an
unexpected error restores the terminal and is printed.`,
  options: {},
  positionals: { min: 0, max: 0 },
  async run(_args, ctx) {
    if (!ctx.io.isTty) {
      throw new PylonError("pylon nexus needs an interactive terminal", {
        hint: "run it in a terminal; for scripts use `pylon list`, `pylon jobs` and `pylon logs`",
      });
    }
    const { runNexusSession } = await loadSession();
    return await runNexusSession(ctx);
  },
};
