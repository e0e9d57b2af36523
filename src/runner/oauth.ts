/**
 * Claude Code's OAuth login on the host, as the files a job may see (issue 12, item 14): only
 * `.credentials.json` from the `oauth_path` folder and the `.claude.json` beside that folder
 * (`~/.claude.json`; else the one inside it). The folder itself also holds every project's
 * transcripts, history and settings, and is never mounted.
 *
 * @module
 */

import { dirname, join } from "node:path";

/** Host files to mount read-only for a Claude agent using OAuth. */
export interface OAuthFiles {
  /** `<oauth_path>/.credentials.json`. */
  oauthCredentials?: string;
  /** `~/.claude.json` (or `<oauth_path>/.claude.json`). */
  oauthJson?: string;
}

/** The credential files under `oauthPath` (`~` is `home`) that exist as regular files. */
export async function oauthFiles(
  oauthPath: string | undefined,
  home: string | undefined,
): Promise<OAuthFiles> {
  if (!oauthPath) return {};
  const dir = oauthPath === "~" || oauthPath.startsWith("~/")
    ? join(home ?? "", oauthPath.slice(1))
    : oauthPath;
  const out: OAuthFiles = {};
  const credentials = join(dir, ".credentials.json");
  if (await isFile(credentials)) out.oauthCredentials = credentials;
  for (const json of [join(dirname(dir), ".claude.json"), join(dir, ".claude.json")]) {
    if (await isFile(json)) {
      out.oauthJson = json;
      break;
    }
  }
  return out;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
