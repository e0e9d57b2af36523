/**
 * The live configuration of the daemon's pylons, swapped atomically by hot reload. This is
 * config, not job state: jobs live only in SQLite.
 *
 * @module
 */

import type { LoadedPylon, ResolvedPylon } from "../config/mod.ts";
import type { SignatureVerifier } from "./signature.ts";

/** One pylon the daemon serves. */
export interface ActivePylon {
  name: string;
  loaded: LoadedPylon;
  resolved: ResolvedPylon;
  /** Present when the pylon has a webhook secret. */
  verifier: SignatureVerifier | undefined;
}

/** Active pylons by name and by webhook path. */
export class PylonTable {
  #byName = new Map<string, ActivePylon>();
  #byPath = new Map<string, ActivePylon>();

  /** The pylon named `name`, if active. */
  get(name: string): ActivePylon | undefined {
    return this.#byName.get(name);
  }

  /** The webhook pylon serving `path`, if any. */
  byPath(path: string): ActivePylon | undefined {
    return this.#byPath.get(path.length > 1 ? path.replace(/\/+$/, "") : path);
  }

  /** Names of active pylons, sorted. */
  names(): string[] {
    return [...this.#byName.keys()].sort();
  }

  /** Every active pylon. */
  all(): ActivePylon[] {
    return this.names().map((n) => this.#byName.get(n)!);
  }

  /** The pylon other than `name` that already serves `path`, if any. */
  pathOwner(path: string, name: string): string | undefined {
    const owner = this.#byPath.get(path);
    return owner && owner.name !== name ? owner.name : undefined;
  }

  /** Adds or replaces a pylon. */
  set(pylon: ActivePylon): void {
    this.remove(pylon.name);
    this.#byName.set(pylon.name, pylon);
    const path = pylon.resolved.config.trigger.path;
    if (pylon.resolved.config.trigger.type === "webhook" && path) this.#byPath.set(path, pylon);
  }

  /** Removes a pylon; returns whether it was active. */
  remove(name: string): boolean {
    const old = this.#byName.get(name);
    if (!old) return false;
    this.#byName.delete(name);
    for (const [path, p] of this.#byPath) if (p.name === name) this.#byPath.delete(path);
    return true;
  }
}
