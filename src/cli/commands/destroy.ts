/**
 * `pylon destroy <name> [--yes]`: removes a pylon's folder (config, `.env`, job history).
 *
 * @module
 */

import { displayPath } from "../../config/mod.ts";
import type { Command } from "../command.ts";
import { assertPylonExists } from "../shared.ts";

export const destroyCommand: Command = {
  name: "destroy",
  summary: "Delete a pylon and its job history",
  usage: "destroy <name> [--yes]",
  description: "Removes $PYLON_HOME/pylons/<name>/ (pylon.yaml, .env and jobs.db). Irreversible.",
  options: { yes: { type: "boolean", short: "y", description: "Do not ask for confirmation" } },
  positionals: { min: 1, max: 1, completion: "pylon" },
  async run(args, ctx) {
    const name = args.positionals[0]!;
    await assertPylonExists(ctx, name);
    const dir = ctx.paths.pylonDir(name);
    if (!args.values.yes) {
      ctx.io.out(
        `This deletes pylon "${name}" and all its job history (${
          displayPath(dir, ctx.env.HOME)
        }).\n` +
          "Are you sure? [y/N] ",
      );
      const answer = (await ctx.io.readLine())?.trim().toLowerCase();
      if (answer === undefined) {
        ctx.io.out("\nCancelled: no answer (use --yes in scripts).\n");
        return 1;
      }
      if (answer !== "y" && answer !== "yes") {
        ctx.io.out("Cancelled.\n");
        return 0;
      }
    }
    await Deno.remove(dir, { recursive: true });
    ctx.io.out(`Pylon "${name}" destroyed.\n`);
    return 0;
  },
};
