/**
 * The built-in agents' helpers read the prompt from PROMPT_FILE (always complete) and fall back
 * to PROMPT (issue 12, item 10: a prompt over 128 KiB cannot travel in the environment).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import * as claude from "../../agents/claude/pylon-claude.mjs";
import * as opencode from "../../agents/opencode/pylon-opencode.mjs";

for (const [name, helper] of [["claude", claude], ["opencode", opencode]] as const) {
  Deno.test(`pylon-${name}.mjs readPrompt() prefers PROMPT_FILE, else PROMPT`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const file = join(dir, "prompt");
      const big = "y".repeat(300 * 1024);
      await Deno.writeTextFile(file, big);
      assert.equal(helper.readPrompt({ PROMPT_FILE: file }), big);
      assert.equal(helper.readPrompt({ PROMPT_FILE: file, PROMPT: "short" }), big);
      assert.equal(helper.readPrompt({ PROMPT: "short" }), "short");
      assert.equal(helper.readPrompt({ PROMPT_FILE: join(dir, "missing"), PROMPT: "p" }), "p");
      assert.equal(helper.readPrompt({}), "");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
