/**
 * `GET /api/events`: the daemon's one event stream (Server-Sent Events) of job changes, log
 * lines and tool events, behind the bearer token like the rest of `/api`.
 *
 * Filters: `?job=<id or prefix>`, `?pylon=<name>`, `?kinds=job,log,tool`. Resuming: a client
 * sends the last id it saw (`Last-Event-ID`, or `?last_event_id=` for a first connection) and
 * gets what it missed — exactly, from the hub's rings, while the same daemon runs; after a
 * restart, the log (or tool) lines of that id's job past its offset, and the current state of
 * every unfinished job. With `?job=` and no id, the job's state and its whole log so far.
 *
 * A client that does not read is not buffered without limit: once `maxQueuedBytes` wait for
 * it, it gets a final `dropped` event (with the last id sent, to resume from) and is closed.
 * Comment lines every `heartbeatMs` keep proxies from closing an idle stream.
 *
 * A stream is a request that never ends, so at most `maxStreams()` are open at once (a share of
 * the server's connections; more answer `429`): streams can never hold every connection and
 * leave none for webhooks. A stream opened with a dashboard session ends when the session does
 * (logout, `pylon dashboard --revoke-all`, expiry): an open stream is no way around a revocation.
 *
 * @module
 */

import { Hono } from "hono";
import type { Logger, Redactor } from "../../log/mod.ts";
import { isTerminalStatus, type Job, JobNotFoundError } from "../../store/mod.ts";
import type { StoreRegistry } from "../../store/mod.ts";
import {
  EVENT_KINDS,
  type EventCursor,
  type EventHub,
  type EventKind,
  type HubEvent,
  parseEventId,
} from "../events.ts";
import { jobEvent, logEvent, readLogLines, readToolLines, toolEvent } from "../event_files.ts";
import { reject } from "./webhook.ts";

/** What the event stream needs. */
export interface EventsRouteDeps {
  hub: EventHub;
  stores: StoreRegistry;
  jobsDir: string;
  log: Logger;
  /** The job as the API shows it (redacted). */
  shown(job: Job): Record<string, unknown>;
  /** The redactor of a pylon's secrets, for the tool events its agents wrote. */
  redactorOf(pylon: string): Redactor;
  /** Between heartbeat comments (ms). @default {15000} */
  heartbeatMs?: number;
  /** The most bytes queued for one client before it is dropped. @default {1 MiB} */
  maxQueuedBytes?: number;
  /** Ends every stream (daemon shutdown). */
  signal?: AbortSignal;
  /** How many streams may be open at once. @default {unlimited} */
  maxStreams?: () => number;
}

/**
 * The credential a stream was opened with, when it can end while the stream is open (a
 * dashboard session). The auth middleware sets it as the request's `streamAuth` variable.
 */
export interface StreamAuth {
  /** Whether the credential is still good (checked at every heartbeat: expiry). */
  valid(): boolean;
  /** Calls `onEnd` once when the credential is revoked; returns what stops watching. */
  watch(onEnd: () => void): () => void;
}

/** What one client asked for. */
interface Filter {
  job?: string | undefined;
  pylon?: string | undefined;
  kinds: ReadonlySet<EventKind>;
}

/** Builds the `/events` route (mounted under `/api`). */
export function createEventsRoutes(deps: EventsRouteDeps): Hono {
  const app = new Hono();
  let open = 0;
  let full = false;
  app.get("/events", async function events(c) {
    const max = deps.maxStreams?.() ?? Infinity;
    if (open >= max) {
      // Once per time it fills up, not once per refused client.
      if (!full) deps.log.warn("events.streams_full", { max });
      full = true;
      return reject(
        429,
        `${max} event streams are open, the most this daemon serves at once; try again later`,
        { "retry-after": "30" },
      );
    }
    const kindsText = c.req.query("kinds");
    const kinds = (kindsText ?? EVENT_KINDS.join(",")).split(",").map((k) => k.trim())
      .filter((k) => k !== "");
    const bad = kinds.find((k) => !(EVENT_KINDS as readonly string[]).includes(k));
    if (bad !== undefined || kinds.length === 0) {
      return reject(
        400,
        `unknown event kind ${JSON.stringify((bad ?? "").slice(0, 40))}; use ${
          EVENT_KINDS.join(", ")
        }`,
      );
    }
    const pylon = c.req.query("pylon") || undefined;
    if (pylon !== undefined && !deps.stores.has(pylon)) {
      return reject(404, `no pylon named "${pylon.slice(0, 100)}"`);
    }
    let job: Job | undefined;
    const jobText = c.req.query("job");
    if (jobText) {
      try {
        job = await deps.stores.findJob(jobText);
      } catch (e) {
        if (e instanceof JobNotFoundError) return reject(404, e.message);
        throw e;
      }
    }
    const filter: Filter = { job: job?.id, pylon, kinds: new Set(kinds as EventKind[]) };
    const lastId = c.req.header("last-event-id") ?? c.req.query("last_event_id");
    const auth = (c as unknown as { get(key: string): unknown }).get("streamAuth") as
      | StreamAuth
      | undefined;
    if (auth && !auth.valid()) return reject(401, "the session has ended; log in again");
    open++;
    return openStream(deps, filter, lastId?.trim() || undefined, job, auth, () => {
      if (--open < max) full = false;
    });
  });
  return app;
}

