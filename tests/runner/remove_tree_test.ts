/**
 * `removeTree`: a job folder holding a folder its agent left without write permission (a killed
 * OpenCode run's config folder, 0555) is removed by a daemon that is not root. Run here as
 * uid 1000 through `setpriv`, since root ignores the modes; skipped with the reason where this
 * process is not root (it cannot switch users).
 */

import assert from "node:assert/strict";
import { join } from "node:path";

const MODULE = new URL("../../src/runner/remove_tree.ts", import.meta.url).pathname;
const IS_ROOT = Deno.uid() === 0;
if (!IS_ROOT) {
  // deno-lint-ignore no-console
  console.warn("remove_tree test skipped: it runs the removal as uid 1000, which needs root");
}

/** A job folder owned by uid 1000 whose agent left `state/home/.config/opencode` at 0555. */
async function lockedJobFolder(): Promise<{ base: string; job: string }> {
  const base = await Deno.makeTempDir({ prefix: "pylon-remove-tree-" });
  // The daemon's jobs folder: its own.
  await Deno.chown(base, 1000, 1000);
  const job = join(base, "job");
  const locked = join(job, "state", "home", ".config", "opencode");
  await Deno.mkdir(locked, { recursive: true });
  await Deno.writeTextFile(join(locked, "opencode.json"), "{}");
  await Deno.symlink("/etc", join(job, "state", "home", "etc-link"));
  for (const dir of [job, join(job, "state"), join(job, "state", "home")]) {
    await Deno.chown(dir, 1000, 1000);
  }
  for (const path of [join(job, "state", "home", ".config"), locked]) {
    await Deno.chown(path, 1000, 1000);
  }
  await Deno.chown(join(locked, "opencode.json"), 1000, 1000);
  await Deno.chmod(locked, 0o555);
  return { base, job };
}

/** Runs `code` (a module body with `removeTree` and `path` in scope) as uid 1000. */
async function asUser1000(code: string, path: string): Promise<{ ok: boolean; err: string }> {
  const script = `import { removeTree } from ${JSON.stringify(MODULE)};\n` +
    `const path = ${JSON.stringify(path)};\n${code}\n`;
  const denoDir = await Deno.makeTempDir({ prefix: "pylon-remove-tree-deno-" });
  await Deno.chmod(denoDir, 0o777);
  try {
    const out = await new Deno.Command("setpriv", {
      args: [
        "--reuid=1000",
        "--regid=1000",
        "--clear-groups",
        Deno.execPath(),
        "eval",
        "--no-check",
        script,
      ],
      env: { DENO_DIR: denoDir, HOME: "/tmp", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { ok: out.success, err: new TextDecoder().decode(out.stderr) };
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
}

Deno.test({
  name: "a job folder with a folder its agent left read-only is removed by a non-root daemon",
  ignore: !IS_ROOT,
  async fn() {
    const { base, job } = await lockedJobFolder();
    try {
      // What the daemon did before: a plain recursive removal is refused.
      const plain = await asUser1000("await Deno.remove(path, { recursive: true });", job);
      assert.equal(plain.ok, false, "the premise: a 0555 folder cannot be emptied by its owner");
      assert.match(plain.err, /Permission denied/);
      const kept = join(job, "state", "home", ".config", "opencode", "opencode.json");
      assert.ok(await Deno.lstat(kept).then(() => true, () => false), "the locked folder kept it");

      const removed = await asUser1000("await removeTree(path);", job);
      assert.ok(removed.ok, removed.err);
      assert.equal(await Deno.lstat(job).then(() => true, () => false), false);
      // The link inside was removed, not followed.
      assert.ok((await Deno.stat("/etc")).isDirectory);
      assert.equal(((await Deno.stat("/etc")).mode! & 0o777).toString(8), "755");
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});

Deno.test("removeTree of a path that does not exist does nothing", async () => {
  const { removeTree } = await import("../../src/runner/remove_tree.ts");
  await removeTree(join(await Deno.makeTempDir(), "gone"));
});
