/**
 * Cron: fires each cron pylon at its scheduled minutes, in its zone. A fire inserts a job whose
 * delivery id is `cron:<scheduled instant>`, so the unique index makes every scheduled minute run
 * at most once, across hot reloads and restarts alike.
 *
 * The decision is pure ({@linkcode dueRuns}); the timer only calls it.
 *
 * A pylon's first run is the first scheduled minute strictly after it became active (at start,
 * hot-added, re-enabled, or its `cron`/`timezone` changed): the scheduler remembers that instant
 * per pylon and never fires at or before it. Without it, a pylon added between two checks got
 * every minute since the previous check, which lies up to 30 s back, or longer when reloads keep
 * re-arming the timer.
 *
 * @module
 */

import { nextRuns } from "../cron/mod.ts";
import { shortId } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import type { Dispatcher } from "../queue/mod.ts";
import type { Job, StoreRegistry } from "../store/mod.ts";
import type { ActivePylon } from "./pylon_table.ts";

/** A cron pylon as the scheduler sees it. */
export interface CronEntry {
  name: string;
  cron: string;
  timezone: string;
}

/** A scheduled run that is due. */
export interface DueRun {
  pylon: string;
  at: Date;
}

/** Every scheduled time in (`since`, `now`] of every entry, oldest first. */
export function dueRuns(entries: readonly CronEntry[], since: Date, now: Date): DueRun[] {
  const due: DueRun[] = [];
  for (const e of entries) {
    let from = since;
    for (;;) {
      const [next] = nextRuns(e.cron, { timezone: e.timezone, from, count: 1 });
      if (!next || next > now) break;
      due.push({ pylon: e.name, at: next });
      from = next;
    }
  }
  return due.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** The delivery id of the run scheduled at `at`. */
export function cronDeliveryId(at: Date): string {
  return `cron:${at.toISOString()}`;
}

/** What the scheduler needs. */
export interface SchedulerDeps {
  cronPylons(): ActivePylon[];
  stores: StoreRegistry;
  dispatcher: Dispatcher;
  log: Logger;
  clock: { now(): Date };
  newJobId(): string;
  onChange?(job: Job): void;
}

/** Longest sleep between checks, so clock jumps and reloads are noticed. */
const MAX_SLEEP_MS = 30_000;

/** Fires cron pylons on schedule. */
export class CronScheduler {
  readonly #deps: SchedulerDeps;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #last: Date;
  /** Per pylon: when its current schedule became active, and which schedule that is. */
  readonly #since = new Map<string, { at: Date; schedule: string }>();
  #stopped = false;
  #busy: Promise<void> = Promise.resolve();

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    this.#last = deps.clock.now();
    this.#track(this.#last);
  }

  /** Reports runs missed while the daemon was down (and runs one when `catch_up` is set). */
  async catchUp(): Promise<void> {
    const now = this.#deps.clock.now();
    for (const pylon of this.#deps.cronPylons()) {
      const store = this.#deps.stores.get(pylon.name);
      if (!store) continue;
      const last = (await store.list({ limit: 50 })).find((j) => j.trigger === "cron");
      if (!last) continue;
      const since = scheduledAt(last.deliveryId) ?? last.createdAt;
      const missed = dueRuns([entryOf(pylon)], since, now);
      if (missed.length === 0) continue;
      const latest = missed.at(-1)!;
      const catchUp = pylon.resolved.config.trigger.catch_up;
      this.#deps.log.warn("cron.missed", {
        pylon: pylon.name,
        missed: missed.length,
        latest: latest.at.toISOString(),
        action: catchUp
          ? "running the latest once (catch_up: true)"
          : "skipped (set catch_up: true to run one)",
      });
      if (catchUp) await this.#fire(latest);
    }
  }

  /** Starts the timer. */
  start(): void {
    this.#last = this.#deps.clock.now();
    this.#track(this.#last);
    this.#arm();
  }

  /**
   * Re-plans after the set of cron pylons changed; call it right after each change, since a
   * pylon that is new here (or whose schedule changed) counts as active from this call on.
   */
  refresh(): void {
    if (this.#stopped) return;
    this.#track(this.#deps.clock.now());
    this.#arm();
  }

  /** Stops firing. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#busy;
  }

  /** Fires what is due up to now; exposed for tests with a fake clock. */
  async tick(): Promise<void> {
    const now = this.#deps.clock.now();
    const pylons = this.#track(now); // a pylon not refreshed yet starts now
    const due = pylons.flatMap((p) => {
      const since = this.#since.get(p.name)!.at;
      return dueRuns([entryOf(p)], since > this.#last ? since : this.#last, now);
    }).sort((a, b) => a.at.getTime() - b.at.getTime());
    this.#last = now;
    for (const run of due) await this.#fire(run);
  }

  /**
   * Records `now` as the start of every cron pylon not seen before or whose schedule changed,
   * and forgets the pylons that are gone (so a re-enabled pylon starts afresh).
   * Returns the current cron pylons.
   */
  #track(now: Date): ActivePylon[] {
    const pylons = this.#deps.cronPylons();
    const current = new Set<string>();
    for (const p of pylons) {
      current.add(p.name);
      const e = entryOf(p);
      const schedule = `${e.cron} ${e.timezone}`;
      if (this.#since.get(p.name)?.schedule !== schedule) {
        this.#since.set(p.name, { at: now, schedule });
      }
    }
    for (const name of this.#since.keys()) if (!current.has(name)) this.#since.delete(name);
    return pylons;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    const now = this.#deps.clock.now();
    let wait = MAX_SLEEP_MS;
    for (const p of this.#deps.cronPylons()) {
      const [next] = nextRuns(p.resolved.config.trigger.cron!, {
        timezone: p.resolved.timezone,
        from: now,
        count: 1,
      });
      if (next) wait = Math.min(wait, next.getTime() - now.getTime());
    }
    this.#timer = setTimeout(() => {
      this.#busy = this.tick().catch((e) => {
        this.#deps.log.error("cron.failed", { error: e instanceof Error ? e.message : String(e) });
      }).finally(() => {
        if (!this.#stopped) this.#arm();
      });
    }, Math.max(0, wait) + 5);
  }

  async #fire(run: DueRun): Promise<void> {
    const store = this.#deps.stores.get(run.pylon);
    if (!store) return;
    const { job, created } = await store.insert({
      id: this.#deps.newJobId(),
      pylon: run.pylon,
      status: "queued",
      trigger: "cron",
      payload: { pylon: run.pylon, scheduled_at: run.at.toISOString() },
      headers: {},
      deliveryId: cronDeliveryId(run.at),
    });
    if (!created) return;
    this.#deps.log.info("cron.fired", {
      pylon: run.pylon,
      job: shortId(job.id),
      scheduled: run.at.toISOString(),
    });
    this.#deps.onChange?.(job);
    this.#deps.dispatcher.wake();
  }
}

function entryOf(p: ActivePylon): CronEntry {
  return { name: p.name, cron: p.resolved.config.trigger.cron!, timezone: p.resolved.timezone };
}

function scheduledAt(deliveryId: string | null): Date | undefined {
  if (!deliveryId?.startsWith("cron:")) return undefined;
  const d = new Date(deliveryId.slice(5));
  return Number.isNaN(d.getTime()) ? undefined : d;
}
