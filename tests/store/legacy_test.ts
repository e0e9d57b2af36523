/**
 * Homes made before 0.2 kept `jobs.db` in the watched pylon folder; the daemon moves it (with
 * the WAL a `kill -9` left behind) to `data/<pylon>/` and loses no job.
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { moveLegacyDatabases, openJobStore } from "../../src/store/mod.ts";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { newJob } from "./_helpers.ts";

const PYLON = "name: gate\ntrigger:\n  type: webhook\n  path: /gate\nagent:\n  prompt: hi\n" +
  "channel:\n  type: stdout\n  approval: true\n";

Deno.test("the daemon moves a pre-0.2 jobs.db and its WAL to data/ and recovers every job", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-legacy-" });
  const paths = createPylonPaths(root);
  await writeHome(root, { "pylons/gate/pylon.yaml": PYLON });
  // A daemon of the old layout, killed with its last writes still in the WAL: copy the files
  // while the connection is open, so the WAL is not checkpointed into the main file.
  const old = await openJobStore(paths.legacyPylonDb("gate") + ".src", { pylon: "gate" });
  const jobs = Array.from({ length: 5 }, () => newJob("gate", { status: "awaiting_approval" }));
  for (const job of jobs) await old.insert(job);
  for (const suffix of ["", "-wal", "-shm"]) {
    await Deno.copyFile(
      paths.legacyPylonDb("gate") + ".src" + suffix,
      paths.legacyPylonDb("gate") + suffix,
    );
  }
  await old.close();
  for (const suffix of ["", "-wal", "-shm"]) {
    await Deno.remove(paths.legacyPylonDb("gate") + ".src" + suffix).catch(() => {});
  }
  assert.ok((await Deno.stat(paths.legacyPylonDb("gate") + "-wal")).size > 0, "no WAL to move");

  const daemon = await startTestDaemon(root);
  try {
    await daemon.waitForLog(/event=stores\.moved pylons=gate/);
    await daemon.waitForLog(/event=jobs\.recovered queued=0 awaiting_approval=5/);
    await assert.rejects(Deno.stat(paths.legacyPylonDb("gate")), Deno.errors.NotFound);
    const res = await daemon.api("/api/jobs?pylon=gate&status=awaiting_approval");
    const listed = await res.json() as { id: string }[];
    assert.deepEqual(listed.map((j) => j.id).sort(), jobs.map((j) => j.id).sort());
  } finally {
    await daemon.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("moveLegacyDatabases() leaves both files alone when data/ already has one", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-legacy-" });
  const paths = createPylonPaths(root);
  try {
    for (const path of [paths.legacyPylonDb("gate"), paths.pylonDb("gate")]) {
      const store = await openJobStore(path, { pylon: "gate" });
      await store.close();
    }
    assert.deepEqual(await moveLegacyDatabases(paths), { moved: [], conflicts: ["gate"] });
    await Deno.stat(paths.legacyPylonDb("gate"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
