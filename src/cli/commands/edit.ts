/**
 * `pylon edit <name>`: opens pylon.yaml in `$EDITOR` (default `vi`), then validates the result.
 * A folder the daemon skips for its name (`My Pylon`) can be opened too; the check afterwards
 * then says what to rename it to.
 *
 * @module
 */

import { ConfigError } from "../../errors.ts";
import {
  loadGlobalConfig,
  loadPylon,
  onlyUnsetVariables,
  pathClashOf,
  pylonNameProblem,
} from "../../config/mod.ts";
import type { Command, CommandContext } from "../command.ts";
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
    const path = await editablePath(ctx, name);
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
      // Only unset ${VARS}: the file is fine, the values belong in a .env, not in another edit.
      const next = pylonNameProblem(name) !== undefined || onlyUnsetVariables(e.issues)
        ? `fix: ${e.hint}`
        : `run \`pylon edit ${name}\` again to fix it`;
      ctx.io.err(`${e.message}\n  ${next}\n`);
      return 1;
    }
    const clash = await pathClashOf(ctx.paths, name, ctx.env.HOME);
    if (clash) {
      ctx.io.err(`${clash}\n  run \`pylon edit ${name}\` again to fix it\n`);
      return 1;
    }
    ctx.io.out(`Pylon "${name}" is valid.\n`);
    return 0;
  },
};

/** `pylon.yaml` of `name`: a pylon, or an existing folder whose name is not a valid one. */
async function editablePath(ctx: CommandContext, name: string): Promise<string> {
  const folderLike = name.trim() !== "" && name !== "." && name !== ".." &&
    !/[/\\\0]/.test(name);
  if (pylonNameProblem(name) !== undefined && folderLike) {
    const path = ctx.paths.pylonConfig(name);
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return await assertPylonExists(ctx, name); // the usual "invalid name" or "does not exist"
}
