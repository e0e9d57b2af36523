/**
 * One job store per pylon, opened on demand and looked up by pylon name, plus the queries that
 * span every pylon: finding a job by id prefix and the FIFO head across pylons.
 *
 * The registry holds open database handles only, never job rows.
 *
 * @module
 */

import type { Checkpoints } from "./checkpointer.ts";
import { assertPylonName, type JobStatus, type PylonPaths } from "../config/mod.ts";
import { PylonError } from "../errors.ts";
import { JobNotFoundError } from "./errors.ts";
import { openJobStore } from "./job_store.ts";
import type { Clock, Job, JobStore, ListOptions, TriggerKind } from "./types.ts";

/** Options of {@linkcode createStoreRegistry}. */
export interface StoreRegistryOptions {
  /** Source of "now" for every store. @default {the system clock} */
  clock?: Clock | undefined;
  /** Open existing files read-only (see `OpenJobStoreOptions.readOnly`). */
  readOnly?: boolean | undefined;
  /** Busy timeout of every connection (see `OpenJobStoreOptions.busyTimeoutMs`). */
  busyTimeoutMs?: number | undefined;
  /** Runs every store's WAL checkpoints off the event loop (see `OpenJobStoreOptions`). */
  checkpoints?: Checkpoints | undefined;
}

/** The open job stores of a pylon home, by pylon name. */
export interface StoreRegistry extends AsyncDisposable {
  /** Opens (creating if needed) the store of `pylon`; the same store on every call. */
  open(pylon: string): Promise<JobStore>;
  /** The open store of `pylon`, if any. */
  get(pylon: string): JobStore | undefined;
  /** Whether the store of `pylon` is open. */
  has(pylon: string): boolean;
  /** Names of the pylons whose stores are open, sorted. */
  names(): string[];
  /** Closes the store of `pylon` (nothing if it is not open). */
  close(pylon: string): Promise<void>;
  /** Closes every store. */
  closeAll(): Promise<void>;
  /**
   * The job with this id or unique id prefix, in any open store.
   *
   * @throws {JobNotFoundError} when no job matches
   * @throws {PylonError} when a prefix matches several jobs
   */
  findJob(idOrPrefix: string): Promise<Job>;
  /** The newest job in a chat thread, across pylons. */
  findByThreadKey(key: string): Promise<Job | null>;
  /**
   * The queued job that has waited longest across all pylons (ties: pylon name), or null;
   * pylons for which `skip` answers true are passed over.
   */
  oldestQueuedAcross(skip?: (pylon: string) => boolean): Promise<Job | null>;
  /** How many jobs are queued across all pylons. */
  countQueuedAcross(): Promise<number>;
  /**
   * The newest jobs across every open store (or one pylon's), `limit` in all: newest first,
   * ties by pylon name, then newest inserted. `before` (a job id or unique prefix) pages on:
   * only jobs after that one in this order. `pylon` must name an open store.
   *
   * @throws {JobNotFoundError} when `before` matches no job
   */
  listAcross(options: ListAcrossOptions): Promise<Job[]>;
}

/** Options of {@linkcode StoreRegistry.listAcross}. */
export interface ListAcrossOptions {
  /** Only this pylon's jobs. */
  pylon?: string | undefined;
  /** Only jobs in these statuses. */
  status?: readonly JobStatus[] | undefined;
  /** At most this many jobs in all. @default {20} */
  limit?: number | undefined;
  /** The id (or unique prefix) of the last job of the previous page. */
  before?: string | undefined;
  /** Only jobs started by these trigger kinds (see `ListOptions.trigger`). */
  trigger?: readonly TriggerKind[] | undefined;
  /** Only jobs matching this text (see `ListOptions.text`). */
  text?: string | undefined;
}

/** Creates an empty registry over `paths`; does no I/O until {@linkcode StoreRegistry.open}. */
export function createStoreRegistry(
  paths: PylonPaths,
  options: StoreRegistryOptions = {},
): StoreRegistry {
  return new Registry(paths, options);
}

