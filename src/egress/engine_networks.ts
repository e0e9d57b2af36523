/**
 * {@linkcode JobNetworks} on the Engine client: the internal bridge network jobs with an egress
 * list run on, created once and reused (a network of that name that is not internal is refused:
 * it would let jobs around the proxy).
 *
 * @module
 */

import type { DockerClient } from "../docker/mod.ts";
import { PylonError } from "../errors.ts";
import type { JobNetworks } from "./service.ts";

/** The Engine's networks as the egress service needs them; null when the client has none. */
export function engineJobNetworks(docker: DockerClient): JobNetworks | null {
  const api = docker.networks;
  if (!api) return null;
  return {
    async ensureInternal(name, labels) {
      let info = await api.inspect(name);
      if (!info) {
        // Another daemon may create it at the same moment: inspect again either way.
        await api.create({ name, internal: true, labels }).catch(() => {});
        info = await api.inspect(name);
      }
      if (!info) throw new PylonError(`Cannot create the job network "${name}"`);
      if (!info.Internal) {
        throw new PylonError(`The network "${name}" exists but is not internal`, {
          hint: `jobs on it could bypass the egress proxy; remove it (docker network rm ${name})`,
        });
      }
      const gateway = info.IPAM?.Config?.find((c) => c.Gateway && !c.Gateway.includes(":"))
        ?.Gateway;
      if (!gateway) throw new PylonError(`The network "${name}" has no IPv4 gateway`);
      return { gateway };
    },
  };
}
