/**
 * Whether a budget's window is at its cap, computed from the stored jobs on every check (never
 * kept only in memory, so it survives restarts): what finished jobs spent in the current day
 * or month (in the budget's zone), plus a reservation for each running job.
 *
 * A running job reserves its pylon's `agent.max_cost_usd`; without one, the average cost of
 * the pylon's last 20 finished jobs that reported a cost; with no such job, $1. Its tokens
 * reserve the same average of tokens (none when unknown). So ten jobs cannot all start at
 * $19.90 of $20: the first one's reservation reaches the cap.
 *
 * @module
 */

import type { Budget, ResolvedPylon } from "../config/mod.ts";
import type { Job, JobStore } from "../store/mod.ts";
import { formatUsd, totalTokens } from "../store/usage.ts";

/** What a running job reserves when neither its cap nor an average is known (dollars). */
export const UNKNOWN_JOB_USD = 1;
/** How many of a pylon's last finished jobs the reservation averages. */
export const ESTIMATE_JOBS = 20;
/** `error` of a held job released by `pylon approve`: it starts once whatever the budget. */
export const RUN_ANYWAY = "approved: runs once over budget";
/** `error` of a cron run dismissed because its budget was at its cap. */
export const SKIPPED_OVER_BUDGET = "skipped: over budget";

/**
 * Approves `job`: one awaiting approval is queued; a held one is queued to start once whatever
 * the budget (marked {@linkcode RUN_ANYWAY}, which its history also records). Null when it is
 * in neither status (someone moved it first). With `source` (who pressed, from where), the
 * history's reason names them: "approved: runs once over budget · by @ada via telegram".
 */
export function approveJob(
  store: JobStore,
  job: Job,
  source?: { by: string; via: string },
): Promise<Job | null> {
  const by = source ? ` · by ${source.by} via ${source.via}` : "";
  return job.status === "held"
    ? store.transition(job.id, "held", "queued", { error: RUN_ANYWAY }, `${RUN_ANYWAY}${by}`)
    : store.transition(job.id, "awaiting_approval", "queued", {}, by ? `approved${by}` : undefined);
}

/** A budget window: from `start` (inclusive) to `end` (the next reset). */
export interface BudgetWindow {
  start: Date;
  end: Date;
}

/** The day or month around `now` in zone `tz`. Pure. */
export function budgetWindow(now: Date, tz: string, unit: "day" | "month"): BudgetWindow {
  const { year, month, day } = localParts(now, tz);
  return unit === "day"
    ? {
      start: localMidnight(year, month - 1, day, tz),
      end: localMidnight(year, month - 1, day + 1, tz),
    }
    : { start: localMidnight(year, month - 1, 1, tz), end: localMidnight(year, month, 1, tz) };
}

/** A budget at its cap: why, and when its window resets. */
export interface BudgetBlock {
  reason: string;
  resetsAt: Date;
}

/** What {@linkcode budgetBlock} reads. */
export interface BudgetScope {
  /** The stores whose jobs count against the budget. */
  stores: readonly JobStore[];
  /** The live config of a pylon (for its `max_cost_usd`). */
  pylonOf(name: string): ResolvedPylon | undefined;
  now: Date;
  /** Names the budget in the reason: "daily budget" or "all pylons' daily budget". */
  label?: string | undefined;
}

