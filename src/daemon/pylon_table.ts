/**
 * The live configuration of the daemon's pylons, swapped atomically by hot reload. This is
 * config, not job state: jobs live only in SQLite.
 *
 * @module
 */

import { type LoadedPylon, normalizeWebhookPath, type ResolvedPylon } from "../config/mod.ts";
import type { SignatureVerifier } from "./signature.ts";

/** One pylon the daemon serves. */
export interface ActivePylon {
  name: string;
  loaded: LoadedPylon;
  resolved: ResolvedPylon;
  /** Present when the pylon has a webhook secret. */
  verifier: SignatureVerifier | undefined;
}

/**
 * Active pylons by name and by webhook path, and the paths of pylons that are not loaded
 * (broken, or failed closed after an edit of a security field), which answer 503, not 404.
 */
export class PylonTable {
  #byName = new Map<string, ActivePylon>();
  #byPath = new Map<string, ActivePylon>();
  /** Paths of pylons that are not loaded, by pylon name. */
  #blocked = new Map<string, string[]>();
  /** Names of the pylons that are not loaded, whether or not they claim a path. */
  #unloaded = new Set<string>();
  /** Webhook paths of disabled pylons, by pylon name: they answer "disabled", not 404. */
  #disabled = new Map<string, string>();

  /** The pylon named `name`, if active. */
  get(name: string): ActivePylon | undefined {
    return this.#byName.get(name);
  }

  /** The webhook pylon serving `path`, if any. */
  byPath(path: string): ActivePylon | undefined {
    return this.#byPath.get(normalizeWebhookPath(path));
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
    const owner = this.#byPath.get(normalizeWebhookPath(path));
    return owner && owner.name !== name ? owner.name : undefined;
  }

  /** The disabled pylon whose file names `path`, if any (an active pylon's path wins). */
  disabledAt(path: string): string | undefined {
    const wanted = normalizeWebhookPath(path);
    for (const [name, p] of this.#disabled) if (p === wanted) return name;
    return undefined;
  }

  /** Marks `name` as disabled; its webhook `path`, if any, answers that it is disabled. */
  disable(name: string, path: string | undefined): void {
    this.remove(name);
    if (path !== undefined) this.#disabled.set(name, normalizeWebhookPath(path));
  }

  /** The pylon that claims `path` but is not loaded, if any (an active pylon's path wins). */
  blockedAt(path: string): string | undefined {
    const wanted = normalizeWebhookPath(path);
    for (const [name, paths] of this.#blocked) if (paths.includes(wanted)) return name;
    return undefined;
  }

  /** Every pylon that claims `path` but is not loaded. */
  blockersAt(path: string): string[] {
    const wanted = normalizeWebhookPath(path);
    return [...this.#blocked].filter(([, paths]) => paths.includes(wanted)).map(([n]) => n);
  }

  /**
   * Whether `name` has a folder but is not loaded (broken, or failed closed): its queued jobs
   * wait for it to load again rather than fail.
   */
  isBlocked(name: string): boolean {
    return this.#unloaded.has(name);
  }

  /** Marks `name` as not loaded: its `paths` answer 503 until it loads or is removed. */
  block(name: string, paths: readonly (string | undefined)[]): void {
    this.#unloaded.add(name);
    const kept = [
      ...new Set(
        paths.filter((p): p is string => p !== undefined)
          .map(normalizeWebhookPath),
      ),
    ];
    if (kept.length > 0) this.#blocked.set(name, kept);
    else this.#blocked.delete(name);
  }

  /** Adds or replaces a pylon. */
  set(pylon: ActivePylon): void {
    this.remove(pylon.name);
    this.#byName.set(pylon.name, pylon);
    const path = pylon.resolved.config.trigger.path;
    if (pylon.resolved.config.trigger.type === "webhook" && path) {
      this.#byPath.set(normalizeWebhookPath(path), pylon);
    }
  }

  /** Removes a pylon (and its blocked paths); returns whether it was active. */
  remove(name: string): boolean {
    this.#disabled.delete(name);
    this.#blocked.delete(name);
    this.#unloaded.delete(name);
    const old = this.#byName.get(name);
    if (!old) return false;
    this.#byName.delete(name);
    for (const [path, p] of this.#byPath) if (p.name === name) this.#byPath.delete(path);
    return true;
  }
}
