/**
 * Job store benchmark: inserting a realistic webhook job through `JobStore.insert()` (validation,
 * JSON round trip of the payload, group commit; with a delivery id also the conflict check),
 * sequentially and 32 at a time, against a baseline of a raw, prepared, autocommitted `INSERT`
 * of the same row through `node:sqlite` on an identical schema, connection settings and PRAGMAs.
 * Deno prints each row's ratio to its group's baseline in the summary.
 */

import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
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
const raw = new DatabaseSync(join(dir, "raw.db"), { timeout: 5000 });
for (const pragma of ["journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"]) {
  raw.exec(`PRAGMA ${pragma}`);
}
migrate(raw, join(dir, "raw.db"));
const rawStatement = raw.prepare(
  `INSERT INTO jobs (id, pylon, status, trigger_kind, delivery_id, payload, headers,
    created_at, queued_at, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
);

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
  return Promise.resolve(rawStatement.run(
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
  ));
}

Deno.bench("raw node:sqlite INSERT", { group: "sequential", baseline: true }, async () => {
  await rawInsert(false);
});
Deno.bench("JobStore.insert()", { group: "sequential" }, async () => {
  await store.insert(job(false));
});
Deno.bench(
  "raw node:sqlite INSERT + delivery id",
  { group: "delivery", baseline: true },
  async () => {
    await rawInsert(true);
  },
);
Deno.bench("JobStore.insert() + delivery id (dedupe)", { group: "delivery" }, async () => {
  await store.insert(job(true));
});
Deno.bench(`raw node:sqlite INSERT x${CONCURRENCY} concurrent`, {
  group: "concurrent",
  baseline: true,
}, async () => {
  await Promise.all(Array.from({ length: CONCURRENCY }, () => rawInsert(false)));
});
Deno.bench(`JobStore.insert() x${CONCURRENCY} concurrent`, { group: "concurrent" }, async () => {
  await Promise.all(Array.from({ length: CONCURRENCY }, () => store.insert(job(false))));
});
