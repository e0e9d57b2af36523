/**
 * `pylon edit <name>`: opens pylon.yaml in `$EDITOR` (default `vi`), then validates the result.
 *
 * @module
 */

import { ConfigError } from "../../errors.ts";
import { loadGlobalConfig, loadPylon } from "../../config/mod.ts";
import type { Command } from "../command.ts";
import { assertPylonExists } from "../shared.ts";

export const editCommand: Command = {
  name: "edit",
  summary: "Open a pylon's config in $EDITOR and check it afterwards",
  usage: "edit <name>",
  description: "Uses $VISUAL or $EDITOR (default vi). A running daemon reloads the file on save.",
  options: {},
  positionals: { min: 1, max: 1, completion: "pylon" },
  async run(args, ctx) {
    const name = args.positionals[0]!;
    const path = await assertPylonExists(ctx, name);
    const editor = (ctx.env.VISUAL || ctx.env.EDITOR || "vi").trim().split(/\s+/);
    const code = await ctx.spawnInteractive(editor[0]!, [...editor.slice(1), path]);
    if (code !== 0) {
      ctx.io.err(`The editor exited with code ${code}; the file was not checked.\n`);
      return 1;
    }
    try {
      const global = await loadGlobalConfig(ctx.paths, ctx.env);
      await loadPylon(ctx.paths, name, global);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      ctx.io.err(`${e.message}\n  run \`pylon edit ${name}\` again to fix it\n`);
      return 1;
    }
    ctx.io.out(`Pylon "${name}" is valid.\n`);
    return 0;
  },
};
