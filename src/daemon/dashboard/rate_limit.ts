/**
 * A fixed-window rate limit per key and overall, for the login-code exchange: a stranger who
 * can reach the port may guess codes, and 256-bit codes that live 2 minutes make guessing
 * hopeless already; the limit keeps the attempt from costing the daemon anything either.
 *
 * @module
 */

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Attempts per key (client address) per window. */
  perKey: number;
  /** Attempts from everyone together per window. */
  overall: number;
  windowMs: number;
  clock?: { now(): Date };
}

/** Counts attempts per window (see the module doc). */
export class RateLimiter {
  readonly #o: RateLimiterOptions;
  #windowStart = 0;
  #total = 0;
  readonly #byKey = new Map<string, number>();

  constructor(options: RateLimiterOptions) {
    this.#o = options;
  }

  /**
   * Counts one attempt by `key`; returns the seconds to wait when it is over a limit (the
   * attempt is then not made), else 0.
   */
  take(key: string): number {
    return this.attempt(key).wait;
  }

  /**
   * Counts one attempt by `key`: `wait` is 0 when it may be made, else the seconds until the
   * window ends; `overall` says that only everyone's limit was hit, not this key's own. Such an
   * attempt still counts toward the key's own limit, so no key makes more than `perKey` a
   * window whatever the others do.
   */
  attempt(key: string): { wait: number; overall: boolean } {
    const now = (this.#o.clock?.now() ?? new Date()).getTime();
    if (now - this.#windowStart >= this.#o.windowMs) {
      this.#windowStart = now;
      this.#total = 0;
      this.#byKey.clear();
    }
    const wait = Math.max(1, Math.ceil((this.#windowStart + this.#o.windowMs - now) / 1000));
    const mine = this.#byKey.get(key) ?? 0;
    if (mine >= this.#o.perKey) return { wait, overall: false };
    this.#byKey.set(key, mine + 1);
    if (this.#total >= this.#o.overall) return { wait, overall: true };
    this.#total++;
    return { wait: 0, overall: false };
  }
}
