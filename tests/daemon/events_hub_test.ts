/** The event hub, its ids, line splitting, and the stream's slow-client and heartbeat rules. */

import assert from "node:assert/strict";
import { EventHub, type HubEvent, parseEventId } from "../../src/daemon/events.ts";
import {
  jobEvent,
  jobJsonBytes,
  MAX_LINE_BYTES,
  splitLines,
} from "../../src/daemon/event_files.ts";
import { createEventsRoutes } from "../../src/daemon/routes/events.ts";
import { createLogger, NO_REDACTION } from "../../src/log/mod.ts";
import { jobToJson, type StoreRegistry } from "../../src/store/mod.ts";
import { fakeJob } from "../fakes/job.ts";

const JOB = "1a2b3c4d-0000-4000-8000-000000000000";

function logLine(n: number, text = `line ${n}`): HubEvent {
  return {
    id: `log:${JOB}:${n}`,
    kind: "log",
    job: JOB,
    pylon: "p",
    data: { job: JOB, pylon: "p", offset: n, line: text },
  };
}

Deno.test("parseEventId() reads job, log and tool ids and refuses anything else", () => {
  assert.deepEqual(parseEventId(`job:${JOB}:running:1700000000000`), {
    kind: "job",
    job: JOB,
    status: "running",
    at: 1700000000000,
  });
  assert.deepEqual(parseEventId(`log:${JOB}:42`), { kind: "log", job: JOB, offset: 42 });
  assert.deepEqual(parseEventId(`tool:${JOB}:7`), { kind: "tool", job: JOB, offset: 7 });
  for (const bad of ["", "log:x", `log:${JOB}:-1`, `job:${JOB}:12`, `log:${JOB}:a:1`, "x:y:1"]) {
    assert.equal(parseEventId(bad), undefined, bad);
  }
});

Deno.test("EventHub.since() replays what came after an id, or nothing once it is forgotten", () => {
  const hub = new EventHub({ ringSize: 3 });
  for (let n = 1; n <= 3; n++) hub.publish(logLine(n));
  assert.deepEqual(hub.since(`log:${JOB}:1`)?.map((e) => e.id), [
    `log:${JOB}:2`,
    `log:${JOB}:3`,
  ]);
  assert.deepEqual(hub.since(`log:${JOB}:3`), []);
  hub.publish(logLine(4)); // line 1 leaves the ring
  assert.equal(hub.since(`log:${JOB}:1`), undefined);
  // Line 2 is still there, but line 1's eviction came before it: still exact.
  assert.deepEqual(hub.since(`log:${JOB}:2`)?.map((e) => e.id), [
    `log:${JOB}:3`,
    `log:${JOB}:4`,
  ]);
  assert.equal(hub.since("log:other:1"), undefined);
});

Deno.test("a job event builds the job's JSON once, when first read, as it was published", () => {
  const hub = new EventHub();
  const job = fakeJob({ result: "done" });
  let built = 0;
  const view = () => {
    built++;
    return jobToJson(job);
  };
  hub.publish(jobEvent(job, view));
  hub.publish(logLine(1));
  assert.equal(built, 0, "nobody listened or read the ring: nothing was built");
  const [replayed] = hub.recent(job.id);
  assert.deepEqual(replayed?.data, jobToJson(job));
  assert.deepEqual(hub.recent(job.id)[0]?.data, jobToJson(job));
  assert.equal(built, 1);
});

Deno.test("jobJsonBytes() is at least a job's JSON length and grows with its texts", () => {
  const jobs = [
    fakeJob(),
    fakeJob({ result: "r".repeat(10_000), error: "e".repeat(500), deliveryId: "d-1" }),
    fakeJob({
      status: "completed",
      startedAt: new Date(),
      finishedAt: new Date(),
      containerId: "c".repeat(64),
      sessionId: "s".repeat(36),
      dedupeKey: "k".repeat(200),
      supersedeKey: "p".repeat(200),
      usage: {
        costUsd: 0.5,
        costBasis: "api",
        inputTokens: 1_000_000,
        outputTokens: 2_000_000,
        cacheReadTokens: 3_000_000,
        cacheCreationTokens: 4_000_000,
        numTurns: 99,
        durationApiMs: 123_456,
        models: ["claude-sonnet-4-5", "claude-haiku-4-5"],
      },
    }),
  ];
  for (const job of jobs) {
    const actual = JSON.stringify(jobToJson(job)).length;
    const estimate = jobJsonBytes(job);
    assert.ok(estimate >= actual, `${estimate} < ${actual}`);
    assert.ok(estimate <= actual + 1024, `${estimate} far above ${actual}`);
  }
});

