/**
 * From a pylon's `workspace` settings and the job's rendered `repo`/`ref` to a
 * {@linkcode WorkspaceSpec}, and the rule for a repository a payload picked: it must match
 * `workspace.allowed_repos` and may never be on this machine (a path or `file://`). A
 * repository written literally in `pylon.yaml` is the operator's choice and is not limited.
 *
 * @module
 */

import { isLocalRepo, repoAllowed } from "../allowed_repos.ts";
import { quote, WorkspaceError } from "./errors.ts";
import { redactUrl } from "./repo_url.ts";
import type { WorkspaceSpec, WorkspaceType } from "./types.ts";

/** The `workspace` section of `pylon.yaml`, as the config module parsed it. */
export interface WorkspaceSettings {
  type: WorkspaceType;
  repo?: string | undefined;
  ref?: string | undefined;
  path?: string | undefined;
  "allowed_repos"?: string[] | undefined;
  push?: boolean | undefined;
}

/** The spec of one job: `settings` with `repo` and `ref` as rendered for it. */
export function workspaceSpecOf(
  settings: WorkspaceSettings,
  rendered: { repo: string | undefined; ref: string | undefined },
): WorkspaceSpec {
  return {
    type: settings.type,
    repo: rendered.repo,
    ref: rendered.ref,
    path: settings.path,
    repoFromPayload: settings.repo?.includes("{{") ?? false,
    allowedRepos: settings.allowed_repos,
    push: settings.push,
  };
}

/**
 * Refuses a repository the payload picked unless `workspace.allowed_repos` lists it.
 *
 * @throws {WorkspaceError} naming `workspace.repo`
 */
export function checkPayloadRepo(spec: WorkspaceSpec): void {
  if (!spec.repoFromPayload || spec.repo === undefined) return;
  const shown = quote(redactUrl(spec.repo));
  if (spec.type === "git-worktree" || isLocalRepo(spec.repo)) {
    throw new WorkspaceError(
      `Cannot use workspace.repo ${shown}: it was rendered from the event, and a repository ` +
        "an event picks may not be on this machine (a path or file:// URL)",
      {
        field: "workspace.repo",
        hint: "write local repositories literally in pylon.yaml; an event may only pick " +
          "remote repositories listed in workspace.allowed_repos",
      },
    );
  }
  if (!repoAllowed(spec.repo, spec.allowedRepos ?? [])) {
    const listed = spec.allowedRepos?.length
      ? `workspace.allowed_repos (${spec.allowedRepos.join(", ")})`
      : "workspace.allowed_repos, which is not set";
    throw new WorkspaceError(
      `Cannot use workspace.repo ${shown}: it was rendered from the event and is not in ${listed}`,
      {
        field: "workspace.repo",
        hint: "add the repository (or a pattern such as acme/*) to workspace.allowed_repos " +
          "if the event may pick it",
      },
    );
  }
}
