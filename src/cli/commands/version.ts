/**
 * `pylon version`.
 *
 * @module
 */

import { VERSION } from "../../version.ts";
import type { Command } from "../command.ts";

export const versionCommand: Command = {
  name: "version",
  summary: "Print the version",
  usage: "version",
  description: "",
  options: {},
  positionals: { min: 0, max: 0 },
  run(_args, ctx) {
    ctx.io.out(`pylon ${VERSION}\n`);
    return Promise.resolve(0);
  },
};
