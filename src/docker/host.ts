/**
 * Parses where the Docker Engine listens (`DOCKER_HOST` syntax) into a fetch base URL.
 * Pure: the environment is passed in, never read here.
 *
 * @module
 */

import { DockerError } from "./errors.ts";

/** The socket Docker listens on when `DOCKER_HOST` is not set. */
export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

/** Where to send Engine requests. */
export type DockerEndpoint =
  | {
    kind: "unix";
    /** Path of the Unix socket. */
    socketPath: string;
    /** Placeholder origin used for requests over the socket. */
    baseUrl: string;
    /** How the endpoint is shown to users, e.g. `/var/run/docker.sock`. */
    display: string;
  }
  | {
    kind: "tcp";
    /** `http://host:port` or `https://host:port`. */
    baseUrl: string;
    /** Whether TLS is used (`https:`, or `tcp:` with `DOCKER_TLS_VERIFY`). */
    tls: boolean;
    /** How the endpoint is shown to users, e.g. `tcp://10.0.0.5:2375`. */
    display: string;
  };

const HOST_HINT = "set DOCKER_HOST to `unix:///path/to/docker.sock` or `tcp://host:port`";

/**
 * Resolves the endpoint from an explicit host, else `env.DOCKER_HOST`, else the default socket.
 *
 * Accepts `unix:///path`, a bare absolute path, `tcp://host[:port]` (2375, or 2376 with
 * `DOCKER_TLS_VERIFY`), `http://` and `https://`.
 *
 * @throws {DockerError} for a scheme pylon cannot speak (`ssh://`, `npipe://`) or a malformed value
 */
export function parseDockerHost(
  host: string | undefined,
  env: Readonly<Record<string, string | undefined>> = {},
): DockerEndpoint {
  const value = (host ?? env.DOCKER_HOST ?? "").trim();
  if (value === "") return unixEndpoint(DEFAULT_DOCKER_SOCKET);
  if (value.startsWith("/")) return unixEndpoint(value);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme === "unix") {
    const path = value.slice("unix://".length);
    if (!path.startsWith("/")) throw invalid(value, "the socket path must be absolute");
    return unixEndpoint(path);
  }
  if (scheme === "tcp" || scheme === "http" || scheme === "https") {
    const tls = scheme === "https" || (scheme === "tcp" && truthy(env.DOCKER_TLS_VERIFY));
    let url: URL;
    try {
      url = new URL(value.replace(/^tcp:/i, tls ? "https:" : "http:"));
    } catch (cause) {
      throw invalid(value, "it is not a valid address", cause);
    }
    if (url.hostname === "") throw invalid(value, "the host name is missing");
    const port = url.port || (tls ? "2376" : "2375");
    const path = url.pathname.replace(/\/+$/, "");
    const baseUrl = `${url.protocol}//${url.hostname}:${port}${path}`;
    const shown = `${scheme === "tcp" ? "tcp:" : url.protocol}//${url.hostname}:${port}${path}`;
    return { kind: "tcp", baseUrl, tls, display: shown };
  }
  if (scheme === undefined) throw invalid(value, "it has no scheme");
  throw invalid(value, `the scheme "${scheme}" is not supported`);
}

function unixEndpoint(socketPath: string): DockerEndpoint {
  return { kind: "unix", socketPath, baseUrl: "http://docker", display: socketPath };
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
}

function invalid(value: string, why: string, cause?: unknown): DockerError {
  return new DockerError(`Cannot use DOCKER_HOST "${value}": ${why}`, {
    op: "connect",
    hint: HOST_HINT,
    cause,
  });
}
