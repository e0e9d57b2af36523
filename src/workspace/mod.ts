/**
 * The workspace area: prepares the folder an agent works in (git-clone through a cached bare
 * mirror, git-worktree, local, none), removes it afterwards, and is the only place that runs git.
 *
 * `repo` and `ref` arrive rendered from templates and are treated as hostile: they are validated
 * before git runs, passed after `--`, never through a shell, and git may only use the file, git,
 * http(s) and ssh transports. A `repo` the payload picked must be in `workspace.allowed_repos`
 * and may never be on this machine. Credentials in URLs never reach messages, logs, git's
 * command line or a workspace's config: git gets them from a credential helper, and the agent
 * only with `workspace.push: true`.
 *
 * Imports nothing of pylon's except `../errors.ts`, `../log/` and the pure `../host_paths.ts`
 * and `../allowed_repos.ts`.
 *
 * @module
 */

export { prepareWorkspace, removeWorkspace, WORKSPACE_DIR } from "./prepare.ts";
export { ALLOWED_PROTOCOLS, createGitRunner } from "./git_runner.ts";
export type { CreateGitRunnerOptions, GitResult, GitRunner, GitRunOptions } from "./git_runner.ts";
export { remoteReason, repoHost, WorkspaceError } from "./errors.ts";
export type { WorkspaceErrorOptions, WorkspaceField } from "./errors.ts";
export { refProblem, validateRef } from "./ref.ts";
export { parseRepoUrl, redactUrl } from "./repo_url.ts";
export type { RepoCredentials, RepoUrl } from "./repo_url.ts";
export { checkPayloadRepo, workspaceSpecOf } from "./spec.ts";
export type { WorkspaceSettings } from "./spec.ts";
export { AGENT_CREDENTIAL_HELPER, agentCredentialJson, gitAuth } from "./_credentials.ts";
export { pushCredential } from "./git_clone.ts";
export type { GitAuth } from "./_credentials.ts";
export type {
  ExtraMount,
  PreparedWorkspace,
  WorkspaceDeps,
  WorkspaceSpec,
  WorkspaceTarget,
  WorkspaceType,
} from "./types.ts";
