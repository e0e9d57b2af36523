/**
 * Reads `config.yaml`, the `.env` files and every `pylons/<name>/pylon.yaml` from a pylon home.
 * A missing `config.yaml` means built-in defaults; a broken pylon is reported, never fatal to
 * the others.
 *
 * @module
 */

import { ConfigError, type ConfigIssue } from "../errors.ts";
import { mergeGlobalEnv, parseDotEnv, secretValues } from "./env.ts";
import { formatIssue, keyPathString } from "./issues.ts";
import { folderNameProblem } from "./folder_name.ts";
import { parseConfigText } from "./parse.ts";
import { displayPath, type PylonPaths } from "./paths.ts";
import { channelProblems, validateGlobal, validatePylon } from "./validate.ts";
import { mountIssues } from "./mounts.ts";
import { hostPathContext } from "../host_paths.ts";
import {
  GLOBAL_KEY_HOMES,
  type GlobalConfig,
  globalConfigSchema,
  PYLON_KEY_HOMES,
  type PylonConfig,
  pylonConfigSchema,
} from "./schema.ts";
import { resolveChannel } from "./resolve.ts";
import {
  type PathClaim,
  pathClaim,
  pathClashIssue,
  pathHeldIssue,
  pathLosers,
} from "./path_clash.ts";

/** The machine-level config and the variables every pylon sees. */
export interface LoadedGlobal {
  config: GlobalConfig;
  /** Process environment with the global `.env` filled in under it. */
  env: Record<string, string>;
  /** Whether `config.yaml` exists (else `config` is the built-in defaults). */
  exists: boolean;
  /** Values of the global `.env` and of the `${VAR}`s config.yaml expanded: never shown. */
  secrets?: string[];
}

/** One pylon, validated. */
export interface LoadedPylon {
  name: string;
  config: PylonConfig;
  /** Variables this pylon sees: its `.env` over {@linkcode LoadedGlobal.env}. */
  env: Record<string, string>;
  /** The text of `pylon.yaml` this config came from (hot reload compares edits with it). */
  source?: string;
  /**
   * Values never shown outside the daemon: the global and the pylon's `.env`, and every `${VAR}`
   * config.yaml or pylon.yaml expanded (see {@linkcode ResolvedPylon.secrets}).
   */
  secrets?: string[];
}

/** One entry of {@linkcode loadAllPylons}: a pylon or why it could not be loaded. */
export type PylonLoadResult =
  | {
    name: string;
    ok: true;
    pylon: LoadedPylon;
    /** Set when it serves a webhook path other pylons claim too: `file:line: …` naming them. */
    pathShared?: string;
  }
  | { name: string; ok: false; error: ConfigError };

