/**
 * HTTP on one accepted connection. `Deno.serve` accepts connections itself and offers no hook to
 * refuse, count or time one out, so `listener.ts` accepts them and hands each to this module.
 *
 * Deno 2.9.6 has two ways to serve one connection, neither in its public types:
 * - the per-connection entry of `Deno.serve`'s own engine (`serveHttpOnConnection` under
 *   `Deno[Deno.internal]`): the same code path as `Deno.serve`, so it costs nothing measurable
 *   per request (bench/README.md, "Connection limits");
 * - `Deno.serveHttp`, the pre-2.0 API still present at run time: about 8 µs more per request.
 * The first is used when present, else the second; `tests/daemon/listener_test.ts` runs both
 * and checks the first is present, so a Deno upgrade that removes it fails a test, not a server.
 *
 * @module
 */

/** Deno.serve's handler shape. */
export type ConnHandler = (
  req: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** One connection being served. */
export interface ConnServer {
  /** Settles when the connection is closed. */
  readonly finished: Promise<void>;
  /** Finishes the request in flight, then closes; settles when closed. */
  shutdown(): Promise<void>;
  /** Closes the connection now, cutting off a request in flight. */
  close(): void;
}

/** Serves HTTP on `conn` with `handler` until it closes. */
export type ServeConnection = (
  conn: Deno.Conn,
  handler: ConnHandler,
  onError: (error: unknown) => Response,
) => ConnServer;

type NativeServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: ConnHandler,
  onError: (error: unknown) => Response,
  onListen: (scheme: string) => void,
) => { finished: Promise<void>; shutdown(): Promise<void> };

interface LegacyRequestEvent {
  readonly request: Request;
  respondWith(r: Response | Promise<Response>): Promise<void>;
}
interface LegacyHttpConn extends AsyncIterable<LegacyRequestEvent> {
  close(): void;
}
type LegacyServeHttp = (conn: Deno.Conn) => LegacyHttpConn;

/** `Deno.serve`'s per-connection engine, when this Deno has it. */
function nativeEngine(): NativeServeOnConnection | undefined {
  const deno = Deno as unknown as Record<PropertyKey, unknown>;
  const key = deno["internal"];
  const internal = typeof key === "symbol" ? deno[key] as Record<string, unknown> : undefined;
  const fn = internal?.["serveHttpOnConnection"];
  return typeof fn === "function" ? fn as NativeServeOnConnection : undefined;
}

/** `Deno.serveHttp`, when this Deno still has it. */
function legacyEngine(): LegacyServeHttp | undefined {
  const fn = (Deno as unknown as Record<string, unknown>)["serveHttp"];
  return typeof fn === "function" ? (fn as LegacyServeHttp).bind(Deno) : undefined;
}

/** Serves with `Deno.serve`'s engine; abort closes at once, `shutdown()` drains. */
export function createNativeServe(): ServeConnection | undefined {
  const native = nativeEngine();
  if (!native) return undefined;
  return function serveNative(conn, handler, onError) {
    const abort = new AbortController();
    const server = native(conn, abort.signal, handler, onError, noop);
    return {
      finished: server.finished,
      shutdown: () => server.shutdown(),
      close: () => {
        // Deno 2.9 throws `BadResource` from the abort when a request is still open on a
        // connection it already tore down; the connection is closed either way, and a throw
        // here would end the daemon in the middle of its shutdown.
        try {
          abort.abort();
        } catch {
          // already closed
        }
      },
    };
  };
}

/** Serves with `Deno.serveHttp` (about 8 µs more per request). */
export function createLegacyServe(): ServeConnection | undefined {
  const serveHttp = legacyEngine();
  if (!serveHttp) return undefined;
  return function serveLegacy(conn, handler, onError) {
    const http = serveHttp(conn);
    const info = { remoteAddr: conn.remoteAddr as Deno.NetAddr, completed: Promise.resolve() };
    let inFlight = 0;
    let draining = false;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      try {
        http.close();
      } catch { /* already closed by the peer */ }
    };
    const respond = async (event: LegacyRequestEvent) => {
      inFlight++;
      try {
        let res: Response;
        try {
          res = await handler(event.request, info);
        } catch (e) {
          res = onError(e);
        }
        await event.respondWith(res);
      } catch {
        /* the peer went away mid-response */
      } finally {
        if (--inFlight === 0 && draining) close();
      }
    };
    const finished = (async () => {
      try {
        for await (const event of http) void respond(event);
      } catch {
        /* reset by the peer, or closed here */
      } finally {
        closed = true;
      }
    })();
    return {
      finished,
      shutdown() {
        draining = true;
        if (inFlight === 0) close();
        return finished;
      },
      close,
    };
  };
}

/** The fastest engine this Deno has; undefined when it has none. */
export function defaultServeConnection(): ServeConnection | undefined {
  return createNativeServe() ?? createLegacyServe();
}

function noop(): void {}
