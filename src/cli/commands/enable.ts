/**
 * `pylon enable <name>` / `pylon disable <name>`: writes `disabled: true` into the pylon's
 * `pylon.yaml` (or removes it), keeping its comments. Through the running daemon when there is
 * one, which applies it at once; otherwise the file is edited here and the daemon reads it when
 * it starts.
 *
 * @module
 */

import { writeDisabledFlag } from "../../config/mod.ts";
import type { Command } from "../command.ts";
import { connectDaemon } from "../daemon_client.ts";
import { assertPylonExists } from "../shared.ts";

function toggleCommand(enable: boolean): Command {
  const verb = enable ? "enable" : "disable";
  const done = enable ? "enabled" : "disabled";
  return {
    name: verb,
    summary: enable
      ? "Turn a disabled pylon back on (removes `disabled: true` from pylon.yaml)"
      : "Turn a pylon off: its webhook answers 200 ignored, its cron does not fire",
    usage: `${verb} <name>`,
    description: "Edits pylon.yaml, keeping its comments; a running daemon applies it at once.",
    options: {},
    positionals: { min: 1, max: 1, completion: "pylon" },
    async run(args, ctx) {
      const name = args.positionals[0]!;
      const path = await assertPylonExists(ctx, name);
      const daemon = await connectDaemon(ctx);
      if (daemon) {
        const answer = await daemon.call("POST", `/api/pylons/${encodeURIComponent(name)}/${verb}`);
        if (!answer.changed) {
          ctx.io.out(`Pylon "${name}" is already ${done}.\n`);
        } else if (enable && answer.state === "not_loaded") {
          ctx.io.out(`Pylon "${name}" enabled, but it does not load.\n`);
          ctx.io.err(`  run \`pylon doctor\` or see the daemon log for why\n`);
          return 1;
        } else {
          ctx.io.out(`Pylon "${name}" ${done}.\n`);
        }
        return 0;
      }
      const changed = await writeDisabledFlag(path, !enable);
      ctx.io.out(
        changed
          ? `Pylon "${name}" ${done} (the daemon is not running; this applies when it starts).\n`
          : `Pylon "${name}" is already ${done}.\n`,
      );
      return 0;
    },
  };
}

/** `pylon enable <name>`. */
export const enableCommand: Command = toggleCommand(true);
/** `pylon disable <name>`. */
export const disableCommand: Command = toggleCommand(false);