/** Reads a text file; `null` when it does not exist. */
async function readOptional(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Whether every issue is a `${VAR}` that is not set: the fix is a `.env` line, not an edit. */
export function onlyUnsetVariables(issues: readonly ConfigIssue[]): boolean {
  return issues.length > 0 && issues.every((i) => UNSET_VARIABLE_REGEXP.test(i.message));
}

/** How {@linkcode parseConfigText} words an unset `${VAR}` (src/config/parse.ts). */
const UNSET_VARIABLE_REGEXP = /^references \$\{\w+\} but it is not set/;

function configError(what: string, file: string, issues: ConfigIssue[], hint: string): ConfigError {
  const lines = issues.map((i) => formatIssue(file, i));
  const message = issues.length === 1
    ? `Cannot load ${what}: ${lines[0]}`
    : `Cannot load ${what} (${issues.length} problems):\n  ${lines.join("\n  ")}`;
  return new ConfigError(message, { file, issues, hint });
}

/**
 * Reads a `.env` file into a map; a missing file is empty.
 *
 * @throws {ConfigError} for lines that are not `KEY=VALUE`
 */
export async function loadDotEnvFile(path: string, home?: string): Promise<Record<string, string>> {
  const text = await readOptional(path);
  if (text === null) return {};
  const { vars, problems } = parseDotEnv(text);
  if (problems.length > 0) {
    const file = displayPath(path, home);
    throw configError(
      file,
      file,
      problems.map((p) => ({ keyPath: "", message: p.message, line: p.line })),
      "each line must be KEY=VALUE; lines starting with # are comments",
    );
  }
  return vars;
}

/**
 * Loads `config.yaml` and the global `.env`. Without a `config.yaml`, built-in defaults apply.
 *
 * @throws {ConfigError} naming the file, line, field and fix
 */
export async function loadGlobalConfig(
  paths: PylonPaths,
  processEnv: Record<string, string>,
): Promise<LoadedGlobal> {
  const home = processEnv.HOME;
  const dotEnv = await loadDotEnvFile(paths.globalEnv, home);
  const env = mergeGlobalEnv(processEnv, dotEnv);
  const text = await readOptional(paths.globalConfig);
  if (text === null) {
    return {
      config: globalConfigSchema.parse({}),
      env,
      exists: false,
      secrets: secretValues(dotEnv, [], env),
    };
  }
  const referenced = new Set<string>();
  const file = displayPath(paths.globalConfig, home);
  const hint = "fix the file, then check it with `pylon doctor`";
  const parsed = parseConfigText(text, {
    schema: globalConfigSchema,
    lookup: (name) => {
      referenced.add(name);
      return env[name];
    },
    envFileHint: displayPath(paths.globalEnv, home),
    keyHomes: GLOBAL_KEY_HOMES,
  });
  if (!parsed.ok) throw configError("config.yaml", file, parsed.issues, hint);
  const issues = validateGlobal(parsed.value, parsed.finder);
  if (issues.length > 0) throw configError("config.yaml", file, issues, hint);
  return {
    config: parsed.value,
    env,
    exists: true,
    secrets: secretValues(dotEnv, referenced, env),
  };
}

/** Names of the constructed pylons (folders holding a `pylon.yaml`), sorted. */
export async function listPylonNames(paths: PylonPaths): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(paths.pylonsDir)) {
      if (!entry.isDirectory) continue;
      try {
        await Deno.stat(paths.pylonConfig(entry.name));
        names.push(entry.name);
      } catch (e) {
        // A folder this user cannot enter is listed, so that loading it says what to fix.
        if (e instanceof Deno.errors.PermissionDenied) names.push(entry.name);
        else if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return names.sort();
}

/**
 * Loads and validates one pylon against the global config.
 *
 * @throws {ConfigError} naming the file, line, field and fix; `issues` is empty and the message
 *   says "not found" when the pylon does not exist
 */
export async function loadPylon(
  paths: PylonPaths,
  name: string,
  global: LoadedGlobal,
): Promise<LoadedPylon> {
  const home = global.env.HOME;
  const path = paths.pylonConfig(name);
  const file = displayPath(path, home);
  let text: string | null;
  try {
    text = await readOptional(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    const folder = displayPath(paths.pylonDir(name), home);
    throw new ConfigError(
      `Cannot load pylon "${name}": ${file} cannot be read (permission denied)`,
      {
        file,
        hint: `let the user running pylon read it: chmod u+rwx ${folder} && chmod u+rw ${file} ` +
          "(as its owner), or chown it to that user",
      },
    );
  }
  if (text === null) {
    throw new ConfigError(`Cannot load pylon "${name}": ${file} does not exist`, {
      file,
      hint:
        `create it with \`pylon construct ${name}\`, or run \`pylon list\` to see existing pylons`,
    });
  }
  const what = `pylon "${name}"`;
  // A bad folder name is reported first, with the file's own problems after it.
  const badName = await folderNameProblem(paths, name, home, text);
  const hint = badName?.hint ?? `edit it with \`pylon edit ${name}\``;
  const fail = (issues: ConfigIssue[]) =>
    configError(
      what,
      file,
      badName ? [badName.issue, ...issues] : issues,
      !badName && onlyUnsetVariables(issues)
        ? `add the value to ${displayPath(paths.pylonEnv(name), home)} (then chmod 600 it); ` +
          "pylon.yaml needs no edit"
        : hint,
    );
  let own: Record<string, string>;
  try {
    own = await loadDotEnvFile(paths.pylonEnv(name), home);
  } catch (e) {
    if (badName && e instanceof ConfigError) throw fail([]);
    throw e;
  }
  const env = { ...global.env, ...own };
  const referenced = new Set<string>();
  const envFile = displayPath(paths.pylonEnv(name), home);
  const parsed = parseConfigText(text, {
    schema: pylonConfigSchema,
    lookup: (key) => {
      referenced.add(key);
      return own[key] ?? global.env[key];
    },
    envFileHint: `${envFile} (this pylon only) or ${displayPath(paths.globalEnv, home)}`,
    keyHomes: PYLON_KEY_HOMES,
  });
  if (!parsed.ok) throw fail(parsed.issues);
  // With a bad folder name, `name:` must not be told to match it.
  const issues = validatePylon(
    parsed.value,
    name,
    parsed.finder,
    global.config.defaults.agent.type,
  ).filter((i) => !badName || i.keyPath !== "name");
  const hostPaths = await hostPathContext({ env: global.env, pylonHome: paths.root });
  for (const m of await mountIssues(parsed.value, { home, hostPaths })) {
    const pos = parsed.finder.valueAt(m.path);
    issues.push({
      keyPath: keyPathString(m.path),
      message: m.message,
      line: pos?.line,
      column: pos?.column,
    });
  }
  const channel = resolveChannel(parsed.value, global.config);
  const ownsConnection = parsed.value.channel?.type !== undefined;
  for (const p of channelProblems(channel.types, channel)) {
    const pos = parsed.finder.valueAt(ownsConnection ? ["channel"] : []);
    issues.push({
      keyPath: `channel.${p.field}`,
      message: ownsConnection
        ? p.message
        : `${p.message} (in this file or in config.yaml defaults.channel)`,
      line: pos?.line,
      column: pos?.column,
    });
  }
  // Checked in several passes (schema rules, mounts, channels): report them in file order.
  issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  if (issues.length > 0 || badName) throw fail(issues);
  const secrets = [...global.secrets ?? [], ...secretValues(own, referenced, env)];
  return { name, config: parsed.value, env, source: text, secrets };
}

/**
 * Loads every pylon; a broken one is returned with its error instead of failing the rest. Of
 * two enabled pylons on one webhook path, the second by name is returned as an error naming
 * both files, as the daemon refuses it at start, and the first carries `pathShared`.
 */
export async function loadAllPylons(
  paths: PylonPaths,
  global: LoadedGlobal,
): Promise<PylonLoadResult[]> {
  const results: PylonLoadResult[] = [];
  for (const name of await listPylonNames(paths)) {
    try {
      results.push({ name, ok: true, pylon: await loadPylon(paths, name, global) });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      results.push({ name, ok: false, error: e });
    }
  }
  const home = global.env.HOME;
  const claims = new Map<string, PathClaim>();
  for (const r of results) {
    if (!r.ok || r.pylon.source === undefined) continue;
    const claim = pathClaim(r.name, r.pylon.source, displayPath(paths.pylonConfig(r.name), home));
    if (claim) claims.set(r.name, claim);
  }
  const losers = pathLosers([...claims.values()]);
  return results.map((r) => {
    const winner = losers.get(r.name);
    if (!winner) {
      const beaten = [...losers].filter(([, w]) => w.name === r.name).map(([n]) => claims.get(n)!);
      const own = claims.get(r.name);
      if (!r.ok || !own || beaten.length === 0) return r;
      return { ...r, pathShared: formatIssue(own.file, pathHeldIssue(own, beaten)) };
    }
    const own = claims.get(r.name)!;
    const issue = pathClashIssue(own, winner);
    return {
      name: r.name,
      ok: false,
      error: configError(
        `pylon "${r.name}"`,
        own.file,
        [issue],
        `edit it with \`pylon edit ${r.name}\``,
      ),
    };
  });
}

/** The webhook paths every constructed pylon's file claims (read leniently), by name. */
export async function readPathClaims(paths: PylonPaths, home?: string): Promise<PathClaim[]> {
  const claims: PathClaim[] = [];
  for (const name of await listPylonNames(paths)) {
    const text = await readOptional(paths.pylonConfig(name));
    const claim = text === null
      ? undefined
      : pathClaim(name, text, displayPath(paths.pylonConfig(name), home));
    if (claim) claims.push(claim);
  }
  return claims;
}

/**
 * The clash of `name`'s webhook path with another enabled pylon's, as a `file:line: ...` line
 * naming both files; `undefined` when its path is its own.
 */
export async function pathClashOf(
  paths: PylonPaths,
  name: string,
  home?: string,
): Promise<string | undefined> {
  const claims = await readPathClaims(paths, home);
  const own = claims.find((c) => c.name === name);
  const other = own && claims.find((c) => c.name !== name && c.path === own.path);
  return other ? formatIssue(own.file, pathClashIssue(own, other)) : undefined;
}
