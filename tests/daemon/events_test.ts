/**
 * `GET /api/events` on a real daemon over loopback: job changes and log lines of a webhook job,
 * resuming with `Last-Event-ID` (within one daemon and across a restart), authentication, and
 * `pylon logs -f` through the stream.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogsCommand } from "../../src/cli/commands/logs.ts";
import { parseCommandArgs } from "../../src/cli/main.ts";
import { readSse, type SseEvent } from "../../src/cli/sse_client.ts";
import type { JobRunner } from "../../src/queue/mod.ts";
import { createTestContext } from "../_helpers/cli.ts";
import { eventually, startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";

const PYLON = "name: plain\ntrigger:\n  type: webhook\n  path: /plain\nagent:\n  prompt: hi\n";

/** A runner that writes `one`, `two` to the job's log, waits for `release()`, then `three`. */
function loggingRunner(jobsDir: () => string) {
  let gate = Promise.withResolvers<void>();
  const runner: JobRunner & { release(): void } = {
    release() {
      gate.resolve();
    },
    async run(job) {
      await Deno.mkdir(jobsDir(), { recursive: true });
      const file = join(jobsDir(), `${job.id}.log`);
      const put = (text: string) => Deno.writeTextFile(file, text, { append: true });
      await put("--- run header ---\n");
      await put("one\n\x1b]0;title\x07two \x1b[31mred\x1b[0m\n");
      await gate.promise;
      gate = Promise.withResolvers<void>();
      await Deno.mkdir(join(jobsDir(), job.id, "out"), { recursive: true });
      await Deno.writeTextFile(
        join(jobsDir(), job.id, "out", "events.ndjson"),
        '{"tool":"Bash","summary":"ls \\u001b]52;c;cHduZWQ=\\u0007-la"}\nnot json\n',
      );
      await put("three\n");
      return { status: "completed", exitCode: 0, result: "ok" };
    },
  };
  return runner;
}

/** An open stream and the events read from it so far. */
interface Client {
  events: SseEvent[];
  /** Waits until an event matches; returns it. */
  until(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): Promise<void>;
}

async function connect(d: TestDaemon, query = "", lastId?: string): Promise<Client> {
  const ctl = new AbortController();
  const res = await d.api(`/api/events${query}`, {
    signal: ctl.signal,
    headers: lastId ? { "last-event-id": lastId } : {},
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const events: SseEvent[] = [];
  const reading = (async () => {
    try {
      for await (const e of readSse(res.body!)) events.push(e);
    } catch { /* aborted */ }
  })();
  return {
    events,
    until: (match, timeoutMs = 5000) =>
      eventually(() => Promise.resolve(events.find(match)), timeoutMs),
    async close() {
      ctl.abort();
      await reading;
    },
  };
}

const isLog = (text: string) => (e: SseEvent) =>
  e.event === "log" && JSON.parse(e.data).line === text;
const isStatus = (status: string) => (e: SseEvent) =>
  e.event === "job" && JSON.parse(e.data).status === status;
const summary = (events: SseEvent[]) =>
  events.filter((e) => e.event !== "tool").map((e) =>
    `${e.event}:${JSON.parse(e.data).line ?? JSON.parse(e.data).status}`
  );

async function newHome(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "pylon-events-" });
  await writeHome(root, { "pylons/plain/pylon.yaml": PYLON });
  return root;
}

async function postJob(d: TestDaemon): Promise<string> {
  const res = await fetch(`${d.url}/plain`, { method: "POST", body: "{}" });
  assert.equal(res.status, 202);
  return (await res.json()).job_id;
}

