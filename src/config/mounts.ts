/**
 * The mount rule of `host_paths.ts` applied when a pylon loads: each `agent.volumes` source and
 * a `local` workspace's `path`, as written (`~` expanded) and resolved through symlinks as far
 * as they exist. The runner applies the same rule again right before a container is created, so
 * a link changed after loading is still caught.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { checkHostPath, type HostPathContext } from "../host_paths.ts";
import type { PylonConfig } from "./schema.ts";

/** One refused mount, at its key path. */
export interface MountIssue {
  path: (string | number)[];
  message: string;
}

/** The refused host paths of `config`. `home` expands `~`. */
export async function mountIssues(
  config: PylonConfig,
  ctx: { home: string | undefined; hostPaths: HostPathContext },
): Promise<MountIssue[]> {
  const issues: MountIssue[] = [];
  const expand = (p: string) =>
    (p === "~" || p.startsWith("~/")) && ctx.home ? join(ctx.home, p.slice(1)) : p;
  for (const [i, entry] of config.agent.volumes.entries()) {
    const source = expand(entry.split(":")[0] ?? "");
    if (!isAbsolute(source)) continue; // its shape is reported by validate.ts
    const checked = await checkHostPath(source, ctx.hostPaths);
    if (!checked.ok) {
      issues.push({
        path: ["agent", "volumes", i],
        message: `"${entry}": mounting it is not allowed: ${checked.problem}`,
      });
    }
  }
  const local = config.workspace.type === "local" ? config.workspace.path : undefined;
  if (local && isAbsolute(expand(local))) {
    const checked = await checkHostPath(expand(local), ctx.hostPaths);
    if (!checked.ok) {
      issues.push({
        path: ["workspace", "path"],
        message: `mounting it is not allowed: ${checked.problem}`,
      });
    }
  }
  return issues;
}
