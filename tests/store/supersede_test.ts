/** `trigger.supersede` in the store: a newer job replaces the waiting jobs of its key, only those. */

import assert from "node:assert/strict";
import { openJobStore } from "../../src/store/mod.ts";

Deno.test("supersede() dismisses the waiting jobs of a key, never running, finished or other keys", async () => {
  await using store = await openJobStore(":memory:", { pylon: "review" });
  const add = async (status: "queued" | "awaiting_approval", supersedeKey: string | null) => {
    const id = crypto.randomUUID();
    await store.insert({
      id,
      pylon: "review",
      status,
      trigger: "webhook",
      payload: {},
      headers: {},
      supersedeKey,
      dedupeKey: "k",
    });
    return id;
  };
  const queued = await add("queued", "pr#7");
  const waiting = await add("awaiting_approval", "pr#7");
  const running = await add("queued", "pr#7");
  await store.transition(running, "queued", "running");
  const done = await add("queued", "pr#7");
  await store.transition(done, "queued", "running");
  await store.transition(done, "running", "completed");
  const other = await add("queued", "pr#8");
  const plain = await add("queued", null);
  const newest = await add("queued", "pr#7");

  const dismissed = await store.supersede("pr#7", newest, `superseded by ${newest.slice(0, 8)}`);
  assert.deepEqual(dismissed.map((j) => j.id).sort(), [queued, waiting].sort());
  for (const j of dismissed) {
    assert.equal(j.status, "dismissed");
    assert.equal(j.error, `superseded by ${newest.slice(0, 8)}`);
    assert.ok(j.finishedAt);
  }
  const status = async (id: string) => (await store.get(id))!.status;
  assert.equal(await status(running), "running");
  assert.equal(await status(done), "completed");
  assert.equal(await status(other), "queued");
  assert.equal(await status(plain), "queued");
  assert.equal(await status(newest), "queued");
  const kept = (await store.get(newest))!;
  assert.deepEqual([kept.supersedeKey, kept.dedupeKey], ["pr#7", "k"], "keys are stored at insert");
  assert.deepEqual(await store.supersede("pr#7", newest, "again"), [], "nothing left to dismiss");
});
