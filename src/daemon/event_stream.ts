/**
 * Wires the event stream for the daemon: one hub, the follower that feeds it from job changes
 * and job files, and the `GET /api/events` route. Kept apart so `daemon.ts` only hands it job
 * changes and mounts its routes.
 *
 * @module
 */

import type { Hono } from "hono";
import { type Logger, redactorFor } from "../log/mod.ts";
import { type Job, jobToJson, type StoreRegistry } from "../store/mod.ts";
import { EventHub } from "./events.ts";
import { JobFileFollower } from "./event_files.ts";
import type { PylonTable } from "./pylon_table.ts";
import { createEventsRoutes, type EventsRouteDeps } from "./routes/events.ts";

/** What the daemon's event stream needs. */
export interface EventStreamDeps {
  table: PylonTable;
  stores: StoreRegistry;
  jobsDir: string;
  log: Logger;
  /** Tests shorten these. */
  heartbeatMs?: number;
  maxQueuedBytes?: number;
  followIntervalMs?: number;
}

/** The daemon's event stream (see {@linkcode createEventStream}). */
export interface EventStream {
  hub: EventHub;
  /** The `/events` route, to mount under `/api`. */
  routes: Hono;
  /** A job changed (pass every `onChange` here). */
  changed(job: Job): void;
  /** Start-up: follows jobs left running by a previous daemon. */
  resume(): Promise<void>;
  /** Ends every client's stream and stops following files (shutdown). */
  close(): void;
  /**
   * Keeps open streams to {@linkcode streamsFor} of the server's connection limit: a stream is a
   * request that never ends, and streams holding every connection would leave none for webhooks.
   */
  limitStreams(maxConnections: number): void;
}

/** Streams open at once by default, before the server says its connection limit. */
const DEFAULT_MAX_STREAMS = 1024;

/** How many event streams may be open with `maxConnections` connections: a quarter, at least 1. */
export function streamsFor(maxConnections: number): number {
  return Math.max(1, Math.floor(maxConnections / 4));
}

/** Builds the hub, its file follower and the route; no I/O until a job changes. */
export function createEventStream(deps: EventStreamDeps): EventStream {
  const hub = new EventHub();
  let maxStreams = DEFAULT_MAX_STREAMS;
  const stop = new AbortController();
  const redactorOf = (pylon: string) => redactorFor(deps.table.get(pylon)?.resolved);
  const shown = (job: Job) => jobToJson(job, { redactor: redactorOf(job.pylon) });
  const view = (job: Job) => {
    const redactor = redactorFor(deps.table.get(job.pylon)?.resolved);
    // Kept until a client reads the event (if ever): not the request body, headers or prompt.
    const kept: Job = { ...job, payload: null, headers: {}, prompt: null };
    return () => jobToJson(kept, { redactor });
  };
  const follower = new JobFileFollower({
    hub,
    jobsDir: deps.jobsDir,
    log: deps.log,
    view,
    redactorOf,
    ...(deps.followIntervalMs ? { intervalMs: deps.followIntervalMs } : {}),
  });
  const routeDeps: EventsRouteDeps = {
    hub,
    stores: deps.stores,
    jobsDir: deps.jobsDir,
    log: deps.log,
    shown,
    redactorOf,
    signal: stop.signal,
    maxStreams: () => maxStreams,
    ...(deps.heartbeatMs ? { heartbeatMs: deps.heartbeatMs } : {}),
    ...(deps.maxQueuedBytes ? { maxQueuedBytes: deps.maxQueuedBytes } : {}),
  };
  return {
    hub,
    routes: createEventsRoutes(routeDeps),
    changed: (job) => follower.changed(job),
    resume: () => follower.resume(deps.stores),
    close() {
      stop.abort();
      follower.close();
    },
    limitStreams(maxConnections) {
      maxStreams = streamsFor(maxConnections);
    },
  };
}
