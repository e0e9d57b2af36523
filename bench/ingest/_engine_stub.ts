/**
 * A stand-in Docker Engine on a unix socket, so the daemon under test starts (its runner lists
 * leftover containers at start-up) but runs no job: it answers `GET /containers/json` with `[]`
 * and 503 to everything else, including `/_ping`. The runner then reports the Engine unavailable,
 * the dispatcher pauses, and every accepted job stays `queued`, exactly what a daemon whose
 * Docker went down does. The benchmark measures ingest; it must neither build agent images nor
 * start containers on the machine it runs on, and must not need Docker at all.
 *
 * @module
 */

/** The stub Engine; `DOCKER_HOST` is what to hand the daemon. */
export interface EngineStub extends AsyncDisposable {
  readonly dockerHost: string;
}

/** The Engine API version pinned for the daemon (`DOCKER_API_VERSION`), skipping negotiation. */
export const STUB_API_VERSION = "1.47";

/** Serves the stub on `socketPath` until disposed. */
export function startEngineStub(socketPath: string): EngineStub {
  const server = Deno.serve(
    { path: socketPath, onListen: () => {} },
    function engineStub(req) {
      const path = new URL(req.url).pathname;
      if (req.method === "GET" && /\/containers\/json$/.test(path)) return Response.json([]);
      return Response.json({ message: "no Docker Engine in the ingest benchmark" }, {
        status: 503,
      });
    },
  );
  return {
    dockerHost: `unix://${socketPath}`,
    [Symbol.asyncDispose]: async () => {
      await server.shutdown();
      await Deno.remove(socketPath).catch(() => {});
    },
  };
}
