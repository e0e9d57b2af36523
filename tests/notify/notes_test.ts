/** Jobs announced by an earlier version (one channel per job) keep their threads after an upgrade. */

import assert from "node:assert/strict";
import { readNotes } from "../../src/notify/notifier.ts";

Deno.test("readNotes() reads the single-channel shape of earlier versions as one note", () => {
  const thread = JSON.stringify({
    channel: "telegram:1:-100",
    thread: { chat: -100, topic: 7 },
    head: { message: 11 },
    status: { message: 12 },
  });
  assert.deepEqual(readNotes({ thread, notified: "running" }), {
    "telegram:1:-100": {
      thread: { chat: -100, topic: 7 },
      head: { message: 11 },
      status: { message: 12 },
      notified: "running",
    },
  });
  assert.deepEqual(readNotes({ thread: null, notified: null }), {});
  const current = JSON.stringify({ channels: { "github:x": { state: { sha: "a" } } } });
  assert.deepEqual(readNotes({ thread: current, notified: "queued" }), {
    "github:x": { state: { sha: "a" } },
  });
});
