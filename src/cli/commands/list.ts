/**
 * `pylon list [--json]`: every constructed pylon; a broken one (a bad folder name included)
 * shows its error and fix instead of vanishing. Of two pylons on one webhook path, both are
 * marked: the one refused with its error, the one serving it with a `warning` naming the other.
 *
 * @module
 */

import { loadAllPylons, loadGlobalConfig } from "../../config/mod.ts";
import { describeCron } from "../../cron/mod.ts";
import type { Command } from "../command.ts";
import { table } from "../shared.ts";

export const listCommand: Command = {
  name: "list",
  summary: "List pylons with their trigger, path or schedule, and description",
  usage: "list [--json]",
  description: "Pylons whose pylon.yaml cannot be loaded are listed with the reason.",
  options: { json: { type: "boolean", description: "Print a JSON array" } },
  positionals: { min: 0, max: 0 },
  async run(args, ctx) {
    const global = await loadGlobalConfig(ctx.paths, ctx.env);
    const results = await loadAllPylons(ctx.paths, global);
    const entries = results.map((r) => {
      if (!r.ok) {
        const hint = r.error.hint ?? `edit it with \`pylon edit ${r.name}\``;
        return { name: r.name, ok: false as const, error: r.error.message, hint };
      }
      const c = r.pylon.config;
      return {
        name: r.name,
        ok: true as const,
        disabled: c.disabled,
        trigger: c.trigger.type,
        path: c.trigger.path ?? null,
        cron: c.trigger.cron ?? null,
        schedule: c.trigger.cron ? describeCron(c.trigger.cron) : null,
        timezone: c.trigger.type === "cron"
          ? c.trigger.timezone ?? global.config.defaults.timezone ?? null
          : null,
        description: c.description ?? "",
        ...(r.pathShared ? { warning: r.pathShared } : {}),
      };
    });
    if (args.values.json) {
      ctx.io.out(JSON.stringify(entries, null, 2) + "\n");
      return 0;
    }
    if (entries.length === 0) {
      ctx.io.out("No pylons yet. Create one with `pylon construct <name> --from sentry`.\n");
      return 0;
    }
    const rows = entries.map((e) => {
      if (!e.ok) return [e.name, "?", "", "error: cannot load (see below)"];
      const where = e.trigger === "cron" ? `${e.cron} (${e.schedule})` : e.path ?? "";
      const desc = e.disabled ? `[disabled] ${e.description}`.trim() : e.description;
      return [
        e.name,
        e.trigger,
        where,
        e.warning ? `${desc} (path shared, see below)`.trim() : desc,
      ];
    });
    ctx.io.out(table(["NAME", "TRIGGER", "PATH", "DESCRIPTION"], rows));
    for (const e of entries) {
      if (!e.ok) ctx.io.out(`\n${e.name}: ${e.error}\n  fix: ${e.hint}\n`);
      else if (e.warning) {
        ctx.io.out(`\n${e.name}: serves its path, shared with another pylon\n  ${e.warning}\n`);
      }
    }
    return 0;
  },
};
