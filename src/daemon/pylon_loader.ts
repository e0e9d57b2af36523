/**
 * Loads pylons into the daemon's {@linkcode PylonTable}, and decides what becomes of one that
 * does not load (ARCHITECTURE.md §3.5):
 *
 * - with no last good config (at start, a new folder, a bad folder name): it is reported with
 *   its file, line and fix, and skipped; the webhook path its file claims answers 503;
 * - with a last good config: that config keeps serving, unless the failed edit touches a
 *   security field, in which case the pylon is taken out of service (fail closed) and its path
 *   answers 503 until the pylon loads again.
 *
 * Never fatal to the daemon: only non-config errors (I/O, bugs) propagate.
 *
 * @module
 */

import {
  displayPath,
  loadDotEnvFile,
  type LoadedGlobal,
  loadPylon,
  normalizeWebhookPath,
  type PylonPaths,
  type RawPylon,
  rawTriggerPath,
  readRawPylon,
  resolvePylon,
  type SecurityFingerprint,
  securityFingerprint,
  securityTouch,
} from "../config/mod.ts";
import { parseDocument } from "yaml";
import { ConfigError, type ConfigIssue } from "../errors.ts";
import type { StoreError } from "../store/mod.ts";
import type { Logger } from "../log/mod.ts";
import { PathLosers } from "./path_losers.ts";
import type { PylonTable } from "./pylon_table.ts";
import { createSignatureVerifier } from "./signature.ts";

/** What {@linkcode PylonLoader} needs. */
export interface PylonLoaderDeps {
  paths: PylonPaths;
  global: LoadedGlobal;
  table: PylonTable;
  log: Logger;
  clock: { now(): Date };
  /** The system's time zone, for cron pylons that name none. */
  zone: string;
}

/** What {@linkcode PylonLoader.load} made of a pylon. */
export type LoadOutcome =
  | { ok: true; state: "ok" | "disabled" }
  | { ok: false; error: ConfigError };

/** Puts pylons in the table and handles the ones that do not load. */
export class PylonLoader {
  readonly #d: PylonLoaderDeps;
  /** The security fields of each active pylon's last good config. */
  readonly #fingerprints = new Map<string, SecurityFingerprint>();
  /** Pylons refused because another serves their path: retried when a path frees up. */
  readonly #pathLosers: PathLosers;
  /** Pylons whose last load found them disabled. */
  readonly #disabled = new Set<string>();

