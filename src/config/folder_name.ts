/**
 * A folder under `pylons/` whose name cannot be a pylon name (names become URL paths, container
 * names and database folders): the problem, and the exact rename that fixes it.
 *
 * @module
 */

import type { ConfigIssue } from "../errors.ts";
import { pylonNameProblem, renameHint, suggestPylonName } from "./names.ts";
import { displayPath, type PylonPaths } from "./paths.ts";
import { rawValueAt, readRawPylon } from "./raw.ts";

/**
 * Why the folder `name` cannot hold a pylon, and the fix: a rename to a free name close to it
 * (`My Pylon` → `my-pylon`, or `my-pylon-2` when that folder exists); `undefined` when the name
 * is fine.
 *
 * @param text the folder's `pylon.yaml`, to see whether its `name:` needs changing too
 */
export async function folderNameProblem(
  paths: PylonPaths,
  name: string,
  home: string | undefined,
  text: string,
): Promise<{ issue: ConfigIssue; hint: string } | undefined> {
  const problem = pylonNameProblem(name);
  if (problem === undefined) return undefined;
  const base = suggestPylonName(name);
  let target = base;
  for (let n = 2; await exists(paths.pylonDir(target)); n++) target = `${base.slice(0, 60)}-${n}`;
  const yamlName = rawValueAt(readRawPylon(text)?.tree, "name");
  return {
    issue: {
      keyPath: "",
      message:
        `the folder name "${name}" is not a valid pylon name (${problem}); rename it to ${target}`,
    },
    hint: renameHint(displayPath(paths.pylonsDir, home), name, target, yamlName),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
