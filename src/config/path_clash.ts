/**
 * Two pylons on one webhook path: only one can serve it. The daemon keeps the one that holds
 * it (at start, the first by name); everything that checks config (`list`, `doctor`,
 * `construct`, `edit`) reports the clash with both files and lines, so it is found before a
 * webhook goes to the wrong pylon or nowhere.
 *
 * @module
 */

import type { ConfigIssue } from "../errors.ts";
import { rawTriggerPath, rawValueAt, readRawPylon } from "./raw.ts";

/**
 * Path prefixes the daemon serves itself, whether or not the dashboard is on (turning it on
 * later must not take a pylon's path): a webhook may take neither these nor anything under
 * them.
 */
export const RESERVED_PATHS: readonly string[] = ["/api", "/dashboard", "/healthz", "/metrics"];

/**
 * Why a pylon may not take webhook path `path` (it is one of {@linkcode RESERVED_PATHS} or under
 * one), as a `trigger.path` issue message; undefined when it may.
 */
export function reservedPathProblem(path: string): string | undefined {
  const taken = RESERVED_PATHS.find((p) => path === p || path.startsWith(p + "/"));
  if (taken === undefined) return undefined;
  const what = taken === "/dashboard"
    ? "the web dashboard"
    : taken === "/api"
    ? "the control API"
    : taken === "/healthz"
    ? "the health check"
    : "the Prometheus metrics";
  return `"${path}" is ${
    path === taken ? "" : `under ${taken}, `
  }where the daemon serves ${what}; ` +
    `pick a path outside ${RESERVED_PATHS.join(", ")}, e.g. /hooks/${path.replace(/^\/+/, "")}`;
}

/** The webhook path an enabled pylon's file claims, and where it says so. */
export interface PathClaim {
  name: string;
  /** Normalised as the daemon looks paths up. */
  path: string;
  /** The file, as shown to people. */
  file: string;
  /** Line of `trigger.path` in the file. */
  line: number | undefined;
}

/**
 * What `pylon.yaml` text claims, read leniently; `undefined` for a disabled pylon, a cron pylon
 * or a file that does not say.
 */
export function pathClaim(name: string, text: string, file: string): PathClaim | undefined {
  const raw = readRawPylon(text);
  if (!raw || raw.tree.disabled === true) return undefined;
  if (rawValueAt(raw.tree, "trigger.type") !== "webhook") return undefined;
  const path = rawTriggerPath(raw);
  if (path === undefined) return undefined;
  return { name, path, file, line: raw.finder.valueAt(["trigger", "path"])?.line };
}

/**
 * The pylons that lose their path to another, each with the claim that wins: the first by name,
 * as the daemon decides at start.
 */
export function pathLosers(claims: readonly PathClaim[]): Map<string, PathClaim> {
  const winners = new Map<string, PathClaim>();
  const losers = new Map<string, PathClaim>();
  for (const c of [...claims].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) {
    const winner = winners.get(c.path);
    if (winner) losers.set(c.name, winner);
    else winners.set(c.path, c);
  }
  return losers;
}

/** `file:line` of a claim. */
export function claimLocation(claim: PathClaim): string {
  return claim.line === undefined ? claim.file : `${claim.file}:${claim.line}`;
}

/**
 * The issue of `own`, whose path `other` serves (or would serve: it comes first by name).
 * Positioned at `own`'s `trigger.path`.
 */
export function pathClashIssue(own: PathClaim, other: PathClaim): ConfigIssue {
  return {
    keyPath: "trigger.path",
    message: `${own.path} is also the path of pylon "${other.name}" (${
      claimLocation(other)
    }), which takes it; one path serves one pylon: give one of them another path, or disable one`,
    line: own.line,
  };
}

/**
 * The issue of `own`, which serves its path while `losers` (later by name) claim it too and are
 * refused: `list` and `doctor` show it on the serving pylon as well, so both files are flagged.
 */
export function pathHeldIssue(own: PathClaim, losers: readonly PathClaim[]): ConfigIssue {
  const others = losers.map((l) => `pylon "${l.name}" (${claimLocation(l)})`).join(", ");
  return {
    keyPath: "trigger.path",
    message: `${own.path} is also the path of ${others}; this pylon serves it (first by name) ` +
      `and ${losers.length === 1 ? "the other is" : "the others are"} not loaded: ` +
      `give one of them another path, or disable one`,
    line: own.line,
  };
}