  constructor(deps: PylonLoaderDeps) {
    this.#d = deps;
    this.#pathLosers = new PathLosers({
      paths: deps.paths,
      table: deps.table,
      home: deps.global.env.HOME,
    });
  }

  /**
   * Loads `name` and puts it in the table, or takes it out when it is disabled.
   *
   * @throws {ConfigError} when it does not load; the table is left as it was
   */
  async activate(name: string): Promise<"ok" | "disabled"> {
    const { paths, global, table, clock } = this.#d;
    const loaded = await loadPylon(paths, name, global);
    if (loaded.config.disabled) {
      this.#disabled.add(name);
      this.#pathLosers.delete(name);
      const t = loaded.config.trigger;
      table.disable(name, t.type === "webhook" ? t.path : undefined);
      this.#fingerprints.delete(name);
      return "disabled";
    }
    this.#disabled.delete(name);
    const resolved = resolvePylon(loaded.config, global.config, {
      env: loaded.env,
      systemTimezone: this.#d.zone,
      secrets: loaded.secrets,
    });
    const t = loaded.config.trigger;
    const owner = t.path ? table.pathOwner(t.path, name) : undefined;
    if (owner) {
      this.#pathLosers.add(name);
      throw this.#pathLosers.clashError(name, loaded, owner);
    }
    this.#pathLosers.delete(name);
    const verifier = t.type === "webhook" && t.secret
      ? await createSignatureVerifier({
        secret: t.secret,
        header: t.signature_header!,
        format: t.signature_format,
        clock,
      })
      : undefined;
    table.set({ name, loaded, resolved, verifier });
    const raw = loaded.source === undefined ? undefined : readRawPylon(loaded.source);
    if (raw) this.#fingerprints.set(name, securityFingerprint(raw, (k) => loaded.env[k]));
    else this.#fingerprints.delete(name);
    return "ok";
  }

  /**
   * Activates the pylons that lost a path clash and whose path is now free, in name order
   * (see {@linkcode PathLosers.retry}). Returns the names activated.
   */
  retryPathLosers(): Promise<string[]> {
    return this.#pathLosers.retry({
      readRaw: (name) => this.#readRaw(name),
      activate: (name) => this.activate(name),
      reloadFailed: (name, e) => this.reloadFailed(name, e),
    });
  }

  /** Whether the last load of `name` found it disabled. */
  isDisabled(name: string): boolean {
    return this.#disabled.has(name);
  }

  /** Forgets `name` (its folder is gone). */
  forget(name: string): void {
    this.#disabled.delete(name);
    this.#pathLosers.delete(name);
    this.#fingerprints.delete(name);
  }

  /**
   * At start: loads `name`, or logs why it cannot (file, line, fix), skips it and makes the path
   * its file claims answer 503.
   */
  async load(name: string): Promise<LoadOutcome> {
    try {
      return { ok: true, state: await this.activate(name) };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const claimed = claimedPath(await this.#readText(name));
      this.#d.table.block(name, [claimed]);
      this.#d.log.error("pylon.invalid", {
        ...describe(name, e),
        hint: e.hint,
        ...this.#pathLosers.pathNote(name, claimed),
      });
      return { ok: false, error: e };
    }
  }

  /**
   * The job database of `name` cannot be opened (damaged, not a database, unwritable): the pylon
   * leaves service and the path it served answers 503, the other pylons keep running. Logs the
   * file, SQLite's reason and the fix; the file itself is left as it is.
   */
  storeFailed(name: string, error: StoreError): void {
    const { table, log } = this.#d;
    const t = table.get(name)?.resolved.config.trigger;
    const served = t?.type === "webhook" ? t.path : undefined;
    table.remove(name);
    this.#fingerprints.delete(name);
    table.block(name, [served]);
    log.error("store.failed", {
      pylon: name,
      file: error.dbPath,
      reason: error.message,
      hint: `${error.hint ?? "check the file"}; then restart the daemon or save ` +
        `${this.#d.paths.pylonConfig(name)} again`,
      ...(served ? { path: served } : {}),
      note: "the pylon is not loaded; the other pylons run",
    });
  }

  /**
   * After a hot reload of `name` failed with `error`: keeps its last good config serving, unless
   * the failed edit touches a security field; then the pylon leaves service and its path answers
   * 503 until it loads again (fail closed). A pylon with no last good config stays out. Logs
   * which, with the file, line and field.
   */
  async reloadFailed(name: string, error: ConfigError): Promise<void> {
    const { table, log } = this.#d;
    const base = describe(name, error);
    const active = table.get(name);
    const text = await this.#readText(name);
    const next = text === undefined ? undefined : readRawPylon(text);
    const claimed = claimedPath(text);
    if (!active) {
      table.block(name, [claimed]);
      log.error("pylon.reload_failed", {
        ...base,
        kept: "not active",
        hint: error.hint,
        ...this.#pathLosers.pathNote(name, claimed),
      });
      return;
    }
    const last = this.#fingerprints.get(name);
    const touch = last
      ? securityTouch(error, next, await this.#lookup(name), last)
      : { field: "(unknown)", line: undefined, reason: "the last good config cannot be compared" };
    if (!touch) {
      log.error("pylon.reload_failed", { ...base, kept: "previous config" });
      return;
    }
    const t = active.resolved.config.trigger;
    const served = t.type === "webhook" ? t.path : undefined;
    table.remove(name);
    this.#fingerprints.delete(name);
    table.block(name, [served, claimed]);
    const fromIssue = error.issues.length === 1 && touch.reason === base.reason;
    log.error("pylon.reload_failed", {
      pylon: name,
      file: fromIssue || touch.field === "(the whole file)"
        ? error.file
        : this.#show(this.#d.paths.pylonConfig(name)),
      line: touch.line ?? base.line,
      field: touch.field,
      reason: touch.reason,
      ...(fromIssue ? {} : { problem: formatAll(error) }),
      kept: "nothing",
      note: `${
        touch.field.startsWith("(") ? "its security fields cannot be checked" : "a security field"
      }, so the edit fails closed: ${
        served ? `${served} answers 503` : "the pylon is out of service"
      } until the pylon loads again`,
    });
  }

  /** How the failed edit would resolve `${VAR}`; `undefined` when its `.env` does not parse. */
  async #lookup(name: string): Promise<((key: string) => string | undefined) | undefined> {
    const { paths, global } = this.#d;
    try {
      const own = await loadDotEnvFile(paths.pylonEnv(name), global.env.HOME);
      return (key) => own[key] ?? global.env[key];
    } catch (e) {
      if (e instanceof ConfigError || e instanceof Deno.errors.PermissionDenied) return undefined;
      throw e;
    }
  }

  /** `pylon.yaml` read leniently; `undefined` when it cannot be read or parsed. */
  async #readRaw(name: string): Promise<RawPylon | undefined> {
    const text = await this.#readText(name);
    return text === undefined ? undefined : readRawPylon(text);
  }

  /** `pylon.yaml` as text; `undefined` when it is gone or unreadable. */
  async #readText(name: string): Promise<string | undefined> {
    try {
      return await Deno.readTextFile(this.#d.paths.pylonConfig(name));
    } catch {
      return undefined;
    }
  }

  #show(path: string): string {
    return displayPath(path, this.#d.global.env.HOME);
  }
}

