/**
 * `pylon setup` at a real terminal (tmux): a bot token typed at its prompt never appears on the
 * screen, and the terminal echoes again for the next question. The recorded-context tests in
 * setup_test.ts cannot see the terminal's echo; this one reads the screen.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PYLON_FLAGS } from "../_helpers/process.ts";
import { openTerminal, shellQuote, TMUX_IGNORE } from "../nexus/_tmux.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** Where this Deno keeps its module cache: the temp HOME below must not hide it. */
const DENO_DIR: string = Deno.env.get("DENO_DIR") ?? JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output()).stdout,
  ),
).denoDir;

Deno.test({
  name: "setup at a terminal does not show a typed bot token and echoes the next answer",
  ignore: TMUX_IGNORE,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "pylon-setup-tty-" });
    try {
      await using term = await openTerminal({
        PYLON_HOME: home,
        HOME: home,
        DENO_DIR,
        NO_COLOR: "1",
        PATH: Deno.env.get("PATH") ?? "",
      });
      const pylon = [Deno.execPath(), "run", ...PYLON_FLAGS, MAIN].map(shellQuote).join(" ");
      await term.line(`${pylon} setup`);
      await term.waitFor(/Default channel \(stdout, webhook, telegram, slack\) \[stdout\]:$/m);
      await term.line("telegram");
      await term.waitFor(/Bot token \(not shown while you type\):/);
      const token = "123456:TOKENtypedAtThePrompt";
      await term.line(token);
      const screen = await term.waitFor(/Chat id \(empty: detect it .*\):$/m);
      assert.doesNotMatch(screen, /TOKENtypedAtThePrompt/, screen);
      // Echo is back on: the next answer shows as it is typed.
      await term.keys("chat1001234");
      await term.waitFor(/Chat id \(empty: detect it .*\): chat1001234/);
      assert.doesNotMatch(await term.screen(), /TOKENtypedAtThePrompt/);
      await term.keys("C-c");
      // setup has ended (the shell prompts again) before its home is removed.
      await term.waitFor(/^PROMPT>\s*$/m);
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});
