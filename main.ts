/**
 * Entry point of the `pylon` program: hands the arguments to the CLI and exits with its code.
 *
 * @module
 */

import { runCli } from "./src/cli/main.ts";
import { createProcessContext } from "./src/cli/process.ts";

if (import.meta.main) {
  const code = await runCli(Deno.args, createProcessContext());
  Deno.exit(code);
}
