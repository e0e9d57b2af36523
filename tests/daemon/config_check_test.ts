/**
 * What a running daemon says about config edits at once: every problem of a failed reload, a
 * broken config.yaml, and the path of a disabled pylon.
 */

import assert from "node:assert/strict";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";

const yaml = (name: string, path: string, extra = "") =>
  `name: ${name}\ntrigger:\n  type: webhook\n  path: ${path}\n${extra}agent:\n  prompt: hi\n`;

Deno.test("the daemon checks edits at once and names every problem", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "pylon-check-" });
  await writeHome(root, {
    "config.yaml": "server:\n  port: 8080\n",
    "pylons/hook/pylon.yaml": yaml("hook", "/hook"),
    "pylons/off/pylon.yaml": yaml("off", "/off", "disabled: true\n"),
  });
  const d = await startTestDaemon(root);
  try {
    await t.step("a failed reload names all its problems", async () => {
      await writeHome(root, {
        "pylons/hook/pylon.yaml": yaml("hook", "/hook", "worksapce:\n  type: none\n") +
          "channel:\n  type: stdot\n",
      });
      const line = await d.waitForLog(/event=pylon\.reload_failed pylon=hook/, 2000);
      assert.match(line, /problems=2/);
      assert.match(line, /line 5: worksapce: unknown key .*did you mean `workspace`/);
      assert.match(line, /line 10: channel\.type: \\?"stdot\\?" is not supported; use \\?"stdout/);
    });

    await t.step("a reload applies the mount rule through symlinks", async () => {
      await Deno.symlink("/etc", `${root}/innocent`);
      await writeHome(root, {
        "pylons/linked/pylon.yaml": yaml("linked", "/linked") +
          `  volumes:\n    - "${root}/innocent:/data:ro"\n`,
      });
      const line = await d.waitForLog(/event=pylon\.reload_failed pylon=linked/, 2000);
      assert.match(line, /agent\.volumes\[0\]: .*mounting it is not allowed/);
    });

    await t.step("a broken config.yaml is reported with file and line when saved", async () => {
      await writeHome(root, { "config.yaml": "server:\n  port: 8080\n servre: x\n" });
      const line = await d.waitForLog(/event=config\.invalid/, 2000);
      assert.match(line, /file=.*config\.yaml/);
      assert.match(line, /line=3/);
      assert.match(line, /a restart fails until this is fixed/);
      assert.ok(!d.logs.some((l) => /event=config\.changed/.test(l)));
      await writeHome(root, { "config.yaml": "server:\n  port: 8081\n" });
      await d.waitForLog(/event=config\.changed .*restart the daemon to apply/, 2000);
    });

    await t.step("a disabled pylon's path answers 200 ignored, saying so", async () => {
      const res = await fetch(`${d.url}/off`, { method: "POST", body: "{}" });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: "ignored", reason: "pylon off is disabled" });
      const unknown = await fetch(`${d.url}/nobody`, { method: "POST", body: "{}" });
      assert.equal(unknown.status, 404);
      await unknown.body?.cancel();
    });
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