Deno.test("GET /api/events streams a webhook job's changes and its log lines while it runs", async () => {
  const root = await newHome();
  let jobsDir = "";
  const runner = loggingRunner(() => jobsDir);
  const d = await startTestDaemon(root, { runner });
  jobsDir = d.paths.jobsDir;
  const client = await connect(d);
  try {
    const id = await postJob(d);
    await client.until(isStatus("queued"));
    await client.until(isStatus("running"));
    // Streamed while the job still runs; hostile escapes are gone, colours kept.
    const two = await client.until(isLog("two \x1b[31mred\x1b[0m"));
    assert.match(two.id!, new RegExp(`^log:${id}:\\d+$`));
    assert.equal(client.events.some(isStatus("completed")), false);
    runner.release();
    await client.until(isStatus("completed"));
    assert.deepEqual(summary(client.events), [
      "job:queued",
      "job:running",
      "log:--- run header ---",
      "log:one",
      "log:two \x1b[31mred\x1b[0m",
      "log:three",
      "job:completed",
    ]);
    // The agent's tool events, escapes dropped; lines that are not events are skipped.
    const tools = client.events.filter((e) => e.event === "tool").map((e) => JSON.parse(e.data));
    assert.deepEqual(tools.map((t) => [t.tool, t.summary]), [["Bash", "ls -la"]]);
    const done = JSON.parse(client.events.at(-1)!.data);
    assert.equal(done.id, id);
    assert.equal(done.pylon, "plain");
    assert.match(client.events.at(-1)!.id!, new RegExp(`^job:${id}:completed:\\d+$`));
  } finally {
    await client.close();
    await d.stop();
  }
});

Deno.test("GET /api/events stays open past server.header_timeout while nothing happens", async () => {
  const root = await newHome();
  await writeHome(root, { "config.yaml": "server:\n  header_timeout: 1s\n" });
  let jobsDir = "";
  const runner = loggingRunner(() => jobsDir);
  const d = await startTestDaemon(root, { runner });
  jobsDir = d.paths.jobsDir;
  const client = await connect(d);
  try {
    await postJob(d);
    await client.until(isLog("one"));
    // Quiet for well over the header timeout (the idle sweep closed streams after it).
    await new Promise((r) => setTimeout(r, 2500));
    runner.release();
    await client.until(isStatus("completed"));
    assert.ok(client.events.some(isLog("three")), "the same stream carried the rest");
  } finally {
    await client.close();
    await d.stop();
  }
});

Deno.test("GET /api/events with Last-Event-ID replays exactly what the client missed", async () => {
  const root = await newHome();
  let jobsDir = "";
  const runner = loggingRunner(() => jobsDir);
  const d = await startTestDaemon(root, { runner });
  jobsDir = d.paths.jobsDir;
  try {
    const first = await connect(d);
    await postJob(d);
    const one = await first.until(isLog("one"));
    await first.close();
    runner.release();
    const again = await connect(d, "", one.id);
    try {
      await again.until(isStatus("completed"));
      assert.deepEqual(summary(again.events), [
        "log:two \x1b[31mred\x1b[0m",
        "log:three",
        "job:completed",
      ]);
    } finally {
      await again.close();
    }
  } finally {
    await d.stop();
  }
});

Deno.test("GET /api/events resumes a job's log after a daemon restart", async () => {
  const root = await newHome();
  let jobsDir = "";
  const runner = loggingRunner(() => jobsDir);
  let d = await startTestDaemon(root, { runner });
  jobsDir = d.paths.jobsDir;
  let id: string;
  let lastId: string;
  try {
    const client = await connect(d);
    id = await postJob(d);
    lastId = (await client.until(isLog("one"))).id!;
    await client.close();
    runner.release();
    const done = await connect(d, `?job=${id}&kinds=job`);
    await done.until(isStatus("completed"));
    await done.close();
  } finally {
    await d.stop();
  }
  d = await startTestDaemon(root, { runner });
  try {
    const resumed = await connect(d, `?job=${id.slice(0, 8)}`, lastId);
    try {
      await resumed.until(isStatus("completed"));
      assert.deepEqual(summary(resumed.events), [
        "log:two \x1b[31mred\x1b[0m",
        "log:three",
        "job:completed",
      ]);
    } finally {
      await resumed.close();
    }
  } finally {
    await d.stop();
  }
});

Deno.test("GET /api/events streams end when the daemon stops (no wait for the drain)", async () => {
  const root = await newHome();
  const d = await startTestDaemon(root, {});
  const client = await connect(d);
  const started = performance.now();
  await d.stop();
  await client.close();
  assert.ok(performance.now() - started < 3000, "the daemon stopped without waiting 5 s");
});

Deno.test("GET /api/events refuses requests without the token and bad filters", async () => {
  const root = await newHome();
  const d = await startTestDaemon(root, {});
  try {
    const anon = await fetch(`${d.url}/api/events`);
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    const wrong = await fetch(`${d.url}/api/events`, {
      headers: { authorization: "Bearer nope" },
    });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const kinds = await d.api("/api/events?kinds=job,secrets");
    assert.equal(kinds.status, 400);
    await kinds.body?.cancel();
    const pylon = await d.api("/api/events?pylon=nope");
    assert.equal(pylon.status, 404);
    await pylon.body?.cancel();
  } finally {
    await d.stop();
  }
});

