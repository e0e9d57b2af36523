/**
 * A git smart-HTTP server on 127.0.0.1 that wants Basic credentials, as GitHub does for a
 * private repository over https: `git http-backend` behind a small Deno server. Every request
 * without the expected user and password gets 401 with `WWW-Authenticate`, so git asks its
 * credential helpers; the `Authorization` headers it received are kept for the test to read.
 *
 * @module
 */

import { HERMETIC_ENV } from "../workspace/_fixture.ts";

/** A running server. */
export interface GitHttpServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>/<name>` (no credentials). */
  url(name: string): string;
  /** The `user:password` of every authenticated request, in order (decoded). */
  readonly logins: string[];
  /** How many requests came without (or with wrong) credentials. */
  readonly refused: number;
}

/**
 * Serves the bare repositories under `baseDir` (read and push) to clients that present
 * `user`/`password`.
 */
export function startGitHttpServer(
  baseDir: string,
  credentials: { user: string; password: string },
): GitHttpServer {
  const logins: string[] = [];
  let refused = 0;
  const expected = "Basic " + btoa(`${credentials.user}:${credentials.password}`);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async function gitHttp(req) {
      const auth = req.headers.get("authorization");
      if (auth?.startsWith("Basic ")) logins.push(atob(auth.slice(6)));
      if (auth !== expected) {
        refused++;
        await req.body?.cancel();
        return new Response("credentials, please\n", {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="pylon-test"' },
        });
      }
      return await backend(req, baseDir, credentials.user);
    },
  );
  return {
    url: (name) => `http://127.0.0.1:${server.addr.port}/${name}`,
    logins,
    get refused() {
      return refused;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** Runs one request through `git http-backend` (CGI) and turns its output into a Response. */
async function backend(req: Request, baseDir: string, user: string): Promise<Response> {
  const url = new URL(req.url);
  const child = new Deno.Command("git", {
    args: ["http-backend"],
    env: {
      ...HERMETIC_ENV,
      GIT_PROJECT_ROOT: baseDir,
      GIT_HTTP_EXPORT_ALL: "1",
      REMOTE_USER: user,
      REQUEST_METHOD: req.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers.get("content-type") ?? "",
      ...(req.headers.get("content-encoding")
        ? { HTTP_CONTENT_ENCODING: req.headers.get("content-encoding")! }
        : {}),
      ...(req.headers.get("git-protocol")
        ? { GIT_PROTOCOL: req.headers.get("git-protocol")! }
        : {}),
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const body = req.body ? new Uint8Array(await req.arrayBuffer()) : new Uint8Array();
  const writer = child.stdin.getWriter();
  await writer.write(body);
  await writer.close();
  const out = (await child.output()).stdout;
  const split = indexOfBlankLine(out);
  const head = new TextDecoder().decode(out.subarray(0, split.at));
  const headers = new Headers();
  let status = 200;
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
    else headers.append(name, value);
  }
  return new Response(out.subarray(split.at + split.length), { status, headers });
}

function indexOfBlankLine(bytes: Uint8Array): { at: number; length: number } {
  for (let i = 0; i < bytes.length - 1; i++) {
    if (bytes[i] === 10 && bytes[i + 1] === 10) return { at: i, length: 2 };
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return { at: i, length: 4 };
    }
  }
  return { at: bytes.length, length: 0 };
}
