/**
 * Which host paths may never be mounted into an agent container, and where a user volume may
 * not land (ARCHITECTURE.md §3.8). One rule, used for `agent.volumes` and `local` workspaces
 * alike, when a config loads and again right before a container is created, on the path as
 * written and after `~`, `..` and symlinks are resolved. Refused:
 *
 * - `/`, `/root` and `$HOME` themselves, and home folders (`/home`, `/home/<user>`);
 * - anything under `/etc`, `/proc`, `/sys`, `/dev`, `/boot`, `/var/lib/docker` or `$PYLON_HOME`
 *   (other pylons' `.env` files, `daemon.token`, job payloads);
 * - the credential folders of any home (`.ssh`, `.gnupg`, `.aws`, `.docker`, `.kube`,
 *   `.config/gh`, `.claude`), wherever they are;
 * - the Docker socket in use (`DOCKER_HOST`, else `/var/run/docker.sock`) and the standard
 *   sockets, and every folder holding one of them (`/run`, `/var/run`, `/var`);
 * - any folder holding one of the above (a parent of `$PYLON_HOME`, of `$HOME/.ssh`, …);
 * - mount targets at or under `/workspace` and `/pylon`, which pylon mounts itself.
 *
 * Paths pylon mounts itself (the job's folders, OAuth credential files, CA files) are not user
 * volumes and do not go through this rule.
 *
 * @module
 */

import { isAbsolute, join, normalize } from "node:path";

/** What the rule needs to know about this host; build it with {@linkcode hostPathContext}. */
export interface HostPathContext {
  /** The daemon's home folder, as written and resolved. */
  homes: readonly string[];
  /** `$PYLON_HOME`, as written and resolved. */
  pylonHomes: readonly string[];
  /** The Docker socket in use and the standard places, as written and resolved. */
  dockerSockets: readonly string[];
}

/** Folders whose whole tree is the host's. */
const SYSTEM_TREES = ["/etc", "/proc", "/sys", "/dev", "/boot", "/var/lib/docker"];
/** Where Docker listens unless `DOCKER_HOST` says otherwise. */
const STANDARD_SOCKETS = ["/var/run/docker.sock", "/run/docker.sock"];
/** Credential folders of a home, as path segments. */
const CREDENTIAL_DIRS = [".ssh", ".gnupg", ".aws", ".docker", ".kube", ".config/gh", ".claude"];
/** Folders pylon mounts into every container; user volumes may not cover them. */
const RESERVED_TARGETS = ["/workspace", "/pylon"];

/**
 * The Docker socket `DOCKER_HOST` points at (`unix:///path` or a bare absolute path), else the
 * default; undefined for a TCP engine. Kept here, apart from `docker/`, so `config/` can use it.
 */
export function dockerSocketOf(
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const value = (env.DOCKER_HOST ?? "").trim();
  if (value === "") return STANDARD_SOCKETS[0];
  if (value.startsWith("/")) return value;
  if (value.toLowerCase().startsWith("unix://")) return value.slice("unix://".length);
  return undefined;
}

/**
 * Builds the context of this host: `HOME`, `PYLON_HOME` (default `$HOME/.pylon`) and the Docker
 * socket of `DOCKER_HOST`, each also resolved through symlinks when it exists.
 */
export async function hostPathContext(
  options: { env: Readonly<Record<string, string | undefined>>; pylonHome?: string | undefined },
): Promise<HostPathContext> {
  const home = options.env.HOME || undefined;
  const pylonHome = options.pylonHome ?? (options.env.PYLON_HOME ||
    (home ? join(home, ".pylon") : undefined));
  const socket = dockerSocketOf(options.env);
  const both = async (paths: (string | undefined)[]) => {
    const out = new Set<string>();
    for (const p of paths) {
      if (!p || !isAbsolute(p)) continue;
      out.add(clean(p));
      out.add(await resolveExisting(p));
    }
    return [...out];
  };
  return {
    homes: await both([home]),
    pylonHomes: await both([pylonHome]),
    dockerSockets: await both([...STANDARD_SOCKETS, socket]),
  };
}

/**
 * Why `path` may not be mounted, or undefined when it may. Pure: pass the path as written and,
 * separately, its resolved form ({@linkcode resolveExisting}); both must pass.
 */
