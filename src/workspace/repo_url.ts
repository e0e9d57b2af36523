/**
 * `workspace.repo` of a git-clone workspace: which URLs are allowed, how credentials in them are
 * hidden from messages and logs, and the normalised form that names a repository's mirror.
 *
 * Allowed: `https://`, `http://`, `ssh://`, `git://`, `file://` URLs, scp-style
 * `[user@]host:path` and absolute local paths (`~` expanded). Everything else — `ext::…` and
 * other `<helper>::` remotes, options in disguise (`--upload-pack=…`), whitespace and control
 * characters — is refused before git runs. The runner's `GIT_ALLOW_PROTOCOL` is the second wall.
 *
 * @module
 */

import { isAbsolute, join, normalize } from "node:path";
import { quote, WorkspaceError } from "./errors.ts";

/** A `workspace.repo` that passed validation. */
export interface RepoUrl {
  /**
   * What git is given: the value as written, `~` expanded, without credentials. Never put the
   * credentials on git's command line or in a repository's config: pass them with
   * `gitAuth()` (`_credentials.ts`).
   */
  url: string;
  /** The user name and password (decoded) an http(s) URL carried, for the credential helper. */
  credentials?: RepoCredentials | undefined;
  /** For messages and logs: credentials replaced by `***`. */
  display: string;
  /** Same repository, same key: lower-case scheme and host, no credentials, no `.git`. */
  normalized: string;
  /** Hides the URL's credentials in any text (git's stderr). */
  redact: (text: string) => string;
}

/** Credentials of an http(s) repository URL, and the origin they belong to. */
export interface RepoCredentials {
  /** `scheme://host[:port]` exactly as git will name it to a credential helper. */
  origin: string;
  username: string;
  password: string;
}

const SCHEMES = ["https", "http", "ssh", "git", "file"];
const SCHEME_REGEXP = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const SCP_REGEXP = /^(?:([A-Za-z0-9._~+][A-Za-z0-9._~+-]*)@)?([A-Za-z0-9][A-Za-z0-9.-]*):(.+)$/;
const UNSAFE_REGEXP = /[\s\p{Cc}]/u;
const USERINFO_REGEXP = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/@\s]*)@/g;

const REPO_HINT = "workspace.repo must be an https://, http://, ssh://, git:// or file:// URL, " +
  "git@host:path, or an absolute path; when it is a template, check the payload it was " +
  "rendered from";

/** Expands a leading `~` (alone or `~/…`) with `home`. */
export function expandHome(path: string, home: string | undefined): string {
  if (path !== "~" && !path.startsWith("~/")) return path;
  if (!home) {
    throw new WorkspaceError(`Cannot expand "~" in ${quote(path)}: HOME is not set`, {
      hint: "write the absolute path instead, or set HOME for the daemon",
    });
  }
  return join(home, path.slice(1));
}

function refuse(value: string, problem: string): WorkspaceError {
  return new WorkspaceError(`Cannot use workspace.repo ${quote(redactUrl(value))}: ${problem}`, {
    field: "workspace.repo",
    hint: REPO_HINT,
  });
}

/**
 * Checks a git-clone `workspace.repo` and returns its forms.
 *
 * @throws {WorkspaceError} naming `workspace.repo` when the value is not an allowed URL or path
 */
export function parseRepoUrl(value: string, home: string | undefined): RepoUrl {
  const raw = value.trim();
  if (raw === "") throw refuse(value, "it is empty");
  if (raw.startsWith("-")) throw refuse(raw, 'it starts with "-" and would be read as an option');
  if (UNSAFE_REGEXP.test(raw)) throw refuse(raw, "it contains whitespace or a control character");
  if (raw.startsWith("/") || raw === "~" || raw.startsWith("~/")) {
    const path = normalize(expandHome(raw, home));
    return finish(path, path, "file://" + stripRepoSuffix(path));
  }
  const scheme = SCHEME_REGEXP.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== undefined) return parseUrl(raw, scheme);
  if (raw.includes("::")) {
    throw refuse(raw, "remote helpers (<transport>::<address>) are not allowed");
  }
  const scp = SCP_REGEXP.exec(raw);
  if (scp) {
    const [, user, host, path] = scp as unknown as [string, string | undefined, string, string];
    if (path.startsWith("-") || path.startsWith(":")) throw refuse(raw, "its path is not valid");
    const key = `${user ? user + "@" : ""}${host.toLowerCase()}:${stripRepoSuffix(path)}`;
    return finish(raw, raw, key);
  }
  throw refuse(raw, "it is neither an allowed URL nor an absolute path");
}

