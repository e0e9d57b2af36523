/**
 * Which host paths may never be mounted into an agent container (ARCHITECTURE.md §3.8): `/`,
 * `/etc`, `/root`, `/run`, `/var`, anything under `/etc`, `/proc`, `/sys`, `/dev`, `/boot` or
 * `/var/lib/docker`, and any path that is or contains the Docker socket. One rule, shared by
 * config validation, `agent.volumes` and local workspaces.
 *
 * @module
 */

import { normalize } from "node:path";

const BLOCKED_EXACT = ["/", "/etc", "/root", "/run", "/var", "/var/run", "/var/lib"];
const BLOCKED_TREES = ["/etc", "/proc", "/sys", "/dev", "/boot", "/var/lib/docker"];
const SOCKETS = ["/var/run/docker.sock", "/run/docker.sock"];

/** Options of {@linkcode blockedHostPath}. */
export interface BlockedPathOptions {
  /** More paths refused exactly (not their subfolders), e.g. `/home` for a read-write mount. */
  extraExact?: readonly string[];
  /** The Docker socket in use, when it is not at a standard place. */
  dockerSocket?: string | undefined;
}

/** Why `path` (already resolved) may not be mounted, or undefined when it may. */
export function blockedHostPath(
  path: string,
  options: BlockedPathOptions = {},
): string | undefined {
  const p = normalize(path).replace(/(.)\/+$/, "$1");
  const under = (root: string) => p === root || p.startsWith(root + "/");
  if (BLOCKED_EXACT.includes(p) || options.extraExact?.includes(p)) return `${p} exposes the host`;
  const tree = BLOCKED_TREES.find(under);
  if (tree) return `${p} is inside ${tree}`;
  const sockets = options.dockerSocket ? [...SOCKETS, options.dockerSocket] : SOCKETS;
  const socket = sockets.find((s) => under(s) || s.startsWith(p + "/"));
  if (socket) return `${p} is or contains the Docker socket ${socket}`;
  return undefined;
}
