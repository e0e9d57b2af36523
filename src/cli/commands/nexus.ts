/**
 * `pylon nexus`: the full-screen terminal dashboard (pylons, jobs, what waits for you, live
 * logs, and the daemon), built in `src/nexus/`. Loaded lazily so other commands never pay for
 * the UI library.
 *
 * @module
 */

import { PylonError } from "../../errors.ts";
import type { Command } from "../command.ts";

export const nexusCommand: Command = {
  name: "nexus",
  summary: "Full-screen terminal dashboard: pylons, jobs, approvals, live logs, the daemon",
  usage: "nexus",
  description: `Keys: j/k move, l or Enter opens, h or Esc goes back, q quits. On the pylon list:
c construct, e edit, x enable/disable, D delete, d start/stop the daemon, n what needs you,
g setup, ? doctor, u upgrade (when a release is newer). On a pylon: p prompt, t job table,
y copy the webhook URL, f fire a cron pylon, and on its selected job l log, x kill (never
changes a finished job), r retry, a approve, i ignore. In "needs you" (n): a approve or allow
a tool call, A allow it for the rest of the job, i ignore or deny. Works without a daemon
(read-only, d starts one), in 80x24, and honours NO_COLOR.`,
  options: {},
  positionals: { min: 0, max: 0 },
  async run(_args, ctx) {
    if (!ctx.io.isTty) {
      throw new PylonError("pylon nexus needs an interactive terminal", {
        hint: "run it in a terminal; for scripts use `pylon list`, `pylon jobs` and `pylon logs`",
      });
    }
    const { runNexusSession } = await import("../../nexus/session.ts");
    return await runNexusSession(ctx);
  },
};
