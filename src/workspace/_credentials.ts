/**
 * Credentials of a repository URL (`https://x-access-token:${TOKEN}@host/repo.git`) reach git
 * through a credential helper, never through its command line (which `ps` shows to every local
 * user) or a repository's config (which the agent reads in its workspace).
 *
 * - pylon's own git (mirror fetches, `ls-remote`): `-c credential.helper=` drops the user's
 *   helpers (so nothing stores the token), then a helper reads the credentials from variables of
 *   that one git process, and answers only for the URL's own scheme and host (a redirect to
 *   another host gets nothing);
 * - the agent, only with `workspace.push: true`: its workspace's config names a helper scoped to
 *   that repository's URL (`credential.<url>.helper`, `useHttpPath`), which reads a read-only
 *   file pylon mounts at {@linkcode AGENT_CREDENTIALS_PATH}. Any other remote gets nothing.
 *
 * @module
 */

import type { RepoUrl } from "./repo_url.ts";

/** Arguments (before git's subcommand) and environment that authenticate one git command. */
export interface GitAuth {
  args: string[];
  env: Record<string, string> | undefined;
}

/** Where the agent's credential file is mounted (`workspace.push: true`). */
export const AGENT_CREDENTIALS_PATH = "/pylon/git-credentials";

// Reads git's request on stdin and answers only for the expected origin. No secret in here.
const PYLON_HELPER = '!f() { test "$1" = get || exit 0; p=; h=; ' +
  'while IFS= read -r l; do case "$l" in protocol=*) p=${l#protocol=};; host=*) h=${l#host=};; ' +
  'esac; done; test "$p://$h" = "$PYLON_GIT_ORIGIN" || exit 0; ' +
  'printf "username=%s\\npassword=%s\\n" "$PYLON_GIT_USERNAME" "$PYLON_GIT_PASSWORD"; }; f';

/** How pylon's own git authenticates to `repo`; nothing when its URL carried no credentials. */
export function gitAuth(repo: RepoUrl): GitAuth {
  const c = repo.credentials;
  if (!c) return { args: [], env: undefined };
  return {
    args: ["-c", "credential.helper=", "-c", `credential.helper=${PYLON_HELPER}`],
    env: {
      PYLON_GIT_ORIGIN: c.origin,
      PYLON_GIT_USERNAME: c.username,
      PYLON_GIT_PASSWORD: c.password,
    },
  };
}

/** The content of the agent's credential file: git's credential format. */
export function agentCredentialFile(repo: RepoUrl): string | undefined {
  const c = repo.credentials;
  if (!c) return undefined;
  return `username=${c.username}\npassword=${c.password}\n`;
}

/**
 * `git config` settings of the agent's workspace: a helper for `repo.url` alone that reads
 * {@linkcode AGENT_CREDENTIALS_PATH}, after an empty value that drops any other helper for it.
 */
export function agentHelperConfig(repo: RepoUrl): [key: string, value: string][] {
  const section = `credential.${repo.url}`;
  return [
    [`${section}.helper`, ""],
    [`${section}.helper`, `!f() { test "$1" = get && cat ${AGENT_CREDENTIALS_PATH}; }; f`],
    [`${section}.useHttpPath`, "true"],
  ];
}
