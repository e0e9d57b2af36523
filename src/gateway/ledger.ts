/**
 * What each running job has used so far, as the gateway counted it (issue 19): tokens and
 * dollars per job, grown by every usage report of every relayed response. Kept in memory for
 * the budget checks of the next request, and in `jobs/<id>/channel/usage.json` (the daemon's own
 * folder, never the container's) so the job's final usage is the counted one, a daemon restart
 * included.
 *
 * @module
 */

import { join } from "node:path";
import { channelDir, writeAtomically } from "../agent_channel/mod.ts";
import type { TokenCounts } from "./pricing.ts";
import type { UsageDelta } from "./usage_meter.ts";
import type { JobUsage } from "../store/types.ts";

/** A job's usage counted by the gateway. */
export interface CountedUsage extends TokenCounts {
  /** Dollars of the priced models' tokens. */
  costUsd: number;
  /** Whether some tokens were of a model without a price (their cost is missing). */
  unpriced: boolean;
  models: string[];
  /** Responses whose usage was read. */
  reports: number;
}

/** The file of a job's counted usage. */
export function countedUsageFile(jobsDir: string, jobId: string): string {
  return join(channelDir(jobsDir, jobId), "usage.json");
}

/** A job's counted usage, or null when the gateway relayed nothing for it. */
export async function readCountedUsage(
  jobsDir: string,
  jobId: string,
): Promise<CountedUsage | null> {
  try {
    const value = JSON.parse(await Deno.readTextFile(countedUsageFile(jobsDir, jobId)));
    return value && typeof value === "object" ? value as CountedUsage : null;
  } catch {
    return null;
  }
}

function empty(): CountedUsage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    costUsd: 0,
    unpriced: false,
    models: [],
    reports: 0,
  };
}

/** The counted usage of the jobs the gateway relayed for. */
export class GatewayLedger {
  readonly #jobsDir: string;
  readonly #jobs = new Map<string, { pylon: string; usage: CountedUsage }>();
  /** Writes of each job's file, in order. */
  readonly #writes = new Map<string, Promise<void>>();

  constructor(jobsDir: string) {
    this.#jobsDir = jobsDir;
  }

  /** Adds `delta` to `jobId`'s usage and returns the new total. */
  add(jobId: string, pylon: string, delta: UsageDelta): CountedUsage {
    let entry = this.#jobs.get(jobId);
    if (!entry) {
      entry = { pylon, usage: empty() };
      this.#jobs.set(jobId, entry);
    }
    const u = entry.usage;
    u.inputTokens += delta.inputTokens;
    u.outputTokens += delta.outputTokens;
    u.cacheReadTokens += delta.cacheReadTokens;
    u.cacheCreationTokens += delta.cacheCreationTokens;
    if (delta.costUsd === null) u.unpriced = true;
    else u.costUsd = Math.round((u.costUsd + delta.costUsd) * 1e9) / 1e9;
    if (delta.model && !u.models.includes(delta.model)) u.models.push(delta.model);
    u.reports++;
    this.#persist(jobId, { ...u, models: [...u.models] });
    return { ...u, models: [...u.models] };
  }

  /** `jobId`'s counted usage (memory, else its file after a restart). */
  async of(jobId: string, pylon: string): Promise<CountedUsage | null> {
    const known = this.#jobs.get(jobId);
    if (known) return { ...known.usage, models: [...known.usage.models] };
    const saved = await readCountedUsage(this.#jobsDir, jobId);
    if (saved) this.#jobs.set(jobId, { pylon, usage: { ...empty(), ...saved } });
    return saved;
  }

  /** The jobs counted in memory, with their pylon and usage. */
  entries(): { jobId: string; pylon: string; usage: CountedUsage }[] {
    return [...this.#jobs].map(([jobId, e]) => ({ jobId, pylon: e.pylon, usage: e.usage }));
  }

  /** Forgets a job that ended (its usage is the store's now). */
  forget(jobId: string): void {
    this.#jobs.delete(jobId);
  }

  /** Waits for the pending writes of `jobId`'s file. */
  async flushed(jobId: string): Promise<void> {
    await this.#writes.get(jobId);
  }

  /** Waits for every pending write (shutdown, tests). */
  async idle(): Promise<void> {
    await Promise.all(this.#writes.values());
  }

  #persist(jobId: string, usage: CountedUsage): void {
    const file = countedUsageFile(this.#jobsDir, jobId);
    const previous = this.#writes.get(jobId) ?? Promise.resolve();
    const next = previous.then(() => writeAtomically(file, JSON.stringify(usage) + "\n"))
      .catch(() => {});
    this.#writes.set(jobId, next);
  }
}

/**
 * A finished job's usage with the gateway's counts in place of the agent's own figures for
 * tokens and dollars (the gateway read them off every response; the agent's CLI estimates with
 * its own price list); turns and API time stay the agent's. Unchanged without counts.
 */
export function withCountedUsage(
  reported: JobUsage | null | undefined,
  counted: CountedUsage | null,
  auth: string | undefined,
): JobUsage | null | undefined {
  if (!counted || counted.reports === 0) return reported;
  return {
    // To the micro-dollar, as result.json's figures are kept (`runner/result.ts`).
    costUsd: counted.unpriced ? reported?.costUsd ?? null : Math.round(counted.costUsd * 1e6) / 1e6,
    costBasis: auth === "oauth" ? "oauth" : "api",
    inputTokens: counted.inputTokens,
    outputTokens: counted.outputTokens,
    cacheReadTokens: counted.cacheReadTokens,
    cacheCreationTokens: counted.cacheCreationTokens,
    numTurns: reported?.numTurns ?? null,
    durationApiMs: reported?.durationApiMs ?? null,
    models: [...new Set([...(reported?.models ?? []), ...counted.models])],
  };
}
