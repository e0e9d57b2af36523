/**
 * A scripted Docker Engine HTTP server on a Unix socket in a temp folder, for unit tests of the
 * real client's HTTP layer (version negotiation, error mapping, query encoding) without Docker.
 *
 * @module
 */

import { join } from "node:path";

/** One request the fake engine received. */
export interface RecordedRequest {
  method: string;
  /** Path including the version prefix, e.g. `/v1.47/containers/json`. */
  path: string;
  query: URLSearchParams;
  body: string;
}

/** A running fake engine; `await using` shuts it down and removes the socket. */
export interface FakeEngine extends AsyncDisposable {
  socketPath: string;
  /** `unix://` host string for `createDockerClient({ host })`. */
  host: string;
  requests: RecordedRequest[];
}

/** Answers `/version` with these API versions unless the handler does. */
export interface FakeEngineOptions {
  apiVersion?: string;
  minApiVersion?: string;
}

/** Starts a fake engine; `handler` returns undefined to fall through to the defaults (404). */
export async function startFakeEngine(
  handler: (req: RecordedRequest) => Response | undefined | Promise<Response | undefined>,
  opts: FakeEngineOptions = {},
): Promise<FakeEngine> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-fake-engine-" });
  const socketPath = join(dir, "docker.sock");
  const requests: RecordedRequest[] = [];
  const server = Deno.serve({ path: socketPath, transport: "unix", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const rec = {
      method: req.method,
      path: url.pathname,
      query: url.searchParams,
      body: await req.text(),
    };
    requests.push(rec);
    const res = await handler(rec);
    if (res) return res;
    if (rec.path === "/version") {
      return Response.json({
        Version: "fake",
        ApiVersion: opts.apiVersion ?? "1.47",
        MinAPIVersion: opts.minApiVersion ?? "1.24",
        Os: "linux",
        Arch: "amd64",
      });
    }
    if (rec.path === "/_ping") return new Response("OK");
    return Response.json({ message: `page not found: ${rec.path}` }, { status: 404 });
  });
  return {
    socketPath,
    host: `unix://${socketPath}`,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