Deno.test("pylon logs -f follows a job through the daemon's stream and ends with its status", async () => {
  await using ctx = await createTestContext();
  await writeHome(ctx.paths.root, { "pylons/plain/pylon.yaml": PYLON });
  const runner = loggingRunner(() => ctx.paths.jobsDir);
  const d = await startTestDaemon(ctx.paths.root, { runner });
  try {
    const watcher = await connect(d, "?kinds=log");
    const id = await postJob(d);
    await watcher.until(isLog("one"));
    await watcher.close();
    const logs = createLogsCommand({
      docker: () => {
        throw new Error("a running daemon is followed through its stream, not Docker");
      },
    });
    const done = logs.run(parseCommandArgs(logs, [id.slice(0, 8), "-f"]), ctx);
    await eventually(() => Promise.resolve(ctx.stdout().includes("red")));
    runner.release();
    assert.equal(await done, 0);
    assert.match(
      ctx.stdout(),
      new RegExp(
        "^--- run header ---\\none\\ntwo \\x1b\\[31mred\\x1b\\[0m\\nthree\\n" +
          `--- job ${id.slice(0, 8)} completed in \\d+s ---\\n$`,
      ),
    );
  } finally {
    await d.stop();
  }
});

/**
 * A loopback TCP relay to `port` that breaks the first event stream through it once `cutAfter`
 * has passed on it (as a daemon killed mid-stream or a proxy timing out would).
 */
function cuttingRelay(
  port: number,
  cutAfter: string,
): { port: number; cuts: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const state = { port: listener.addr.port, cuts: 0, close: () => listener.close() };
  (async () => {
    for await (const client of listener) {
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port });
      let stream = false;
      const pump = async (from: Deno.Conn, to: Deno.Conn, watch: boolean) => {
        const buf = new Uint8Array(16 * 1024);
        let seen = "";
        try {
          for (;;) {
            const n = await from.read(buf);
            if (n === null) break;
            const text = new TextDecoder().decode(buf.subarray(0, n));
            if (!watch && text.includes("GET /api/events")) stream = state.cuts === 0;
            await to.write(buf.subarray(0, n));
            if (watch && stream) {
              seen += text;
              if (seen.includes(cutAfter)) {
                state.cuts++;
                break;
              }
            }
          }
        } catch { /* closed */ }
        for (const c of [client, upstream]) {
          try {
            c.close();
          } catch { /* closed */ }
        }
      };
      pump(client, upstream, false);
      pump(upstream, client, true);
    }
  })().catch(() => {});
  return state;
}

Deno.test("pylon logs -f resumes after its stream's connection breaks, printing each line once", async () => {
  await using ctx = await createTestContext();
  await writeHome(ctx.paths.root, { "pylons/plain/pylon.yaml": PYLON });
  const runner = loggingRunner(() => ctx.paths.jobsDir);
  const d = await startTestDaemon(ctx.paths.root, { runner });
  const relay = cuttingRelay(Number(new URL(d.url).port), '"line":"one"');
  try {
    // The CLI finds the daemon through daemon.pid: point it at the relay.
    const info = JSON.parse(await Deno.readTextFile(ctx.paths.daemonPid));
    await Deno.writeTextFile(ctx.paths.daemonPid, JSON.stringify({ ...info, port: relay.port }));
    const id = await postJob(d);
    const logs = createLogsCommand({
      docker: () => {
        throw new Error("a running daemon is followed through its stream, not Docker");
      },
    });
    const done = logs.run(parseCommandArgs(logs, [id.slice(0, 8), "-f"]), ctx);
    await eventually(() => Promise.resolve(relay.cuts === 1));
    await eventually(() => Promise.resolve(ctx.stdout().includes("red")));
    runner.release();
    assert.equal(await done, 0, ctx.stderr());
    assert.match(
      ctx.stdout(),
      new RegExp(
        "^--- run header ---\\none\\ntwo \\x1b\\[31mred\\x1b\\[0m\\nthree\\n" +
          `--- job ${id.slice(0, 8)} completed in \\d+s ---\\n$`,
      ),
    );
  } finally {
    relay.close();
    await d.stop();
  }
});
