/**
 * User volumes (`agent.volumes`): `source:target[:ro|rw]`, read-only by default, `~` expanded,
 * and refused — after resolving `..` and symlinks on the host — when they would expose the host
 * or the Docker socket (ARCHITECTURE.md §3.8). The config loader checks the text early; this is
 * the check that counts, made right before the container is created.
 *
 * @module
 */

import { isAbsolute, join, normalize } from "node:path";
import { PylonError } from "../errors.ts";
import { blockedHostPath } from "../host_paths.ts";
import type { MountSpec } from "../docker/mod.ts";

/** Why a resolved host path may not be mounted, or undefined when it may. */
export function blockedReason(path: string, dockerSocket?: string): string | undefined {
  return blockedHostPath(path, { dockerSocket });
}

/** Resolves and checks `agent.volumes`. @throws {PylonError} naming the bad entry */
export async function resolveVolumes(
  entries: readonly string[],
  options: { home: string | undefined; dockerSocket?: string | undefined },
): Promise<MountSpec[]> {
  const mounts: MountSpec[] = [];
  for (const entry of entries) {
    const parts = entry.split(":");
    if (parts.length < 2 || parts.length > 3) throw bad(entry, "expected source:target[:ro|rw]");
    const [rawSource, target, mode = "ro"] = parts as [string, string, string?];
    if (mode !== "ro" && mode !== "rw") {
      throw bad(entry, `the mode must be ro or rw, not "${mode}"`);
    }
    if (!isAbsolute(target)) throw bad(entry, "the target must be an absolute path");
    let source = rawSource;
    if (source === "~" || source.startsWith("~/")) {
      if (!options.home) throw bad(entry, "~ cannot be expanded: HOME is not set");
      source = join(options.home, source.slice(1));
    }
    if (!isAbsolute(source)) {
      throw bad(entry, "the source must be an absolute path or start with ~");
    }
    const lexical = blockedReason(source, options.dockerSocket);
    if (lexical) throw bad(entry, `mounting it is not allowed: ${lexical}`);
    let real: string;
    try {
      real = await Deno.realPath(source);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw bad(entry, `${source} does not exist on this host`);
      }
      throw e;
    }
    const resolved = blockedReason(real, options.dockerSocket);
    if (resolved) {
      throw bad(entry, `mounting it is not allowed: it resolves to ${real}, and ${resolved}`);
    }
    mounts.push({ Type: "bind", Source: real, Target: normalize(target), ReadOnly: mode !== "rw" });
  }
  return mounts;
}

function bad(entry: string, why: string): PylonError {
  return new PylonError(`Invalid agent.volumes entry "${entry}": ${why}`, {
    hint: "edit agent.volumes in the pylon's pylon.yaml",
  });
}