/** The first of `budget`'s caps that its window has reached, or null when all are under. */
export async function budgetBlock(budget: Budget, scope: BudgetScope): Promise<BudgetBlock | null> {
  const { stores, now } = scope;
  const day = budgetWindow(now, budget.timezone, "day");
  const needMonth = budget.monthlyUsd !== undefined;
  const month = needMonth ? budgetWindow(now, budget.timezone, "month") : day;
  const since = needMonth ? month.start : day.start;
  const records = (await Promise.all(stores.map((s) => s.usageSince(since)))).flat();
  const running = (await Promise.all(stores.map((s) => s.list({ status: "running", limit: 1000 }))))
    .flat();
  const reserved = { usd: 0, tokens: 0 };
  const estimates = new Map<string, { usd: number; tokens: number }>();
  for (const job of running) {
    let e = estimates.get(job.pylon);
    if (!e) {
      const store = stores.find((s) => s.pylon === job.pylon);
      e = store
        ? await estimate(store, scope.pylonOf(job.pylon))
        : { usd: UNKNOWN_JOB_USD, tokens: 0 };
      estimates.set(job.pylon, e);
    }
    reserved.usd += e.usd;
    reserved.tokens += e.tokens;
  }
  const label = scope.label ?? "";
  const held = (what: string, cap: string, spent: string, reserve: string, end: Date) => ({
    reason: `${label}${what} of ${cap} reached: ${spent} spent` +
      (running.length
        ? `, ${reserve} reserved by ${running.length} running job` +
          (running.length === 1 ? "" : "s")
        : ""),
    resetsAt: end,
  });
  const inDay = records.filter((r) => r.at >= day.start);
  if (budget.dailyUsd !== undefined) {
    const spent = inDay.reduce((n, r) => n + (r.usage.costUsd ?? 0), 0);
    if (spent + reserved.usd >= budget.dailyUsd) {
      return held(
        "daily budget",
        formatUsd(budget.dailyUsd),
        formatUsd(spent),
        formatUsd(reserved.usd),
        day.end,
      );
    }
  }
  if (budget.monthlyUsd !== undefined) {
    const spent = records.reduce((n, r) => n + (r.usage.costUsd ?? 0), 0);
    if (spent + reserved.usd >= budget.monthlyUsd) {
      return held(
        "monthly budget",
        formatUsd(budget.monthlyUsd),
        formatUsd(spent),
        formatUsd(reserved.usd),
        month.end,
      );
    }
  }
  if (budget.dailyTokens !== undefined) {
    const spent = inDay.reduce((n, r) => n + (totalTokens(r.usage) ?? 0), 0);
    if (spent + reserved.tokens >= budget.dailyTokens) {
      return held(
        "daily token budget",
        `${budget.dailyTokens} tokens`,
        `${spent} tokens`,
        `${Math.round(reserved.tokens)} tokens`,
        day.end,
      );
    }
  }
  return null;
}

/** What one running job of `pylon` reserves. */
async function estimate(
  store: JobStore,
  pylon: ResolvedPylon | undefined,
): Promise<{ usd: number; tokens: number }> {
  const recent: Job[] = await store.list({
    status: ["completed", "failed", "timed_out", "killed"],
    limit: ESTIMATE_JOBS,
  });
  const costs = recent.map((j) => j.usage?.costUsd).filter((n): n is number => n != null);
  const tokens = recent.map((j) => totalTokens(j.usage)).filter((n): n is number => n !== null);
  const avg = (ns: number[]) => ns.reduce((a, b) => a + b, 0) / ns.length;
  return {
    usd: pylon?.agent.settings.maxCostUsd ?? (costs.length ? avg(costs) : UNKNOWN_JOB_USD),
    tokens: tokens.length ? avg(tokens) : 0,
  };
}

function localParts(at: Date, tz: string) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    year: get("year"),
    month: get("month"),
    day: get("day"),
    hour: get("hour"),
    minute: get("minute"),
    second: get("second"),
  };
}

/** How far `tz`'s wall clock is ahead of UTC at `at` (ms). */
function offsetMs(at: Date, tz: string): number {
  const p = localParts(at, tz);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * The first instant of a local date in `tz` (`month0` and `day` may overflow): its 00:00, or,
 * where a DST change skips midnight (e.g. America/Santiago in September: 00:00 → 01:00), the
 * moment the clocks jump. Design note: 00:00 minus the offset before or after the change gives
 * two candidates; the earliest whose local date is the wanted one is the day's start.
 */
function localMidnight(year: number, month0: number, day: number, tz: string): Date {
  const wall = Date.UTC(year, month0, day);
  const want = new Date(wall);
  const first = wall - offsetMs(new Date(wall), tz);
  const second = wall - offsetMs(new Date(first), tz);
  const isWanted = (at: number) => {
    const p = localParts(new Date(at), tz);
    return p.year === want.getUTCFullYear() && p.month === want.getUTCMonth() + 1 &&
      p.day === want.getUTCDate();
  };
  const start = [first, second].sort((a, b) => a - b).find(isWanted) ?? second;
  return new Date(start);
}