/** The log fields of a pylon's load error (see {@linkcode problemFields}). */
function describe(
  name: string,
  e: ConfigError,
): { pylon: string; file: string; line: number | undefined; reason: string; problems?: number } {
  return { pylon: name, ...problemFields(e) };
}

/**
 * The log fields of a load error: file, line of the first problem, and every problem (each
 * with its line when there are several), so one log line names them all.
 */
export function problemFields(
  e: ConfigError,
): { file: string; line: number | undefined; reason: string; problems?: number } {
  const first = e.issues[0];
  const one = (i: ConfigIssue) => `${i.keyPath ? i.keyPath + ": " : ""}${i.message}`;
  if (e.issues.length > 1) {
    return {
      file: e.file,
      line: first?.line,
      problems: e.issues.length,
      reason: e.issues.map((i) => `${i.line === undefined ? "" : `line ${i.line}: `}${one(i)}`)
        .join("; "),
    };
  }
  return { file: e.file, line: first?.line, reason: first ? one(first) : e.message };
}

/** Every problem of a load error, each as `file:line: field: message`. */
function formatAll(e: ConfigError): string {
  if (e.issues.length === 0) return e.message;
  return e.issues.map((i) =>
    `${i.line === undefined ? e.file : `${e.file}:${i.line}`}: ${
      i.keyPath ? i.keyPath + ": " : ""
    }${i.message}`
  ).join("; ");
}

/**
 * The webhook path a file that does not load claims, so that path answers 503 rather than 404.
 * A file with a YAML error elsewhere (`bad: [` further down) still names its `trigger.path`:
 * what parsed is read for that one value. Only for the 503: never for serving, and never for
 * the security fields, which treat a file that does not parse as unreadable.
 */
function claimedPath(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const raw = readRawPylon(text);
  if (raw) return rawTriggerPath(raw);
  let path: unknown;
  try {
    path = parseDocument(text, { uniqueKeys: false }).getIn(["trigger", "path"]);
  } catch {
    return undefined;
  }
  return typeof path === "string" && path.startsWith("/") ? normalizeWebhookPath(path) : undefined;
}
