/**
 * Owns the listener and the process signals: binds, serves until SIGINT/SIGTERM or the given
 * signal aborts, then drains in-flight requests.
 *
 * @module
 */

import { PylonError } from "../errors.ts";

/** Options of {@linkcode serveUntilStopped}. */
export interface ServeOptions {
  host: string;
  port: number;
  /** Called once the port is bound, with the actual port (0 picks a free one). */
  onListen?: (addr: { host: string; port: number }) => void;
  /** Stops the server when aborted (tests); SIGINT/SIGTERM do too. */
  signal?: AbortSignal;
}

/**
 * Serves `handler` until stopped.
 *
 * @throws {PylonError} when the port cannot be bound
 */
export async function serveUntilStopped(
  handler: (req: Request) => Response | Promise<Response>,
  options: ServeOptions,
): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: options.host,
      port: options.port,
      signal: stop.signal,
      onListen: ({ hostname, port }) => options.onListen?.({ host: hostname, port }),
    }, handler);
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new PylonError(`Port ${options.port} on ${options.host} is already in use`, {
        hint:
          "another pylon or program listens there; change server.port in config.yaml or run `pylon doctor`",
        cause: e,
      });
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new PylonError(`Cannot listen on ${options.host}:${options.port}: permission denied`, {
        hint: "ports below 1024 need root; pick server.port 1024 or higher",
        cause: e,
      });
    }
    throw e;
  }
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  options.signal?.addEventListener("abort", onSignal, { once: true });
  try {
    await server.finished;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    options.signal?.removeEventListener("abort", onSignal);
  }
}
