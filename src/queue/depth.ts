/**
 * How many jobs wait, for the `docker.max_queue` check every webhook makes. Counting queued rows
 * in every pylon's database per request costs O(queue × pylons) — measured at 36 % of the
 * daemon's CPU under load — so the count is read at most every `ttlMs` and the jobs this daemon
 * queues in between are added to it. The bound may be passed by a few jobs within that window;
 * nothing acknowledged is ever affected.
 *
 * @module
 */

/** What the depth is counted from. */
export interface QueuedCounter {
  countQueuedAcross(): Promise<number>;
}

/** A cheap, slightly stale count of queued jobs. */
export class QueueDepth {
  readonly #source: QueuedCounter;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #value = 0;
  #readAt = -Infinity;
  #reading: Promise<number> | undefined;

  constructor(source: QueuedCounter, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#source = source;
    this.#ttlMs = options.ttlMs ?? 250;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The number of queued jobs, re-read when older than the TTL (concurrent reads share one query). */
  async value(): Promise<number> {
    if (this.#now() - this.#readAt < this.#ttlMs) return this.#value;
    this.#reading ??= this.#source.countQueuedAcross().then((n) => {
      this.#value = n;
      this.#readAt = this.#now();
      return n;
    }).finally(() => {
      this.#reading = undefined;
    });
    return await this.#reading;
  }

  /** Records jobs queued since the last read. */
  added(count = 1): void {
    this.#value += count;
  }
}
