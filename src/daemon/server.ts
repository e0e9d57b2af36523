/**
 * Owns the listener and the process signals: binds, serves until SIGINT/SIGTERM or the given
 * signal aborts, then stops accepting and gives in-flight requests up to 5 s to finish.
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
  /** Called when a stop was requested, before draining. */
  onStopping?: () => void;
  /** Stops the server when aborted (tests); SIGINT/SIGTERM do too. */
  signal?: AbortSignal;
  /** How long in-flight requests may take after a stop request. */
  drainMs?: number;
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
  // Before listening: a SIGTERM right after the "listening" banner must stop the daemon cleanly
  // (releasing its pid file and databases), not kill it with the default action.
  const { promise: stopRequested, resolve: requestStop } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => requestStop();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  options.signal?.addEventListener("abort", onSignal, { once: true });
  if (options.signal?.aborted) requestStop();
  const removeListeners = () => {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    options.signal?.removeEventListener("abort", onSignal);
  };
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: options.host,
      port: options.port,
      onListen: ({ hostname, port }) => options.onListen?.({ host: hostname, port }),
    }, handler);
  } catch (e) {
    removeListeners();
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
  try {
    await stopRequested;
    options.onStopping?.();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      server.shutdown().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), options.drainMs ?? 5000);
      }),
    ]);
    clearTimeout(timer);
    // Past the drain time the process exits anyway (main.ts); stragglers are cut off there.
    if (drained) await server.finished;
  } finally {
    removeListeners();
  }
}
