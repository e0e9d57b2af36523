/**
 * User volumes (`agent.volumes`): `source:target[:ro|rw]`, read-only by default, `~` expanded,
 * and refused — as written and after resolving `..` and symlinks on the host — by the mount rule
 * of `host_paths.ts` (ARCHITECTURE.md §3.8): the host's system folders, homes and credential
 * folders, `$PYLON_HOME`, the Docker socket in use, and targets under `/workspace` or `/pylon`.
 * The config loader applies the same rule when a pylon loads; this is the check that counts,
 * made right before the container is created.
 *
 * @module
 */

import { isAbsolute, join, normalize } from "node:path";
import { PylonError } from "../errors.ts";
import { blockedMountTarget, checkHostPath, type HostPathContext } from "../host_paths.ts";
import type { MountSpec } from "../docker/mod.ts";

/** Resolves and checks `agent.volumes`. @throws {PylonError} naming the bad entry */
export async function resolveVolumes(
  entries: readonly string[],
  options: { home: string | undefined; hostPaths: HostPathContext },
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
    const reserved = blockedMountTarget(target);
    if (reserved) throw bad(entry, `mounting it there is not allowed: ${reserved}`);
    let source = rawSource;
    if (source === "~" || source.startsWith("~/")) {
      if (!options.home) throw bad(entry, "~ cannot be expanded: HOME is not set");
      source = join(options.home, source.slice(1));
    }
    if (!isAbsolute(source)) {
      throw bad(entry, "the source must be an absolute path or start with ~");
    }
    const checked = await checkHostPath(source, options.hostPaths);
    if (!checked.ok) throw bad(entry, `mounting it is not allowed: ${checked.problem}`);
    try {
      await Deno.stat(checked.real);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw bad(entry, `${source} does not exist on this host`);
      }
      throw e;
    }
    const real = checked.real;
    mounts.push({ Type: "bind", Source: real, Target: normalize(target), ReadOnly: mode !== "rw" });
  }
  return mounts;
}

function bad(entry: string, why: string): PylonError {
  return new PylonError(`Invalid agent.volumes entry "${entry}": ${why}`, {
    hint: "edit agent.volumes in the pylon's pylon.yaml",
  });
}
