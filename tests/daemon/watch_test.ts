import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { pylonOfPath } from "../../src/daemon/watch.ts";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";

Deno.test("pylonOfPath() keeps config changes and drops job database writes", () => {
  const paths = createPylonPaths("/home/u/.pylon");
  const cases: [string, string | undefined][] = [
    ["/home/u/.pylon/pylons/gh", "gh"],
    ["/home/u/.pylon/pylons/gh/pylon.yaml", "gh"],
    ["/home/u/.pylon/pylons/gh/.env", "gh"],
    ["/home/u/.pylon/pylons/gh/pylon.yaml.swp", "gh"],
    ["/home/u/.pylon/pylons/gh/jobs.db", undefined],
    ["/home/u/.pylon/pylons/gh/jobs.db-wal", undefined],
    ["/home/u/.pylon/pylons/gh/jobs.db-shm", undefined],
    ["/home/u/.pylon/pylons/gh/notes/pylon.yaml", undefined],
    ["/home/u/.pylon/pylons", undefined],
    ["/home/u/.pylon/pylons-old/gh", undefined],
    ["/home/u/.pylon/config.yaml", undefined],
  ];
  for (const [path, name] of cases) assert.equal(pylonOfPath(paths, path), name, path);
});

Deno.test("the daemon writes nothing into the watched pylon folders (its databases live in data/)", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-watch-" });
  await writeHome(root, {
    "pylons/hook/pylon.yaml":
      "name: hook\ntrigger:\n  type: webhook\n  path: /hook\nagent:\n  prompt: hi\n",
  });
  const daemon = await startTestDaemon(root);
  try {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${daemon.url}/hook`, { method: "POST", body: "{}" });
      assert.equal(res.status, 202);
      await res.body?.cancel();
    }
    const files = [];
    for await (const e of Deno.readDir(daemon.paths.pylonDir("hook"))) files.push(e.name);
    assert.deepEqual(files, ["pylon.yaml"]);
    await Deno.stat(daemon.paths.pylonDb("hook"));
  } finally {
    await daemon.stop();
    await Deno.remove(root, { recursive: true });
  }
});
