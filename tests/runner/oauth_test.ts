import assert from "node:assert/strict";
import { join } from "node:path";
import { oauthFiles } from "../../src/runner/oauth.ts";
import { formatMemory } from "../../src/runner/oom.ts";

Deno.test("oauthFiles() picks only the credential files, never the ~/.claude folder", async () => {
  const home = await Deno.makeTempDir();
  try {
    assert.deepEqual(await oauthFiles("~/.claude", home), {});
    await Deno.mkdir(join(home, ".claude/projects"), { recursive: true });
    await Deno.writeTextFile(join(home, ".claude/projects/x.jsonl"), "{}");
    assert.deepEqual(await oauthFiles("~/.claude", home), {});
    await Deno.writeTextFile(join(home, ".claude/.credentials.json"), "{}");
    await Deno.writeTextFile(join(home, ".claude/.claude.json"), "{}");
    assert.deepEqual(await oauthFiles("~/.claude", home), {
      oauthCredentials: join(home, ".claude/.credentials.json"),
      oauthJson: join(home, ".claude/.claude.json"),
    });
    // ~/.claude.json, beside the folder, is the one Claude Code uses by default.
    await Deno.writeTextFile(join(home, ".claude.json"), "{}");
    assert.equal(
      (await oauthFiles(join(home, ".claude"), home)).oauthJson,
      join(home, ".claude.json"),
    );
    assert.deepEqual(await oauthFiles(undefined, home), {});
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("formatMemory() writes sizes as docker.memory does", () => {
  assert.equal(formatMemory(2 * 1024 ** 3), "2g");
  assert.equal(formatMemory(1536 * 1024 ** 2), "1536m");
  assert.equal(formatMemory(32 * 1024 ** 2), "32m");
  assert.equal(formatMemory(1000), "1000b");
});
