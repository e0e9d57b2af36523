// deno-lint-ignore-file no-console
/**
 * The floor of the ingest benchmark: the least work a durable webhook daemon cannot skip, with
 * nothing else. Per request: read the body, check its GitHub HMAC-SHA256 signature
 * (`node:crypto`), `JSON.parse` it, INSERT a queued job into SQLite (WAL, synchronous=NORMAL,
 * the daemon's settings) committed before the 202 (inserts that arrive in the same event-loop
 * turn share one transaction, like the daemon's group commit), and print one line per job on
 * stdout (pylon's stdout channel announces every job). pylon's throughput is judged against this.
 *
 * Run: `deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-env
 * bench/ingest/floor_server.ts --db FILE --secret S`
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      db: { type: "string" },
      secret: { type: "string" },
      path: { type: "string", default: "/gh" },
      port: { type: "string", default: "0" },
    },
  });
  if (!values.db || !values.secret) throw new Error("usage: floor_server.ts --db FILE --secret S");
  const db = new DatabaseSync(values.db);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  db.exec(
    "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, " +
      "payload TEXT NOT NULL, headers TEXT NOT NULL, created_at INTEGER NOT NULL, " +
      "queued_at INTEGER); CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, queued_at)",
  );
  const insert = db.prepare(
    "INSERT INTO jobs (id, status, payload, headers, created_at, queued_at) " +
      "VALUES (?, 'queued', ?, ?, ?, ?)",
  );
  let batch: { args: [string, string, string, number, number]; done: () => void }[] = [];
  const commit = () => {
    const now = batch;
    batch = [];
    db.exec("BEGIN IMMEDIATE");
    for (const { args } of now) insert.run(...args);
    db.exec("COMMIT");
    for (const { done } of now) done();
  };
  const persist = (args: [string, string, string, number, number]) =>
    new Promise<void>((done) => {
      batch.push({ args, done });
      if (batch.length === 1) setImmediate(commit);
    });
  // A clean exit on SIGTERM, so `--cpu-prof` writes its profile (the daemon does the same).
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  const secret = values.secret;
  const encoder = new TextEncoder();

  Deno.serve({
    hostname: "127.0.0.1",
    port: Number(values.port),
    onListen: ({ hostname, port }) => console.log(`floor listening on ${hostname}:${port}`),
  }, async function accept(req) {
    if (req.method !== "POST" || new URL(req.url).pathname !== values.path) {
      await req.body?.cancel();
      return Response.json({ error: "no pylon here" }, { status: 404 });
    }
    const body = new Uint8Array(await req.arrayBuffer());
    const expected = "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
    const given = req.headers.get("x-hub-signature-256") ?? "";
    if (
      given.length !== expected.length ||
      !timingSafeEqual(encoder.encode(given), encoder.encode(expected))
    ) {
      return Response.json({ error: "bad signature" }, { status: 401 });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(new TextDecoder().decode(body));
    } catch {
      return Response.json({ error: "body is not JSON" }, { status: 400 });
    }
    const id = crypto.randomUUID();
    const now = Date.now();
    const headers = JSON.stringify({ "x-github-event": req.headers.get("x-github-event") });
    await persist([id, JSON.stringify(payload), headers, now, now]);
    console.log(`queued ${id.slice(0, 8)} gh webhook`);
    return Response.json({ job_id: id, status: "queued" }, { status: 202 });
  });
}
