/**
 * Job store benchmark: inserting a realistic webhook job through `JobStore.insert()` (validation,
 * `RETURNING *`, row decoding; with a delivery id also the dedupe transaction), sequentially and
 * 32 at a time, against a baseline of a raw `INSERT` of the same row through `@libsql/client`
 * on an identical schema, connection settings and PRAGMAs. Deno prints each row's ratio to its
 * group's baseline in the summary.
 */

import { join } from "node:path";
import { createClient } from "@libsql/client";
import { migrate } from "../src/store/migrations.ts";
import { type NewJob, openJobStore } from "../src/store/mod.ts";

const PAYLOAD = {
  action: "opened",
  number: 4011,
  "pull_request": {
    title: "Fix the login redirect loop",
    body: "Closes #4000. ".repeat(40),
    head: { ref: "fix/login", sha: "9f3c2b1a".repeat(5) },
    base: { ref: "main" },
    user: { login: "ada" },
    labels: [{ name: "bug" }, { name: "auth" }],
  },
  repository: { "full_name": "acme/web", "clone_url": "https://github.com/acme/web.git" },
};
const HEADERS = { "x-github-event": "pull_request", "user-agent": "GitHub-Hookshot/1" };
const CONCURRENCY = 32;

const dir = Deno.makeTempDirSync({ prefix: "pylon-store-bench-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const store = await openJobStore(join(dir, "store.db"), { pylon: "bench" });
const raw = createClient({ url: "file:" + join(dir, "raw.db"), concurrency: 1, timeout: 5000 });
for (const pragma of ["journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"]) {
  await raw.execute(`PRAGMA ${pragma}`);
}
await migrate(raw, join(dir, "raw.db"));

let seq = 0;
function job(withDelivery: boolean): NewJob {
  const id = crypto.randomUUID();
  return {
    id,
    pylon: "bench",
    status: "queued",
    trigger: "webhook",
    payload: PAYLOAD,
    headers: HEADERS,
    ...(withDelivery ? { deliveryId: `delivery-${seq++}` } : {}),
  };
}

function rawInsert(withDelivery: boolean): Promise<unknown> {
  const now = Date.now();
  return raw.execute({
    sql: `INSERT INTO jobs (id, pylon, status, trigger_kind, delivery_id, payload, headers,
      created_at, queued_at, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    args: [
      crypto.randomUUID(),
      "bench",
      "queued",
      "webhook",
      withDelivery ? `raw-delivery-${seq++}` : null,
      JSON.stringify(PAYLOAD),
      JSON.stringify(HEADERS),
      now,
      now,
      1,
    ],
  });
}

Deno.bench("raw libsql INSERT", { group: "sequential", baseline: true }, async () => {
  await rawInsert(false);
});
Deno.bench("JobStore.insert()", { group: "sequential" }, async () => {
  await store.insert(job(false));
});
Deno.bench("raw libsql INSERT + delivery id", { group: "delivery", baseline: true }, async () => {
  await rawInsert(true);
});
Deno.bench("JobStore.insert() + delivery id (dedupe)", { group: "delivery" }, async () => {
  await store.insert(job(true));
});
Deno.bench(`raw libsql INSERT x${CONCURRENCY} concurrent`, {
  group: "concurrent",
  baseline: true,
}, async () => {
  await Promise.all(Array.from({ length: CONCURRENCY }, () => rawInsert(false)));
});
Deno.bench(`JobStore.insert() x${CONCURRENCY} concurrent`, { group: "concurrent" }, async () => {
  await Promise.all(Array.from({ length: CONCURRENCY }, () => store.insert(job(false))));
});
