/**
 * `allowed_repos`: which repositories a payload may pick. A `workspace.repo` written as a
 * template is chosen by whoever sends the webhook; it must match one of these patterns, and the
 * GitHub channel comments only on repositories they match. Pure; shared by `config/` (the
 * patterns' syntax), `workspace/` (the rendered URL) and `channel/github/` (the event's
 * repository).
 *
 * A pattern is
 * - `owner/name` with `*` (any characters but `/`), `?` and `**` (anything): a GitHub
 *   repository, e.g. `acme/*`. For a workspace it means github.com over https or ssh; for the
 *   GitHub channel, the GitHub it talks to;
 * - a URL, `https://gitlab.example.com/group/**`, `ssh://git@host/team/*.git` or scp-style
 *   `git@host:team/*`: scheme (scp-style is ssh), host and path must match; credentials and
 *   the user name do not count.
 *
 * Local paths and `file://` URLs are never allowed: a payload must not reach the daemon's disk.
 * Paths are compared without a trailing `.git` or `/`, case-insensitively; a path with `..`,
 * `%`, a query or anything but letters, digits and `._~-/` matches nothing.
 *
 * @module
 */

/** The parts of a repository URL that decide whether it is allowed. */
interface RepoParts {
  scheme: "https" | "http" | "ssh" | "git";
  /** Lower-case host, with a non-default port. */
  host: string;
  /** Path without leading `/`, trailing `/` or `.git`; undefined when it is unsafe. */
  path: string | undefined;
}

/** A parsed pattern. */
interface Pattern {
  /** Undefined for the `owner/name` form. */
  scheme: RepoParts["scheme"] | undefined;
  host: string | undefined;
  path: RegExp;
}

const NETWORK_SCHEMES = ["https", "http", "ssh", "git"] as const;
const SCP_REGEXP = /^(?:[^@/\s]+@)?([A-Za-z0-9][A-Za-z0-9.-]*):(?!\/\/)(.+)$/;
const SHORT_REGEXP = /^[A-Za-z0-9._*?-]+(\/[A-Za-z0-9._*?-]+)+$/;
const SAFE_PATH_REGEXP = /^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/;

/** Whether `value` names a repository on this machine: a path, `~`, or a `file://` URL. */
export function isLocalRepo(value: string): boolean {
  const v = value.trim();
  if (v.startsWith("/") || v.startsWith("~") || v.startsWith(".")) return true;
  if (/^file:/i.test(v)) return true;
  return !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(v) && !SCP_REGEXP.test(v);
}

/** Why `pattern` cannot be an `allowed_repos` entry, or undefined when it can. */
export function allowedRepoProblem(pattern: string): string | undefined {
  const p = pattern.trim();
  if (p === "") return "is empty";
  if (/^file:/i.test(p) || p.startsWith("/") || p.startsWith("~")) {
    return `"${p}" is a local path; a payload may never pick a repository on this machine`;
  }
  return parsePattern(p) ? undefined : `"${p}" is neither owner/name (e.g. acme/*) nor a ` +
    "https://, http://, ssh:// or git:// URL (e.g. https://gitlab.example.com/team/*)";
}

/** Whether the repository URL `url` matches one of `patterns` (never when it is local). */
export function repoAllowed(url: string, patterns: readonly string[]): boolean {
  if (isLocalRepo(url)) return false;
  const parts = repoParts(url.trim());
  if (!parts?.path) return false;
  return patterns.some((text) => {
    const p = parsePattern(text.trim());
    if (!p) return false;
    if (p.scheme === undefined) {
      return (parts.scheme === "https" || parts.scheme === "ssh") && parts.host === "github.com" &&
        p.path.test(parts.path!);
    }
    return p.scheme === parts.scheme && p.host === parts.host && p.path.test(parts.path!);
  });
}

/**
 * Whether the GitHub repository `owner/name` on the GitHub at `apiUrl` matches one of
 * `patterns` (`owner/name` patterns, or URLs of that GitHub's web host).
 */
export function githubRepoAllowed(
  repo: { owner: string; repo: string },
  apiUrl: string,
  patterns: readonly string[],
): boolean {
  const path = normalizePath(`${repo.owner}/${repo.repo}`);
  if (!path) return false;
  const host = githubWebHost(apiUrl);
  return patterns.some((text) => {
    const p = parsePattern(text.trim());
    if (!p) return false;
    return (p.host === undefined || p.host === host) && p.path.test(path);
  });
}

/** `github.com` for `https://api.github.com`, the host itself for GitHub Enterprise Server. */
export function githubWebHost(apiUrl: string): string {
  let host: string;
  try {
    host = new URL(apiUrl).host.toLowerCase();
  } catch {
    return "";
  }
  return host === "api.github.com" ? "github.com" : host;
}

function parsePattern(p: string): Pattern | undefined {
  if (SHORT_REGEXP.test(p) && !p.includes(":")) {
    return { scheme: undefined, host: undefined, path: globRegExp(stripSuffix(p)) };
  }
  const parts = repoParts(p, true);
  if (!parts?.path) return undefined;
  return { scheme: parts.scheme, host: parts.host, path: globRegExp(parts.path) };
}

function repoParts(raw: string, pattern = false): RepoParts | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (!(NETWORK_SCHEMES as readonly string[]).includes(scheme)) return undefined;
    let url: URL;
    try {
      // Glob characters are not valid in a URL's host, only in its path.
      url = new URL(raw);
    } catch {
      return undefined;
    }
    if (url.search || url.hash || url.hostname === "") return undefined;
    const path = pattern ? patternPath(decodeURI(url.pathname)) : normalizePath(url.pathname);
    return { scheme: scheme as RepoParts["scheme"], host: url.host.toLowerCase(), path };
  }
  const scp = SCP_REGEXP.exec(raw);
  if (!scp) return undefined;
  const [, host, path] = scp as unknown as [string, string, string];
  return {
    scheme: "ssh",
    host: host.toLowerCase(),
    path: pattern ? patternPath(path) : normalizePath(path),
  };
}

/** A repository path in comparable form, or undefined when it could mean something else. */
function normalizePath(path: string): string | undefined {
  const p = stripSuffix(path.replace(/^\/+/, ""));
  if (!SAFE_PATH_REGEXP.test(p)) return undefined;
  if (p.split("/").some((s) => s === "." || s === "..")) return undefined;
  return p;
}

function patternPath(path: string): string | undefined {
  const p = stripSuffix(path.replace(/^\/+/, ""));
  return /^[A-Za-z0-9._~*?-]+(\/[A-Za-z0-9._~*?-]+)*$/.test(p) ? p : undefined;
}

function stripSuffix(path: string): string {
  let p = path.replace(/\/+$/, "");
  if (p.toLowerCase().endsWith(".git")) p = p.slice(0, -4);
  return p.replace(/\/+$/, "");
}

function globRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      out += ".*";
      i++;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[.+^${}()|[\]\\-]/g, "\\$&");
  }
  return new RegExp(`^${out}$`, "i");
}