function matches(f: Filter, e: HubEvent): boolean {
  return f.kinds.has(e.kind) && (f.job === undefined || f.job === e.job) &&
    (f.pylon === undefined || f.pylon === e.pylon);
}

function frame(e: HubEvent): string {
  return `id: ${e.id}\nevent: ${e.kind}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

function openStream(
  deps: EventsRouteDeps,
  filter: Filter,
  lastId: string | undefined,
  job: Job | undefined,
  auth: StreamAuth | undefined,
  onClosed: () => void,
): Response {
  const enc = new TextEncoder();
  const maxBytes = deps.maxQueuedBytes ?? 1024 * 1024;
  const log = deps.log.with({ route: "events" });
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let replaying = true;
  let lastSent = lastId;
  const pending: HubEvent[] = [];
  let pendingBytes = 0;
  /** Per `kind:job`, the end offset already sent (live lines up to it were replayed). */
  const sentUpTo = new Map<string, number>();
  const sentJobIds = new Set<string>();
  let pulled: PromiseWithResolvers<void> | undefined;

  const close = () => {
    if (closed) return;
    closed = true;
    onClosed();
    unsubscribe();
    unwatch();
    clearInterval(heartbeat);
    deps.signal?.removeEventListener("abort", close);
    try {
      controller.close();
    } catch { /* already closed or cancelled */ }
    pulled?.resolve();
  };
  const drop = (reason: string) => {
    if (closed) return;
    log.warn("events.client_dropped", { reason, queued: maxBytes - (controller.desiredSize ?? 0) });
    const data = JSON.stringify({ reason, last_event_id: lastSent ?? null });
    try {
      controller.enqueue(enc.encode(`event: dropped\ndata: ${data}\n\n`));
    } catch { /* cancelled */ }
    close();
  };
  const write = (text: string) => {
    if (closed) return;
    controller.enqueue(enc.encode(text));
  };
  /** Sends one event unless it was sent already (replayed); drops a client that lags. */
  const send = (e: HubEvent) => {
    if (closed || !matches(filter, e)) return;
    const offset = typeof e.data.offset === "number" ? e.data.offset : undefined;
    if (offset !== undefined) {
      const key = `${e.kind}:${e.job}`;
      if (offset <= (sentUpTo.get(key) ?? -1)) return;
      sentUpTo.set(key, offset);
    } else if (sentJobIds.has(e.id)) {
      return;
    } else if (replaying || pending.length > 0) {
      sentJobIds.add(e.id);
    }
    write(frame(e));
    lastSent = e.id;
    if (!replaying && (controller.desiredSize ?? 0) <= 0) {
      drop(`the client fell ${maxBytes} bytes behind`);
    }
  };
  /** Replay waits for the client instead of dropping it (it is reading what it asked for). */
  const room = async () => {
    while (!closed && (controller.desiredSize ?? 0) <= 0) {
      pulled = Promise.withResolvers<void>();
      await pulled.promise;
    }
  };
  const unsubscribe = deps.hub.subscribe((e) => {
    if (closed || !matches(filter, e)) return;
    if (!replaying) return send(e);
    pending.push(e);
    pendingBytes += e.id.length + 64 + JSON.stringify(e.data).length;
    if (pendingBytes > maxBytes) drop(`more than ${maxBytes} bytes arrived during the replay`);
  });
  const unwatch = auth?.watch(() => close()) ?? (() => {});
  const heartbeat = setInterval(() => {
    if (closed) return;
    if (auth && !auth.valid()) return close();
    write(": ping\n\n");
    if (!replaying && (controller.desiredSize ?? 0) <= 0) drop("the client stopped reading");
  }, deps.heartbeatMs ?? 15_000);
  deps.signal?.addEventListener("abort", close, { once: true });

  const replay = async () => {
    write("retry: 2000\n\n");
    for await (const e of replayEvents(deps, filter, lastId, job)) {
      if (closed) return;
      send(e);
      await room();
    }
    replaying = false;
    for (const e of pending.splice(0)) send(e);
    // Only the replay could repeat a job change; live ones arrive once (the set stays small).
    sentJobIds.clear();
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        if (deps.signal?.aborted) return close();
        replay().catch((e) => {
          log.error("events.replay_failed", { error: e instanceof Error ? e.message : String(e) });
          drop("the replay failed; see the daemon log");
        });
      },
      pull() {
        pulled?.resolve();
      },
      cancel() {
        close();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: maxBytes }),
  );
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-store",
      "x-accel-buffering": "no",
    },
  });
}

/** What a (re)connecting client is owed before the live events (see the module doc). */
async function* replayEvents(
  deps: EventsRouteDeps,
  filter: Filter,
  lastId: string | undefined,
  job: Job | undefined,
): AsyncGenerator<HubEvent> {
  if (lastId !== undefined) {
    const missed = deps.hub.since(lastId);
    if (missed) return yield* missed;
  }
  const cursor: EventCursor | undefined = lastId ? parseEventId(lastId) : undefined;
  if (!cursor && !job) return;
  // After a restart (or without an id, for one job): the states, then the files.
  const states = job ? [job] : await unfinishedJobs(deps, filter, cursor);
  // A finished job's state comes after its lines: a client that sees the end has the whole log.
  const last = job && isTerminalStatus(job.status) ? states.pop() : undefined;
  for (const j of states) yield jobEvent(j, () => deps.shown(j));
  const fileJob = job ??
    (cursor && cursor.kind !== "job"
      ? await deps.stores.findJob(cursor.job).catch(() => undefined)
      : undefined);
  if (fileJob) yield* fileEvents(deps, filter, cursor, fileJob);
  if (last) yield jobEvent(last, () => deps.shown(last));
}

/** A job's log lines and tool events past the cursor's offset (all of them without one). */
async function* fileEvents(
  deps: EventsRouteDeps,
  filter: Filter,
  cursor: EventCursor | undefined,
  fileJob: Job,
): AsyncGenerator<HubEvent> {
  const at = (kind: "log" | "tool") =>
    cursor && cursor.kind === kind && cursor.job === fileJob.id ? cursor.offset : 0;
  // A log position says nothing of tool events and the reverse: each file from its own offset.
  const logFrom = at("log");
  const toolFrom = cursor?.job === fileJob.id && cursor.kind === "log" ? Infinity : at("tool");
  if (filter.kinds.has("log") && !(cursor?.job === fileJob.id && cursor.kind === "tool")) {
    const final = isTerminalStatus(fileJob.status);
    for (const line of (await readLogLines(deps.jobsDir, fileJob.id, logFrom, final)).lines) {
      yield logEvent(fileJob, line);
    }
  }
  if (filter.kinds.has("tool") && toolFrom !== Infinity) {
    const redactor = deps.redactorOf(fileJob.pylon);
    for (const line of (await readToolLines(deps.jobsDir, fileJob.id, toolFrom)).lines) {
      const e = toolEvent(fileJob, line, redactor);
      if (e) yield e;
    }
  }
}

/** Every unfinished job (and, after a job id, those that finished since it). */
async function unfinishedJobs(
  deps: EventsRouteDeps,
  filter: Filter,
  cursor: EventCursor | undefined,
): Promise<Job[]> {
  const since = cursor?.kind === "job" ? cursor.at : undefined;
  const jobs: Job[] = [];
  for (const name of deps.stores.names()) {
    if (filter.pylon !== undefined && filter.pylon !== name) continue;
    const store = deps.stores.get(name);
    if (!store) continue;
    for (const j of await store.list({ limit: 200 })) {
      const recent = since !== undefined && (j.finishedAt?.getTime() ?? 0) > since;
      if (!isTerminalStatus(j.status) || recent) jobs.push(j);
    }
  }
  return jobs.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}