function parseUrl(raw: string, scheme: string): RepoUrl {
  if (!SCHEMES.includes(scheme)) throw refuse(raw, `the ${scheme}:// scheme is not allowed`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse(raw, "it is not a valid URL");
  }
  if (scheme === "file") {
    if (url.host !== "" && url.host !== "localhost") {
      throw refuse(raw, "a file:// URL cannot name a host");
    }
    const path = normalize(decodeURIComponent(url.pathname));
    if (!isAbsolute(path)) throw refuse(raw, "a file:// URL needs an absolute path");
    return finish(raw, raw, "file://" + stripRepoSuffix(path));
  }
  const host = url.hostname.toLowerCase();
  if (host === "") throw refuse(raw, "it has no host");
  if (host.startsWith("-") || url.username.startsWith("-")) {
    throw refuse(raw, 'its host or user starts with "-"');
  }
  // Credentials are not part of a repository's identity; an ssh/git user name is.
  const user = scheme === "http" || scheme === "https" || url.username === ""
    ? ""
    : url.username + "@";
  const port = url.port ? ":" + url.port : "";
  const key = `${scheme}://${user}${host}${port}${stripRepoSuffix(url.pathname)}`;
  const { clean, credentials } = splitCredentials(raw, scheme, url);
  return finish(clean, redactUrl(raw), key, secretsOf(url, scheme), credentials);
}

/**
 * The URL without its user-info secrets, and the credentials git should get from a helper:
 * over http(s) both the user name (often a token) and the password; over ssh and git only a
 * password is dropped (the user name is the account, and ssh ignores passwords in URLs).
 */
function splitCredentials(
  raw: string,
  scheme: string,
  url: URL,
): { clean: string; credentials: RepoCredentials | undefined } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)@([^/?#]*)/.exec(raw);
  if (!m) return { clean: raw, credentials: undefined };
  const [whole, prefix, , hostText] = m as unknown as [string, string, string, string];
  const rest = raw.slice(whole.length);
  if (scheme !== "http" && scheme !== "https") {
    const user = url.username ? `${url.username}@` : "";
    return { clean: `${prefix}${user}${hostText}${rest}`, credentials: undefined };
  }
  return {
    clean: `${prefix}${hostText}${rest}`,
    credentials: {
      origin: `${prefix.slice(0, -3)}://${hostText}`,
      username: decode(url.username),
      password: decode(url.password),
    },
  };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function finish(
  url: string,
  display: string,
  normalized: string,
  secrets: string[] = [],
  credentials?: RepoCredentials,
): RepoUrl {
  return {
    url,
    ...(credentials ? { credentials } : {}),
    display,
    normalized,
    redact: (text) => {
      let out = redactUrl(text);
      for (const s of secrets) if (s.length >= 3) out = out.split(s).join("***");
      return out;
    },
  };
}

/** Replaces the user-info of every `scheme://user:secret@` in `text` by `***`. */
export function redactUrl(text: string): string {
  return text.replace(USERINFO_REGEXP, (_all, prefix: string, info: string) => {
    const scheme = prefix.slice(0, -3).toLowerCase();
    if ((scheme === "ssh" || scheme === "git") && !info.includes(":")) return `${prefix}${info}@`;
    if (scheme === "ssh" || scheme === "git") return `${prefix}${info.split(":")[0]}:***@`;
    return `${prefix}***@`;
  });
}

function secretsOf(url: URL, scheme: string): string[] {
  const out: string[] = [];
  // Over http(s) a lone user name is usually a token; over ssh it is an account like `git`.
  const parts = scheme.startsWith("http") ? [url.username, url.password] : [url.password];
  for (const part of parts) {
    if (!part) continue;
    out.push(part);
    try {
      out.push(decodeURIComponent(part));
    } catch {
      // Not percent-encoded text; the raw form is already listed.
    }
  }
  return out;
}

function stripRepoSuffix(path: string): string {
  let p = path;
  while (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  if (p.endsWith(".git")) p = p.slice(0, -4);
  while (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  return p;
}
