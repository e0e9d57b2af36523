/**
 * A separate process for the store tests: `durability <db>` inserts jobs forever, printing each
 * id once its insert has resolved; `dedupe <db> <delivery-id> <start-ms>` waits until the given
 * time, inserts one job for that delivery and prints `{ id, created }`.
 */

import { openJobStore } from "../../src/store/mod.ts";

const [mode, path, deliveryId, startAt] = Deno.args;
if (!path) throw new Error("Missing the database path: usage _child.ts <mode> <db> ...");
const encoder = new TextEncoder();
await using store = await openJobStore(path, { pylon: "child" });

function newJob(delivery?: string) {
  return {
    id: crypto.randomUUID(),
    pylon: "child",
    status: "queued" as const,
    trigger: "webhook" as const,
    payload: { n: Math.random() },
    headers: {},
    ...(delivery === undefined ? {} : { deliveryId: delivery }),
  };
}

async function print(line: string): Promise<void> {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
}

if (mode === "durability") {
  for (;;) {
    const { job } = await store.insert(newJob());
    await print(job.id);
  }
} else if (mode === "dedupe") {
  const wait = Number(startAt) - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const { job, created } = await store.insert(newJob(deliveryId));
  await print(JSON.stringify({ id: job.id, created }));
} else {
  throw new Error(`Unknown mode "${mode}": use durability or dedupe`);
}