/** Names of the pylons that have a `jobs.db` under `data/`, sorted; creates nothing. */
export async function listJobDbNames(paths: PylonPaths): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(paths.dataDir)) {
      if (entry.isDirectory && await isFile(paths.pylonDb(entry.name))) names.push(entry.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return names.sort();
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** A whole uuid, as `crypto.randomUUID()` makes job ids. */
const FULL_ID_REGEXP = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function queuedMs(job: Job): number {
  return (job.queuedAt ?? job.createdAt).getTime();
}

class Registry implements StoreRegistry {
  #paths: PylonPaths;
  #options: StoreRegistryOptions;
  /** Opening or open stores; a promise so concurrent `open()` calls share one handle. */
  #stores = new Map<string, Promise<JobStore>>();
  #open = new Map<string, JobStore>();

  constructor(paths: PylonPaths, options: StoreRegistryOptions) {
    this.#paths = paths;
    this.#options = options;
  }

  open(pylon: string): Promise<JobStore> {
    const known = this.#stores.get(pylon);
    if (known) return known;
    try {
      assertPylonName(pylon);
    } catch (e) {
      return Promise.reject(e);
    }
    const opening = openJobStore(this.#paths.pylonDb(pylon), { pylon, ...this.#options })
      .then((store) => {
        this.#open.set(pylon, store);
        return store;
      }, (e) => {
        this.#stores.delete(pylon);
        throw e;
      });
    this.#stores.set(pylon, opening);
    return opening;
  }

  get(pylon: string): JobStore | undefined {
    return this.#open.get(pylon);
  }

  has(pylon: string): boolean {
    return this.#open.has(pylon);
  }

  names(): string[] {
    return [...this.#open.keys()].sort();
  }

  async close(pylon: string): Promise<void> {
    const opening = this.#stores.get(pylon);
    if (!opening) return;
    this.#stores.delete(pylon);
    this.#open.delete(pylon);
    const store = await opening.catch(() => undefined);
    await store?.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#stores.keys()].map((name) => this.close(name)));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.closeAll();
  }

  async findJob(idOrPrefix: string): Promise<Job> {
    const wanted = idOrPrefix.trim().toLowerCase();
    if (wanted === "") throw new JobNotFoundError("");
    if (FULL_ID_REGEXP.test(wanted)) {
      // A whole id (the daemon's own lookups): a primary-key hit costs less than a prefix range.
      for (const store of this.#sorted()) {
        const job = await store.get(wanted);
        if (job) return job;
      }
    }
    const found = (await Promise.all(this.#sorted().map((s) => s.findByPrefix(wanted, 10)))).flat();
    const exact = found.find((j) => j.id === wanted);
    if (exact) return exact;
    if (found.length === 0) throw new JobNotFoundError(idOrPrefix.trim());
    if (found.length > 1) {
      const ids = found.map((j) => `${j.id} (${j.pylon})`).join(", ");
      throw new PylonError(`Job id "${wanted}" is ambiguous: it matches ${ids}`, {
        hint: "type more characters of the job id",
      });
    }
    return found[0]!;
  }

  async findByThreadKey(key: string): Promise<Job | null> {
    let best: Job | null = null;
    for (const store of this.#sorted()) {
      const job = await store.findByThreadKey(key);
      if (job && (best === null || job.createdAt > best.createdAt)) best = job;
    }
    return best;
  }

  async oldestQueuedAcross(skip?: (pylon: string) => boolean): Promise<Job | null> {
    let best: Job | null = null;
    for (const store of this.#sorted()) {
      if (skip?.(store.pylon)) continue;
      const job = await store.oldestQueued();
      // Strictly earlier only: stores are visited in name order, so ties go to the first name.
      if (job && (best === null || queuedMs(job) < queuedMs(best))) best = job;
    }
    return best;
  }

  async countQueuedAcross(): Promise<number> {
    const counts = await Promise.all(this.#sorted().map((s) => s.countQueued()));
    return counts.reduce((a, b) => a + b, 0);
  }

  async listAcross(options: ListAcrossOptions): Promise<Job[]> {
    const limit = options.limit ?? 20;
    const cursor = options.before === undefined ? undefined : await this.findJob(options.before);
    const stores = this.#sorted().filter((s) =>
      options.pylon === undefined || s.pylon === options.pylon
    );
    const pages = await Promise.all(stores.map((store) => {
      const query: ListOptions = {
        limit,
        status: options.status,
        trigger: options.trigger,
        text: options.text,
      };
      // Jobs of the same millisecond sort by pylon name, then by insertion within a store.
      if (cursor && store.pylon === cursor.pylon) query.beforeJob = cursor.id;
      else if (cursor && store.pylon < cursor.pylon) query.before = cursor.createdAt;
      else if (cursor) query.until = cursor.createdAt;
      return store.list(query);
    }));
    // Each page is in order already, and sort() is stable: ties within a pylon keep theirs.
    return pages.flat()
      .sort((a, b) =>
        b.createdAt.getTime() - a.createdAt.getTime() ||
        (a.pylon < b.pylon ? -1 : a.pylon > b.pylon ? 1 : 0)
      )
      .slice(0, limit);
  }

  /** The open stores in pylon-name order. */
  #sorted(): JobStore[] {
    return this.names().map((n) => this.#open.get(n)!);
  }
}
