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
 * Variables Ink reads once, when it is loaded, that must not steer an interactive dashboard.
 *
 * Design note: with `DEV=true` Ink imports its optional peer `react-devtools-core` to reach
 * React DevTools. pylon does not ship that package (a compiled binary carries only the npm
 * packages it resolves), and `DEV` is a common variable with other meanings, so a user's
 * `DEV=true` would print a warning over the terminal or, in a binary, fail the import. With
 * `CI` or `CONTINUOUS_INTEGRATION` set (as in CI runners, dev containers and some remote
 * shells), Ink draws nothing until the program exits: the dashboard would stay a blank screen.
 * `pylon nexus` runs only on an interactive terminal, so the UI is loaded with these unset,
 * and each is restored right after (child `pylon` wizards see them as they were).
 */
const INK_LOAD_TIME_VARIABLES = ["DEV", "CI", "CONTINUOUS_INTEGRATION"] as const;

async function loadSession(): Promise<typeof import("../../nexus/session.ts")> {
  const saved = INK_LOAD_TIME_VARIABLES.flatMap((name) => {
    const value = Deno.env.get(name);
    if (value === undefined) return [];
    Deno.env.delete(name);
    return [[name, value] as const];
  });
  try {
    return await import("../../nexus/session.ts");
  } finally {
    for (const [name, value] of saved) Deno.env.set(name, value);
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
