/**
 * The WAL checkpointer's worker (see `checkpointer.ts`): its own SQLite connection to each job
 * database it is told about, and a `PRAGMA wal_checkpoint(PASSIVE)` on each every
 * {@linkcode INTERVAL_MS}. PASSIVE never waits for the daemon's connection: it copies what it can
 * and leaves the rest for the next round. Messages: `{type: "watch"|"unwatch", path, id?}` and
 * `{type: "stop", id}`; `unwatch` and `stop` answer `{id}` once the connections are closed.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

/** How often each database is checkpointed (ms). */
const INTERVAL_MS = 200;

/** Messages the checkpointer sends. */
export type CheckpointMessage =
  | { type: "watch"; path: string }
  | { type: "unwatch"; path: string; id: number }
  | { type: "stop"; id: number };

// The worker's global scope, typed here so the rest of the program keeps the window's types.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<CheckpointMessage>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

const connections = new Map<string, DatabaseSync>();

function closeConnection(path: string): void {
  try {
    connections.get(path)?.close();
  } catch {
    // already closed
  }
  connections.delete(path);
}

const timer = setInterval(function checkpointAll() {
  for (const [path, db] of connections) {
    try {
      db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch {
      // A file removed or unreadable: the daemon's own connection reports its errors.
      closeConnection(path);
    }
  }
}, INTERVAL_MS);

scope.onmessage = function onMessage({ data }) {
  switch (data.type) {
    case "watch":
      if (connections.has(data.path)) return;
      try {
        connections.set(data.path, new DatabaseSync(data.path, { timeout: 0 }));
      } catch {
        // Not there (any more): nothing to checkpoint.
      }
      return;
    case "unwatch":
      closeConnection(data.path);
      scope.postMessage({ id: data.id });
      return;
    case "stop":
      clearInterval(timer);
      for (const path of [...connections.keys()]) closeConnection(path);
      scope.postMessage({ id: data.id });
      scope.close();
  }
};
