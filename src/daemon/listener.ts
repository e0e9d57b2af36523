/**
 * The daemon's accept loop, which bounds what a sender can hold: at most `maxConnections`
 * connections are open (when full, the longest-idle one is closed to make room, or, with every
 * one busy, new ones wait in the kernel's backlog), a connection with no request
 * in flight is closed once `headerTimeoutMs` has passed since it was accepted or since its last
 * answer (a slow or half-sent request head, or an idle keep-alive; an event stream is in flight
 * until it ends), and an accept that fails
 * (`EMFILE`: too many open files) is logged and retried after a pause, never thrown.
 *
 * `Deno.serve` enforces none of this (no header timeout, no connection limit, and an `EMFILE`
 * on accept rejects its loop uncaught, which ends the process), hence a loop of our own.
 * Deadlines are checked by one sweep timer, not a timer per request, so the guard costs nothing
 * measurable per request (bench/README.md, "Connection limits").
 *
 * @module
 */

import type { Logger } from "../log/mod.ts";
import type { ConnHandler, ConnServer, ServeConnection } from "./_conn_serve.ts";

/** Options of {@linkcode serveListener}. */
export interface ListenerOptions {
  maxConnections: number;
  /** How long a connection may wait for a complete request head. */
  headerTimeoutMs: number;
  serveConnection: ServeConnection;
  log: Logger;
  /** Milliseconds since some origin (tests inject one). */
  now?: () => number;
}

/** A listener being served. */
export interface ListenerServer {
  /** Number of open connections. */
  readonly open: number;
  /**
   * Stops accepting, lets requests in flight finish for up to `drainMs`, then closes what is
   * left; resolves when every connection is closed.
   */
  stop(drainMs: number): Promise<void>;
}

interface Tracked {
  server: ConnServer;
  inFlight: number;
  /** When the connection was accepted or last answered; meaningful while nothing is in flight. */
  idleSince: number;
}

/** Pause after a failed accept, doubling while failures last. */
const ACCEPT_BACKOFF_MS = [10, 50, 100, 250, 500, 1000];
/** At most one warning per kind in this many milliseconds. */
const WARN_EVERY_MS = 60_000;

/** Serves `handler` on the connections `listener` accepts, within the given bounds. */
export function serveListener(
  listener: Deno.Listener,
  handler: ConnHandler,
  options: ListenerOptions,
): ListenerServer {
  const { maxConnections, headerTimeoutMs, serveConnection, log } = options;
  const now = options.now ?? (() => performance.now());
  const open = new Set<Tracked>();
  let stopping = false;
  let slotFreed: (() => void) | undefined;
  const warned = new Map<string, { at: number; count: number }>();

  const warn = (event: string, fields: Record<string, unknown>) => {
    const w = warned.get(event);
    const t = now();
    if (w && t - w.at < WARN_EVERY_MS) {
      w.count++;
      return;
    }
    log.warn(event, { ...fields, ...(w && w.count > 0 ? { since_last: w.count } : {}) });
    warned.set(event, { at: t, count: 0 });
  };

  const onError = (error: unknown): Response => {
    log.error("http.error", { error: error instanceof Error ? error.message : String(error) });
    return Response.json({ error: "internal error; see the daemon log" }, { status: 500 });
  };

  const track = (conn: Deno.Conn) => {
    const state = { inFlight: 0, idleSince: now() };
    const settle = () => {
      if (--state.inFlight === 0) state.idleSince = now();
    };
    const guarded: ConnHandler = async (req, info) => {
      state.inFlight++;
      let res: Response;
      try {
        res = await handler(req, info);
      } catch (e) {
        settle();
        throw e;
      }
      // An event stream is answered at once but sends for hours: in flight until it ends, or
      // the sweep would cut it as an idle connection after the header timeout.
      if (res.body && res.headers.get("content-type")?.startsWith("text/event-stream")) {
        return untilSent(res, settle);
      }
      settle();
      return res;
    };
    let server: ConnServer;
    try {
      server = serveConnection(conn, guarded, onError);
    } catch (e) {
      warn("server.conn_failed", { error: e instanceof Error ? e.message : String(e) });
      closeQuietly(conn);
      return;
    }
    const t: Tracked = Object.assign(state, { server });
    open.add(t);
    t.server.finished.catch(() => {}).finally(() => {
      open.delete(t);
      slotFreed?.();
    });
  };

  const sweep = () => {
    const t = now();
    let cut = 0;
    for (const c of open) {
      if (c.inFlight === 0 && t - c.idleSince > headerTimeoutMs) {
        c.server.close();
        cut++;
      }
    }
    if (cut > 0) {
      log.debug("server.idle_closed", { connections: cut });
      if (cut >= 8) {
        warn("server.slow_connections", {
          closed: cut,
          note: `connections sent no complete request within ${headerTimeoutMs} ms`,
        });
      }
    }
  };
  const sweepEvery = Math.max(10, Math.min(1000, Math.floor(headerTimeoutMs / 4)));
  const sweeper = setInterval(sweep, sweepEvery);

  const acceptLoop = async () => {
    let failures = 0;
    while (!stopping) {
      if (open.size >= maxConnections) {
        // Full: the connection waiting longest for a request head makes room (a slow sender's,
        // most likely); with every connection busy, new ones wait in the kernel's backlog.
        const oldest = oldestIdle(open);
        warn("server.connections_full", {
          max: maxConnections,
          note: oldest
            ? "the longest-idle connection is closed for each new one"
            : "new connections wait in the kernel's backlog until one closes",
        });
        const freed = new Promise<void>((resolve) => slotFreed = resolve);
        oldest?.server.close();
        await freed;
        slotFreed = undefined;
        continue;
      }
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (stopping || e instanceof Deno.errors.BadResource) return;
        const pause = ACCEPT_BACKOFF_MS[Math.min(failures++, ACCEPT_BACKOFF_MS.length - 1)]!;
        warn("server.accept_failed", {
          error: e instanceof Error ? e.message : String(e),
          open: open.size,
          retry_ms: pause,
        });
        await new Promise((resolve) => setTimeout(resolve, pause));
        continue;
      }
      failures = 0;
      if (stopping) {
        closeQuietly(conn);
        return;
      }
      track(conn);
    }
  };
  const accepting = acceptLoop();

  return {
    get open() {
      return open.size;
    },
    async stop(drainMs) {
      stopping = true;
      closeQuietly(listener);
      slotFreed?.();
      await accepting;
      clearInterval(sweeper);
      const all = () => Promise.all([...open].map((c) => c.server.finished.catch(() => {})));
      for (const c of open) c.server.shutdown().catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      const drained = await Promise.race([
        all().then(() => true),
        new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), drainMs)),
      ]);
      clearTimeout(timer);
      if (!drained) {
        for (const c of open) c.server.close();
        await all();
      }
    },
  };
}

/** `res` with a body that calls `done` once, when it has been sent, has failed or was cancelled. */
function untilSent(res: Response, done: () => void): Response {
  const reader = res.body!.getReader();
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      done();
    }
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (chunk.done) {
          end();
          controller.close();
        } else {
          controller.enqueue(chunk.value);
        }
      } catch (e) {
        end();
        controller.error(e);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

function oldestIdle(open: Iterable<Tracked>): Tracked | undefined {
  let oldest: Tracked | undefined;
  for (const c of open) {
    if (c.inFlight === 0 && (!oldest || c.idleSince < oldest.idleSince)) oldest = c;
  }
  return oldest;
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch { /* already closed */ }
}
