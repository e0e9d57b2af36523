/**
 * The pylons refused because another pylon serves their webhook path (a path clash): why each
 * was refused (both files and lines), what its path answers meanwhile, and taking the path as
 * soon as its holder leaves it. Split out of {@linkcode PylonLoader}, which owns one.
 *
 * @module
 */

import {
  displayPath,
  formatIssue,
  type LoadedPylon,
  pathClaim,
  pathClashIssue,
  type PylonPaths,
  type RawPylon,
  rawTriggerPath,
} from "../config/mod.ts";
import { ConfigError } from "../errors.ts";
import type { PylonTable } from "./pylon_table.ts";

/** What {@linkcode PathLosers} needs. */
export interface PathLosersDeps {
  paths: PylonPaths;
  table: PylonTable;
  /** The home directory, to show paths as `~/…`. */
  home: string | undefined;
}

/** What {@linkcode PathLosers.retry} does with each loser whose path is free. */
export interface RetryHooks {
  /** `pylon.yaml` read leniently; `undefined` when it cannot be read or parsed. */
  readRaw(name: string): Promise<RawPylon | undefined>;
  /** @throws {ConfigError} when it does not load (a clash again adds it back) */
  activate(name: string): Promise<"ok" | "disabled">;
  reloadFailed(name: string, error: ConfigError): Promise<void>;
}

/** Pylons refused because another serves their path: retried when a path frees up. */
export class PathLosers {
  readonly #d: PathLosersDeps;
  readonly #names = new Set<string>();

  constructor(deps: PathLosersDeps) {
    this.#d = deps;
  }

  has(name: string): boolean {
    return this.#names.has(name);
  }

  add(name: string): void {
    this.#names.add(name);
  }

  delete(name: string): void {
    this.#names.delete(name);
  }

  /**
   * Activates the pylons that lost a path clash and whose path is now free (its holder was
   * destroyed, removed, disabled or moved), in name order. A path that a pylon failed closed on
   * stays blocked. Returns the names activated; one that no longer loads for another reason is
   * handed to `reloadFailed`.
   */
  async retry(hooks: RetryHooks): Promise<string[]> {
    const { table } = this.#d;
    const activated: string[] = [];
    for (const name of [...this.#names].sort()) {
      const claimed = rawTriggerPath(await hooks.readRaw(name));
      if (claimed === undefined) {
        this.#names.delete(name); // gone, or no longer a webhook on a path: its own reload says
        continue;
      }
      if (table.pathOwner(claimed, name) !== undefined) continue;
      // A pylon that failed closed keeps its path blocked; other losers waiting do not.
      if (table.blockersAt(claimed).some((b) => !this.#names.has(b))) continue;
      this.#names.delete(name);
      try {
        if (await hooks.activate(name) === "ok") activated.push(name);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        // A clash again puts it back in the set; anything else is its own problem now.
        if (!this.#names.has(name)) await hooks.reloadFailed(name, e);
      }
    }
    return activated;
  }

  /** The log fields saying what the path of a pylon that did not load answers. */
  pathNote(name: string, claimed: string | undefined): { path?: string; note?: string } {
    if (claimed === undefined) return {};
    return {
      path: claimed,
      note: this.#names.has(name)
        ? "it takes the path as soon as the other pylon leaves it"
        : "the path answers 503 until the pylon loads",
    };
  }

  /** Why `name` cannot take the path `owner` serves: both files and lines. */
  clashError(name: string, loaded: LoadedPylon, owner: string): ConfigError {
    const { paths, table } = this.#d;
    const claimOf = (n: string, source: string | undefined) =>
      source === undefined ? undefined : pathClaim(n, source, this.#show(paths.pylonConfig(n)));
    const own = claimOf(name, loaded.source);
    const other = claimOf(owner, table.get(owner)?.loaded.source);
    const file = this.#show(paths.pylonConfig(name));
    const path = loaded.config.trigger.path!;
    const issue = own && other ? pathClashIssue(own, other) : {
      keyPath: "trigger.path",
      message: `${path} is already served by pylon "${owner}" (${
        this.#show(paths.pylonConfig(owner))
      }); one path serves one pylon: give one of them another path, or disable one`,
      line: own?.line,
    };
    return new ConfigError(
      `Cannot load pylon "${name}": ${formatIssue(file, issue)}`,
      { file, issues: [issue], hint: "give each webhook pylon its own path" },
    );
  }

  #show(path: string): string {
    return displayPath(path, this.#d.home);
  }
}