Deno.test("EventHub keeps a job's rings within their byte bound without building job events", () => {
  const hub = new EventHub({ ringBytes: 64 * 1024 });
  const big = fakeJob({ result: "r".repeat(40 * 1024) });
  const unread = () => {
    throw new Error("the ring read a job event to measure it");
  };
  hub.publish(jobEvent(big, unread));
  hub.publish(jobEvent({ ...big, status: "running", startedAt: new Date() }, unread));
  // Two 40 KiB results pass the 64 KiB bound: the older event goes.
  assert.deepEqual(hub.recent(big.id).map((e) => e.id.split(":")[2]), ["running"]);
});

Deno.test("splitLines() cuts at newlines and long lines, keeping the offsets to resume from", () => {
  const bytes = new TextEncoder().encode("ab\ncd\nef");
  assert.deepEqual(splitLines(bytes, 10, false), {
    lines: [{ text: "ab", end: 13 }, { text: "cd", end: 16 }],
    consumed: 16,
  });
  assert.deepEqual(splitLines(bytes, 10, true).lines.at(-1), { text: "ef", end: 18 });
  const long = new Uint8Array(MAX_LINE_BYTES + 5).fill(120);
  const cut = splitLines(long, 0, false);
  assert.equal(cut.lines.length, 1);
  assert.equal(cut.consumed, MAX_LINE_BYTES);
});

function route(hub: EventHub, options: { maxQueuedBytes?: number; heartbeatMs?: number }) {
  const logs: string[] = [];
  const app = createEventsRoutes({
    hub,
    stores: {} as StoreRegistry, // unused without filters or Last-Event-ID
    jobsDir: "/nonexistent",
    log: createLogger({ write: (l) => logs.push(l), level: "debug" }),
    shown: (job) => ({ id: job.id }),
    redactorOf: () => NO_REDACTION,
    ...options,
  });
  return { app, logs };
}

Deno.test("GET /api/events drops a client that stops reading, with a final event", async () => {
  const hub = new EventHub();
  const { app, logs } = route(hub, { maxQueuedBytes: 4096 });
  const res = await app.request("/events");
  assert.equal(res.status, 200);
  await new Promise((r) => setTimeout(r, 10)); // the replay (nothing here) ends
  assert.equal(hub.subscribers, 1);
  // Nobody reads the body: the queue fills up to the limit, then the client is dropped.
  let n = 0;
  while (hub.subscribers > 0 && n < 10_000) hub.publish(logLine(++n, "x".repeat(100)));
  assert.equal(hub.subscribers, 0);
  assert.ok(n < 100, `dropped after ${n} events`);
  assert.ok(logs.some((l) => l.includes("events.client_dropped")));
  const text = await res.text();
  const last = text.trimEnd().split("\n\n").at(-1)!;
  assert.match(last, /^event: dropped\ndata: \{"reason":.*"last_event_id":"log:[^"]+"\}$/);
  // Everything sent before the drop is whole and in order.
  const ids = [...text.matchAll(/^id: log:[^:]+:(\d+)$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(ids, ids.map((_, i) => i + 1));
});

Deno.test("GET /api/events sends heartbeat comments and ends when the daemon stops", async () => {
  const hub = new EventHub();
  const stop = new AbortController();
  const app = createEventsRoutes({
    hub,
    stores: {} as StoreRegistry,
    jobsDir: "/nonexistent",
    log: createLogger({ write: () => {}, level: "debug" }),
    shown: (job) => ({ id: job.id }),
    redactorOf: () => NO_REDACTION,
    heartbeatMs: 10,
    signal: stop.signal,
  });
  const res = await app.request("/events");
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes(": ping\n\n")) text += (await reader.read()).value ?? "";
  stop.abort();
  for (;;) {
    const { done } = await reader.read();
    if (done) break;
  }
  assert.equal(hub.subscribers, 0);
});
