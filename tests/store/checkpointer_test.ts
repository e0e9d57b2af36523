/**
 * WAL checkpoints on a worker: a store handed a `WalCheckpointer` leaves its COMMITs alone and
 * the worker copies the log into the database file; closing the store still leaves a clean file.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openJobStore, WalCheckpointer } from "../../src/store/mod.ts";
import { eventually } from "../_helpers/daemon.ts";
import { newJob } from "./_helpers.ts";

async function sizeOf(path: string): Promise<number> {
  return await Deno.stat(path).then((s) => s.size, () => 0);
}

Deno.test("the checkpointer's worker copies the WAL into the database file, not the COMMITs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pylon-checkpoint-" });
  const path = `${dir}/jobs.db`;
  const checkpoints = new WalCheckpointer();
  try {
    const store = await openJobStore(path, { pylon: "alpha", checkpoints });
    const before = await sizeOf(path);
    // ~3,000 pages of log: far below the store's fallback of 10,000, so SQLite's own
    // autocheckpoint never runs; only the worker can grow the database file.
    const payload = { text: "x".repeat(4000) };
    for (let i = 0; i < 3000; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, () => store.insert(newJob("alpha", { payload }))),
      );
    }
    await eventually(async () => (await sizeOf(path)) > before + 10_000_000, 5000);
    await store.close();
    // The store closed last: its connection checkpointed what was left and removed the log.
    assert.equal(await sizeOf(`${path}-wal`), 0);
    const check = new DatabaseSync(path, { readOnly: true });
    try {
      assert.equal(check.prepare("SELECT count(*) AS n FROM jobs").get()?.n, 3000);
    } finally {
      check.close();
    }
  } finally {
    await checkpoints.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without a checkpointer (or with one that cannot start) a store keeps SQLite's own", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pylon-checkpoint-" });
  try {
    const store = await openJobStore(`${dir}/jobs.db`, {
      pylon: "alpha",
      checkpoints: { watch: () => false, unwatch: () => Promise.resolve() },
    });
    await store.insert(newJob("alpha"));
    await store.close();
    assert.equal(await sizeOf(`${dir}/jobs.db-wal`), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
