/** What the `pylon doctor` tests share: a Docker Engine stand-in, no network, a free port. */

import type { FetchFn } from "../../src/cli/doctor/mod.ts";
import type { DockerClient } from "../../src/docker/mod.ts";

/** A Docker Engine that answers and has every image. */
export const fakeDocker = {
  version: () => Promise.resolve({ Version: "27.1.1", ApiVersion: "1.46", Os: "linux", Arch: "x" }),
  inspectImage: () => Promise.resolve({ Id: "sha256:0123" }),
  [Symbol.dispose]() {},
} as unknown as DockerClient;

/** A Docker Engine that answers and has no images. */
export const emptyDocker = {
  ...fakeDocker,
  inspectImage: () => Promise.resolve(null),
} as unknown as DockerClient;

/** A network where nothing answers. */
export const offline: FetchFn = () =>
  Promise.reject(new TypeError("error sending request: refused"));

/** A loopback port nothing listens on (for the config's server.port). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
