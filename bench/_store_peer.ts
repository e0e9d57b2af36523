/**
 * Another process on a job database, for `cli_stall.ts`:
 *
 *   _store_peer.ts read-only <db>    what `pylon jobs` does beside a daemon since 0.2
 *   _store_peer.ts read-write <db>   what it did before: open read-write (the schema check took
 *                                    the write lock with BEGIN IMMEDIATE), list, close
 *   _store_peer.ts hold <db> <ms>    an outside writer (a `sqlite3` shell, a backup tool) that
 *                                    keeps the write lock for <ms>
 */

import { DatabaseSync } from "node:sqlite";
import { openJobStore } from "../src/store/mod.ts";

const [mode, path, ms] = Deno.args;
if (mode === "hold") {
  const db = new DatabaseSync(path!, { timeout: 5000 });
  db.exec("BEGIN IMMEDIATE");
  await new Promise((r) => setTimeout(r, Number(ms)));
  db.exec("COMMIT");
  db.close();
} else {
  const store = await openJobStore(path!, {
    pylon: "gate",
    readOnly: mode === "read-only",
    busyTimeoutMs: 5000,
  });
  await store.list({ limit: 50 });
  await store.close();
}
