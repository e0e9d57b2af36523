/**
 * The daemon's in-process event hub: job changes, log lines and tool events, published once and
 * handed to every subscriber of `GET /api/events` (and through it to `pylon logs -f` and the
 * dashboards). It keeps no job state: only a small ring of recent events per job, so a client
 * that reconnects within the same daemon gets exactly what it missed. Across a restart the ids
 * themselves say where to resume (see {@linkcode parseEventId}).
 *
 * Ids: `job:<job id>:<status>:<epoch ms>`, `log:<job id>:<byte offset>` (the end of the line in
 * `jobs/<id>.log`) and `tool:<job id>:<byte offset>` (the end of the line in `events.ndjson`).
 *
 * @module
 */

/** The kinds of event a client may ask for (`?kinds=`). */
export const EVENT_KINDS = ["job", "log", "tool"] as const;
/** One kind of event. */
export type EventKind = (typeof EVENT_KINDS)[number];

/** One event as it goes out: its SSE id, kind, job and JSON data. */
export interface HubEvent {
  id: string;
  kind: EventKind;
  job: string;
  pylon: string;
  data: Record<string, unknown>;
  /**
   * About how long `data` is as JSON, when the publisher knows without serialising it (job
   * events, see {@linkcode lazyEvent}); the hub measures it otherwise.
   */
  bytes?: number;
}

/**
 * An event whose `data` is built on its first read, once. Every webhook publishes a job change,
 * mostly while no client listens: the ring keeps it only in case one reconnects, so building
 * the job's API JSON (and serialising it to measure it) for each was ~5 % of the daemon's CPU
 * under load. `bytes` estimates the JSON's length for the ring's bound.
 */
export function lazyEvent(
  head: Omit<HubEvent, "data" | "bytes">,
  bytes: number,
  build: () => Record<string, unknown>,
): HubEvent {
  return new LazyEvent(head, bytes, build);
}

/** A class rather than an object literal with a getter: one is made per webhook. */
class LazyEvent implements HubEvent {
  readonly id: string;
  readonly kind: EventKind;
  readonly job: string;
  readonly pylon: string;
  readonly bytes: number;
  #build: (() => Record<string, unknown>) | undefined;
  #data: Record<string, unknown> | undefined;

  constructor(
    head: Omit<HubEvent, "data" | "bytes">,
    bytes: number,
    build: () => Record<string, unknown>,
  ) {
    this.id = head.id;
    this.kind = head.kind;
    this.job = head.job;
    this.pylon = head.pylon;
    this.bytes = bytes;
    this.#build = build;
  }

  get data(): Record<string, unknown> {
    if (this.#build) {
      this.#data = this.#build();
      this.#build = undefined;
    }
    return this.#data!;
  }
}

/** A position in the stream, as parsed from an event id (`Last-Event-ID`). */
export type EventCursor =
  | { kind: "job"; job: string; status: string; at: number }
  | { kind: "log" | "tool"; job: string; offset: number };

/** Builds a job change's id. */
export function jobEventId(job: string, status: string, at: number): string {
  return `job:${job}:${status}:${at}`;
}

/** Builds a log line's or tool event's id: `offset` is where the line ends in its file. */
export function fileEventId(kind: "log" | "tool", job: string, offset: number): string {
  return `${kind}:${job}:${offset}`;
}

const ID_REGEXP = /^(job|log|tool):([0-9A-Za-z-]{1,64}):(?:([a-z_]{1,32}):)?(\d{1,16})$/;

/** Reads an event id; undefined when it is not one of ours. */
export function parseEventId(id: string): EventCursor | undefined {
  const m = ID_REGEXP.exec(id.trim());
  if (!m) return undefined;
  const [, kind, job, status, n] = m as unknown as [
    string,
    EventKind,
    string,
    string | undefined,
    string,
  ];
  if (kind === "job") return status ? { kind, job, status, at: Number(n) } : undefined;
  return status ? undefined : { kind, job, offset: Number(n) };
}

/** Options of {@linkcode EventHub}. */
export interface EventHubOptions {
  /** Events kept per job for clients that reconnect. @default {200} */
  ringSize?: number;
  /** Jobs whose rings are kept (the least recently active are forgotten). @default {64} */
  ringJobs?: number;
  /** The most bytes of event data kept per job (long log lines). @default {256 KiB} */
  ringBytes?: number;
}

/** A subscriber's callback. */
export type EventListener = (event: HubEvent) => void;

interface Stored {
  seq: number;
  event: HubEvent;
  bytes: number;
}

/** A job's kept events and their size. */
interface Ring {
  items: Stored[];
  bytes: number;
}

/** Publish/subscribe of job events (see the module doc). */
export class EventHub {
  readonly #listeners = new Set<EventListener>();
  readonly #rings = new Map<string, Ring>();
  readonly #ringSize: number;
  readonly #ringJobs: number;
  readonly #ringBytes: number;
  #seq = 0;
  /** The newest seq no longer kept (trimmed from a ring, or a forgotten job's ring). */
  #lost = 0;

  constructor(options: EventHubOptions = {}) {
    this.#ringSize = options.ringSize ?? 200;
    this.#ringJobs = options.ringJobs ?? 64;
    this.#ringBytes = options.ringBytes ?? 256 * 1024;
  }

  /** Number of subscribers now. */
  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Hands `event` to every subscriber and keeps it in its job's ring. */
  publish(event: HubEvent): void {
    const ring = this.#rings.get(event.job) ?? { items: [], bytes: 0 };
    this.#rings.delete(event.job); // re-inserted last: the map's order is by recent activity
    const bytes = event.id.length + (event.bytes ?? JSON.stringify(event.data).length);
    ring.items.push({ seq: ++this.#seq, event, bytes });
    ring.bytes += bytes;
    while (
      ring.items.length > 1 &&
      (ring.items.length > this.#ringSize || ring.bytes > this.#ringBytes)
    ) {
      const gone = ring.items.shift()!;
      ring.bytes -= gone.bytes;
      this.#lost = Math.max(this.#lost, gone.seq);
    }
    this.#rings.set(event.job, ring);
    if (this.#rings.size > this.#ringJobs) {
      const [oldest, kept] = this.#rings.entries().next().value!;
      this.#lost = Math.max(this.#lost, kept.items.at(-1)?.seq ?? 0);
      this.#rings.delete(oldest);
    }
    for (const listener of [...this.#listeners]) listener(event);
  }

  /** Calls `listener` with every event from now on; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The events published after the one with `id`, in order, when this hub still has that one
   * (same daemon, recent enough); undefined otherwise.
   */
  since(id: string): HubEvent[] | undefined {
    let from: number | undefined;
    for (const ring of this.#rings.values()) {
      const hit = ring.items.find((s) => s.event.id === id);
      if (hit) from = hit.seq;
    }
    // Something after it was forgotten: the caller falls back to the files.
    if (from === undefined || this.#lost > from) return undefined;
    const after = [...this.#rings.values()].flatMap((r) => r.items).filter((s) => s.seq > from!);
    after.sort((a, b) => a.seq - b.seq);
    return after.map((s) => s.event);
  }

  /** The kept events of one job, oldest first. */
  recent(job: string): HubEvent[] {
    return (this.#rings.get(job)?.items ?? []).map((s) => s.event);
  }
}
