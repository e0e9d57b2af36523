/**
 * An exception inside `pylon nexus`'s UI (here: a data source whose answer breaks the
 * renderer) ends the session with the terminal in its normal mode (main screen, cooked input,
 * cursor shown), the error printed, and exit code 1, instead of a frozen full-screen UI.
 */

import assert from "node:assert/strict";
import { PYLON_FLAGS } from "../_helpers/process.ts";
import { nexusHome } from "./_home.ts";
import { nexusEnv, openTerminal, shellQuote, type Terminal, TMUX_IGNORE } from "./_tmux.ts";

const CRASHING = new URL("./_crash_main.ts", import.meta.url).pathname;

Deno.test({
  name: "an exception inside pylon nexus restores the terminal and prints the error",
  ignore: TMUX_IGNORE,
  async fn() {
    const root = await nexusHome();
    await Deno.writeTextFile(`${root}/config.yaml`, "server:\n  port: 9\n");
    const env = nexusEnv(root);
    await using term: Terminal = await openTerminal(env);
    try {
      await term.waitFor(/^PROMPT>\s*$/m);
      const cmd = [Deno.execPath(), "run", ...PYLON_FLAGS, CRASHING].map(shellQuote).join(" ");
      await term.line(`${cmd}; echo "exit=$?"`);
      const screen = await term.waitFor(/exit=\d+/, 60_000);
      assert.match(screen, /pylon nexus stopped on an unexpected error/);
      assert.match(screen, /CRASH-MARKER/);
      assert.match(screen, /exit=1/);
      assert.equal(await term.display("#{alternate_on}"), "0");
      assert.equal(await term.display("#{cursor_flag}"), "1");
      // Cooked mode: the shell reads and echoes a line as usual.
      await term.line(
        "if stty -a | grep -qE '(^| )-(icanon|echo)( |$)'; then echo mode-raw; else echo mode-cooked; fi",
      );
      await term.waitFor(/^mode-(raw|cooked)\s*$/m);
      assert.match(await term.screen(), /^mode-cooked\s*$/m);
      await term.line("echo after-crash-$((6*7))");
      await term.waitFor(/^after-crash-42/m);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
