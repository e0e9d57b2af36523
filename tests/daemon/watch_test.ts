import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { pylonOfPath } from "../../src/daemon/watch.ts";

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
