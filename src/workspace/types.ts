/**
 * The shapes the workspace area exchanges with the runner: what to prepare, where, with what,
 * and the folder (plus mounts) that came out of it.
 *
 * @module
 */

import type { HostPathContext } from "../host_paths.ts";
import type { Logger } from "../log/mod.ts";
import type { GitRunner } from "./git_runner.ts";

/** The four workspace kinds of `pylon.yaml`. */
export type WorkspaceType = "git-clone" | "git-worktree" | "local" | "none";

/** `workspace` of a pylon, with `repo` and `ref` already rendered from their templates. */
export interface WorkspaceSpec {
  type: WorkspaceType;
  /** URL (git-clone) or local repository path (git-worktree); untrusted when templated. */
  repo?: string | undefined;
  /** Branch, tag or commit; untrusted when templated. */
  ref?: string | undefined;
  /** Host folder of a `local` workspace. */
  path?: string | undefined;
  /**
   * Set when `repo` was rendered from a template, so the payload picked it: it must match
   * {@linkcode allowedRepos} and may never be a local path or `file://` URL.
   */
  repoFromPayload?: boolean | undefined;
  /** `workspace.allowed_repos`: the repositories a payload may pick. */
  allowedRepos?: readonly string[] | undefined;
  /**
   * `workspace.push`: hand the repository's credentials to the agent, through a credential
   * helper that answers only for that repository (git-clone).
   */
  push?: boolean | undefined;
}

/** Where a job's workspace goes. */
export interface WorkspaceTarget {
  /** `$PYLON_HOME/jobs/<id>`; the workspace is created as `<jobDir>/workspace`. */
  jobDir: string;
  /** `$PYLON_HOME/repos`, home of the cached mirrors. */
  reposDir: string;
  /** A previous job's workspace (`hostPath`) to continue in, for follow-ups. */
  reuse?: string | undefined;
}

/** What preparing and removing a workspace needs. */
export interface WorkspaceDeps {
  git: GitRunner;
  log: Logger;
  signal?: AbortSignal | undefined;
  /** Home folder for `~` in `repo`/`path`; default: `HOME` of the daemon's environment. */
  home?: string | undefined;
  /**
   * What the mount rule of a `local` workspace protects (`$PYLON_HOME`, the Docker socket in
   * use); default: read from the daemon's environment.
   */
  hostPaths?: HostPathContext | undefined;
}

/** A host folder the container needs mounted at `containerPath`. */
export interface ExtraMount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

/** A workspace ready to be mounted into the agent's container. */
export interface PreparedWorkspace {
  /** The folder to mount as the container's workspace; null for none (never, today). */
  hostPath: string | null;
  /** Whether to mount it read-only. */
  readOnly: boolean;
  /**
   * Extra host paths the container needs mounted at the same path (a worktree's repository
   * `.git`). Mount them in this order: a later entry may sit inside an earlier one.
   */
  extraMounts: ExtraMount[];
  /** One line for logs and job details, credentials redacted. */
  description: string;
  /** The checked-out commit (40 hex), for git workspaces with at least one commit. */
  commit?: string;
}
