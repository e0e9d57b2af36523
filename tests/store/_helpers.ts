/**
 * Temp-folder job stores and job factories for the store tests.
 */

import { join } from "node:path";
import { type Job, type JobStore, type NewJob, openJobStore } from "../../src/store/mod.ts";

/** A clock the test moves by hand. */
export class ManualClock {
  #now: number;

  constructor(start = "2026-05-01T12:00:00Z") {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** A store in a fresh temp folder; disposing closes it and removes the folder. */
export interface TempStore extends AsyncDisposable {
  store: JobStore;
  dir: string;
  path: string;
  clock: ManualClock;
}

/** Opens a store for `pylon` in a new temp folder. */
export async function tempStore(pylon = "alpha"): Promise<TempStore> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-store-" });
  const path = join(dir, "data", pylon, "jobs.db");
  const clock = new ManualClock();
  const store = await openJobStore(path, { pylon, clock });
  return {
    store,
    dir,
    path,
    clock,
    async [Symbol.asyncDispose]() {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A new queued webhook job of `pylon`, with overrides. */
export function newJob(pylon: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id: crypto.randomUUID(),
    pylon,
    status: "queued",
    trigger: "webhook",
    payload: { action: "opened", number: 7 },
    headers: { "x-github-event": "pull_request" },
    ...overrides,
  };
}

/** Inserts `job` and returns the stored row. */
export async function insertJob(store: JobStore, overrides: Partial<NewJob> = {}): Promise<Job> {
  const { job } = await store.insert(newJob(store.pylon, overrides));
  return job;
}
