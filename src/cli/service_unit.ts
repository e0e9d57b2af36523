/**
 * Renders the systemd unit of `pylon service install` from `pylon.service.tmpl`. Pure: no I/O,
 * so tests can render and verify both scopes without systemd.
 *
 * @module
 */

import template from "../../pylon.service.tmpl" with { type: "text" };

/** The template text as embedded in the program (the compiled binary has no repo files). */
export const SERVICE_TEMPLATE: string = template;

/** Where the unit lives: the user's service manager or the system one. */
export type ServiceScope = "user" | "system";

/** The permission flags of the `pylon` task in deno.json, used when running from source. */
export const PYLON_PERMISSION_FLAGS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-run",
];

/** What goes into the unit. */
export interface UnitOptions {
  scope: ServiceScope;
  /** The program and its arguments up to (not including) the `start` verb. */
  exec: readonly string[];
  /** Absolute `PYLON_HOME` of the daemon. */
  pylonHome: string;
  /** Home folder of the account the daemon runs as. */
  home: string;
  /** System scope only: the account (and its group) the daemon runs as. */
  user?: { name: string; group?: string | undefined } | undefined;
}

/**
 * The command line `ExecStart` runs before `start`: the binary itself when compiled, else
 * `deno run <flags> --config <deno.json> <main.ts>` when `execPath` is the deno runtime.
 */
export function execCommand(
  execPath: string,
  mainModulePath: string,
  configPath: string,
): string[] {
  const base = execPath.split("/").pop() ?? execPath;
  if (base !== "deno") return [execPath];
  return [execPath, "run", ...PYLON_PERMISSION_FLAGS, "--config", configPath, mainModulePath];
}

const CACHE_PATH_REGEXP =
  /\/(?:\.npm|_npx|_cacache|\.cache\/deno|Caches\/deno|deno\/(?:npm|remote|deps))\//;

/**
 * The first of `paths` that lies in a cache npm or deno may clean (`~/.npm/_npx/…` from `npx
 * deno`, `~/.cache/deno/…`, `$DENO_DIR`, `$npm_config_cache`), or undefined. A unit whose
 * `ExecStart` points there stops working the day the cache is pruned.
 */
export function cachedPath(
  paths: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const roots = [env.DENO_DIR, env.npm_config_cache].filter((r): r is string => !!r)
    .map((r) => r.replace(/\/+$/, "") + "/");
  return paths.find((p) => CACHE_PATH_REGEXP.test(p) || roots.some((r) => p.startsWith(r)));
}

/** Whether a system unit (which gets `PrivateTmp=yes`) would hide `path` from the daemon. */
export function hiddenByPrivateTmp(scope: ServiceScope, path: string): boolean {
  return scope === "system" && /^\/(?:var\/)?tmp(?:\/|$)/.test(path);
}

/** Escapes `%` specifiers, which systemd expands in most settings. */
function escapeSpecifiers(value: string): string {
  return value.replaceAll("%", "%%");
}

/** Quotes one word for a systemd command line or assignment, when it needs quoting. */
function quote(word: string): string {
  const escaped = escapeSpecifiers(word);
  if (!/[\s"'\\;]/.test(escaped) && escaped !== "") return escaped;
  return `"${escaped.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** One word of `ExecStart`: as {@linkcode quote}, plus `$` which systemd would expand. */
function execWord(word: string): string {
  return quote(word.replaceAll("$", () => "$$"));
}

/** Sandboxing that needs a mount namespace: system scope only (see the comment inside). */
const SYSTEM_SANDBOX = [
  "PrivateTmp=yes",
  "ProtectSystem=full",
  "ProtectKernelTunables=yes",
  "ProtectControlGroups=yes",
];

/** Renders the unit for `options`. @throws {RangeError} when a system unit has no user */
export function renderUnit(options: UnitOptions): string {
  const { scope, user } = options;
  if (scope === "system" && !user) {
    throw new RangeError("Cannot render a system unit without a user: pass options.user");
  }
  const userLines = scope === "system" && user
    ? [`User=${quote(user.name)}`, ...(user.group ? [`Group=${quote(user.group)}`] : [])]
    : [];
  // In a per-user service manager these options need unprivileged user namespaces and imply
  // PrivateUsers=yes; where those are disabled the service fails to start, so user units get
  // only the seccomp-based settings above.
  const sandboxLines = scope === "system" ? SYSTEM_SANDBOX : [];
  const values: Record<string, string[]> = {
    USER_LINES: userLines,
    SANDBOX_LINES: sandboxLines,
    ENV_PYLON_HOME: [quote(`PYLON_HOME=${options.pylonHome}`)],
    ENV_HOME: [quote(`HOME=${options.home}`)],
    EXEC_START: [[...options.exec, "start"].map(execWord).join(" ")],
    WANTED_BY: [scope === "system" ? "multi-user.target" : "default.target"],
  };
  const lines: string[] = [];
  for (const line of SERVICE_TEMPLATE.split("\n")) {
    if (line.startsWith("##")) continue;
    if (line.startsWith("#")) {
      lines.push(line);
      continue;
    }
    const whole = /^\{\{([A-Z_]+)\}\}$/.exec(line);
    if (whole) {
      lines.push(...lookup(values, whole[1]!));
      continue;
    }
    lines.push(
      line.replace(/\{\{([A-Z_]+)\}\}/g, (_m, name: string) => lookup(values, name).join(" ")),
    );
  }
  return lines.join("\n");
}

function lookup(values: Record<string, string[]>, name: string): string[] {
  const value = values[name];
  if (!value) throw new RangeError(`Cannot render the unit: unknown placeholder {{${name}}}`);
  return value;
}
