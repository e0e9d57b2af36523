import assert from "node:assert/strict";
import { join } from "node:path";
import { chownNewTree, ensureAgentDir } from "../../src/runner/agent_dirs.ts";

const ROOT = Deno.uid() === 0;

Deno.test("ensureAgentDir() replaces a link with a folder and leaves its target alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const target = join(dir, "host");
    await Deno.mkdir(target);
    await Deno.writeTextFile(join(target, "keep"), "x");
    const home = join(dir, "home");
    await Deno.symlink(target, home);
    assert.equal(await ensureAgentDir(home, ROOT ? { uid: 1000 } : {}), "replaced");
    const info = await Deno.lstat(home);
    assert.ok(info.isDirectory && !info.isSymlink);
    assert.equal(await Deno.readTextFile(join(target, "keep")), "x");
    if (ROOT) {
      assert.equal(info.uid, 1000);
      assert.equal((await Deno.stat(target)).uid, 0, "the link's target keeps its owner");
    }
    // A dangling link is replaced too: nothing is created where it pointed.
    const dangling = join(dir, "dangling");
    await Deno.symlink(join(dir, "nowhere"), dangling);
    assert.equal(await ensureAgentDir(dangling), "replaced");
    await assert.rejects(Deno.lstat(join(dir, "nowhere")), Deno.errors.NotFound);
    assert.equal(await ensureAgentDir(join(dir, "fresh")), "missing");
    assert.equal(await ensureAgentDir(join(dir, "fresh")), "folder");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "chownNewTree() chowns links themselves and never what they point to",
  ignore: !ROOT,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const outside = join(dir, "outside");
      await Deno.mkdir(outside);
      const tree = join(dir, "tree");
      await Deno.mkdir(join(tree, "sub"), { recursive: true });
      await Deno.writeTextFile(join(tree, "sub", "file"), "x");
      await Deno.symlink(outside, join(tree, "link"));
      await chownNewTree(tree, 1000);
      for (const p of [tree, join(tree, "sub"), join(tree, "sub", "file"), join(tree, "link")]) {
        assert.equal((await Deno.lstat(p)).uid, 1000, p);
      }
      assert.equal((await Deno.stat(outside)).uid, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
