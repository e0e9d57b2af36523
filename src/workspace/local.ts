/**
 * The local and none workspaces. A local workspace is the user's own folder, mounted read-write
 * as it is and never deleted; none is an empty folder in the job's directory.
 *
 * A local path is checked as written and resolved (`~`, `..`, symlinks) by the mount rule of
 * `host_paths.ts`, the same as `agent.volumes` (ARCHITECTURE.md §3.8): no system folder, home,
 * credential folder, `$PYLON_HOME` or Docker socket, nor any folder holding one.
 *
 * @module
 */

import { isAbsolute } from "node:path";
import { checkHostPath, hostPathContext } from "../host_paths.ts";
import { quote, WorkspaceError } from "./errors.ts";
import { expandHome } from "./repo_url.ts";
import type { PreparedWorkspace, WorkspaceDeps, WorkspaceSpec } from "./types.ts";

const PATH_HINT = "set workspace.path to an existing folder on the daemon's host (absolute, or " +
  "starting with ~)";

/** Checks `spec.path` and returns it, resolved, as the workspace. */
export async function prepareLocal(
  spec: WorkspaceSpec,
  deps: Pick<WorkspaceDeps, "home" | "log" | "hostPaths">,
): Promise<PreparedWorkspace> {
  const value = spec.path ?? "";
  const fail = (problem: string) =>
    new WorkspaceError(`Cannot use workspace.path ${quote(value)}: ${problem}`, {
      field: "workspace.path",
      hint: PATH_HINT,
    });
  if (value === "") throw fail("it is not set");
  if (/\p{Cc}/u.test(value)) throw fail("it contains a control character");
  const expanded = expandHome(value, deps.home);
  if (!isAbsolute(expanded)) throw fail("it is not an absolute path");
  const hostPaths = deps.hostPaths ?? await hostPathContext({ env: { HOME: deps.home } });
  const checked = await checkHostPath(expanded, hostPaths);
  if (!checked.ok) throw fail(`mounting it is not allowed: ${checked.problem}`);
  const real = checked.real;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(real);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw fail("no such folder");
    if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
      throw fail("permission denied");
    }
    throw e;
  }
  if (!info.isDirectory) throw fail(`${real} is not a folder`);
  deps.log.info("workspace.local", { path: real });
  return {
    hostPath: real,
    readOnly: false,
    extraMounts: [],
    description: real === expanded ? `local folder ${real}` : `local folder ${real} (${value})`,
  };
}

/** Creates the empty `workspace` folder of a none workspace. */
export async function prepareNone(workspace: string): Promise<PreparedWorkspace> {
  await Deno.mkdir(workspace, { recursive: true });
  return { hostPath: workspace, readOnly: false, extraMounts: [], description: "empty workspace" };
}
