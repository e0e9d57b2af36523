/**
 * Credentials of a repository URL (`https://x-access-token:${TOKEN}@host/repo.git`) reach git
 * through a credential helper, never through its command line (which `ps` shows to every local
 * user) or a repository's config (which the agent reads in its workspace).
 *
 * - pylon's own git (mirror fetches, `ls-remote`): `-c credential.helper=` drops the user's
 *   helpers (so nothing stores the token), then a helper reads the credentials from variables of
 *   that one git process, and answers only for the URL's own scheme and host (a redirect to
 *   another host gets nothing);
 * - the agent, only with `workspace.push: true` (issue 19, item 4): its workspace's config names
 *   a helper scoped to that repository's URL (`credential.<url>.helper`, `useHttpPath`), the
 *   image's own {@linkcode AGENT_CREDENTIAL_HELPER} (root's, read-only to the agent), which asks
 *   the job's channel (`GET /agent/v1/jobs/<id>/git-credential`, the job token) and answers only
 *   for that repository's scheme, host and path. No file, URL or variable of the container holds
 *   the credential; the daemon serves it from its own folder while the job's token is valid and
 *   deletes it when the job ends ({@linkcode agentCredentialJson} is what it serves).
 *
 * Design note, what this does and does not stop: the agent holds its job token (it must, to call
 * the model through the gateway and to push), so it can ask the channel for the credential
 * itself while the job runs, as the helper does. What it cannot do is find the credential at
 * rest (a file, the environment, a URL in `.git/config`), get one for another host or
 * repository from pylon, or use its token once the job has ended. A token that must never reach
 * the agent at all would need the daemon to relay git's smart HTTP itself, as the model gateway
 * relays the Messages API.
 *
 * @module
 */

import type { RepoUrl } from "./repo_url.ts";

/** Arguments (before git's subcommand) and environment that authenticate one git command. */
export interface GitAuth {
  args: string[];
  env: Record<string, string> | undefined;
}

/** The credential helper in pylon's images (`pylon-init.mjs credential`, agents/_shared). */
export const AGENT_CREDENTIAL_HELPER = "/usr/local/lib/pylon/pylon-init.mjs";

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

/**
 * What the job's channel serves at `git-credential` (JSON): the credential, the origin it is for
 * (`scheme://host[:port]`) and the repository's path, so the helper answers for nothing else;
 * undefined when the URL carried no credentials.
 */
export function agentCredentialJson(repo: RepoUrl): string | undefined {
  const c = repo.credentials;
  if (!c) return undefined;
  const path = new URL(repo.url).pathname.replace(/^\/+/, "");
  return JSON.stringify({ ...c, path }) + "\n";
}

/**
 * `git config` settings of the agent's workspace: a helper for `repo.url` alone, the image's
 * {@linkcode AGENT_CREDENTIAL_HELPER}, after an empty value that drops any other helper for it.
 */
export function agentHelperConfig(repo: RepoUrl): [key: string, value: string][] {
  const section = `credential.${repo.url}`;
  return [
    [`${section}.helper`, ""],
    [`${section}.helper`, `!node ${AGENT_CREDENTIAL_HELPER} credential`],
    [`${section}.useHttpPath`, "true"],
  ];
}