export function blockedHostPath(path: string, ctx: HostPathContext): string | undefined {
  const p = clean(path);
  if (p === "/") return "/ is the whole host";
  const tree = SYSTEM_TREES.find((t) => isAtOrUnder(p, t));
  if (tree) {
    return p === tree ? `${p} is a system folder` : `${p} is inside the system folder ${tree}`;
  }
  const pylonHome = ctx.pylonHomes.find((t) => isAtOrUnder(p, t));
  if (pylonHome) {
    return `${p} is inside the pylon home ${pylonHome} (other pylons' secrets, the API token)`;
  }
  if (p === "/root" || ctx.homes.includes(p)) return `${p} is a home folder`;
  if (p === "/home" || /^\/home\/[^/]+$/.test(p)) return `${p} is a home folder`;
  const credential = credentialDirOf(p);
  if (credential) return `${p} is a credential folder (${credential})`;
  const socket = ctx.dockerSockets.find((s) => isAtOrUnder(p, s));
  if (socket) return `${p} is the Docker socket`;
  const holder = ctx.dockerSockets.find((s) => isUnder(s, p));
  if (holder) return `${p} holds the Docker socket ${holder}`;
  const homes = ["/root", ...ctx.homes];
  const protectedTrees = [
    ...SYSTEM_TREES,
    ...ctx.pylonHomes,
    ...homes,
    ...homes.flatMap((h) => CREDENTIAL_DIRS.map((c) => join(h, c))),
  ];
  const inside = protectedTrees.find((t) => isUnder(t, p));
  if (inside) return `${p} holds ${inside}`;
  return undefined;
}

/** Why a user volume may not be mounted at `target` in the container, or undefined. */
export function blockedMountTarget(target: string): string | undefined {
  const t = normalize(target).replace(/(.)\/+$/, "$1");
  const reserved = RESERVED_TARGETS.find((r) => isAtOrUnder(t, r));
  return reserved ? `${t} is at or under ${reserved}, which pylon mounts itself` : undefined;
}

/** The outcome of {@linkcode checkHostPath}. */
export type HostPathCheck =
  | { ok: true; real: string }
  | { ok: false; problem: string; real: string | undefined };

/**
 * Checks `path` (absolute) as written and resolved through symlinks; a path that does not exist
 * yet is resolved as far as it exists. `real` is undefined when nothing of it exists.
 */
export async function checkHostPath(path: string, ctx: HostPathContext): Promise<HostPathCheck> {
  const lexical = blockedHostPath(path, ctx);
  if (lexical) return { ok: false, problem: lexical, real: undefined };
  const real = await resolveExisting(path);
  const resolved = blockedHostPath(real, ctx);
  if (resolved) {
    const via = real === clean(path) ? "" : `it resolves to ${real}, and `;
    return { ok: false, problem: `${via}${resolved}`, real };
  }
  return { ok: true, real };
}

/**
 * `path` with symlinks resolved as far as it exists (the missing rest appended as written), so
 * a link in a parent still counts when the leaf is not there yet.
 */
export async function resolveExisting(path: string): Promise<string> {
  let head = clean(path);
  const rest: string[] = [];
  for (;;) {
    try {
      return clean(join(await Deno.realPath(head), ...rest));
    } catch (e) {
      const missing = e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory;
      if (!missing || head === "/") return clean(join(head, ...rest));
      const slash = head.lastIndexOf("/");
      rest.unshift(head.slice(slash + 1));
      head = slash === 0 ? "/" : head.slice(0, slash);
    }
  }
}

function credentialDirOf(p: string): string | undefined {
  const segments = p.split("/");
  for (const dir of CREDENTIAL_DIRS) {
    const parts = dir.split("/");
    for (let i = 0; i + parts.length <= segments.length; i++) {
      if (parts.every((part, j) => segments[i + j] === part)) return dir;
    }
  }
  return undefined;
}

function clean(path: string): string {
  return normalize(path).replace(/(.)\/+$/, "$1");
}

function isAtOrUnder(p: string, root: string): boolean {
  return p === root || isUnder(p, root);
}

/** Whether `p` is strictly inside `root`. */
function isUnder(p: string, root: string): boolean {
  return root === "/" ? p !== "/" : p.startsWith(root + "/");
}
