/**
 * An open-loop load generator: requests are fired on a fixed schedule whether or not earlier
 * ones have answered (unlike wrk, whose connections wait for their response, so a slow server
 * is sent less and its queueing delay never shows). Latency is measured from each request's
 * *scheduled* send time, as wrk2 does, so a stall in the server or in this generator counts
 * against every request it delayed (no coordinated omission).
 *
 * @module
 */

import type { BenchRequest } from "./_home.ts";

/** What one open-loop run saw (warm-up excluded). */
export interface OpenLoopResult {
  sent: number;
  /** Responses by HTTP status, plus `"error"` for failed fetches. */
  statuses: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
  /** Largest delay between a scheduled send time and the actual `fetch()` call. */
  maxSendLagMs: number;
}

/** The schedule. */
export interface OpenLoopOptions {
  /** Requests per second. */
  rate: number;
  /** Measured duration. */
  seconds: number;
  /** Duration sent first at the same rate and not measured (JIT, connection pool). */
  warmupSeconds: number;
}

/** Sends `request` to `url` at `rate` per second and reports per-request latency. */
export async function runOpenLoop(
  url: string,
  request: BenchRequest,
  options: OpenLoopOptions,
): Promise<OpenLoopResult> {
  const interval = 1000 / options.rate;
  const warmup = Math.round(options.warmupSeconds * options.rate);
  const total = warmup + Math.round(options.seconds * options.rate);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  let maxSendLagMs = 0;

  const fire = (i: number, scheduled: number) => {
    const measured = i >= warmup;
    const lag = performance.now() - scheduled;
    if (measured) maxSendLagMs = Math.max(maxSendLagMs, lag);
    const done = (async () => {
      let status = "error";
      try {
        const res = await fetch(url, {
          method: "POST",
          body: request.body,
          headers: request.headers,
        });
        await res.body?.cancel();
        status = String(res.status);
      } catch {
        // counted as "error"
      }
      if (measured) {
        latencies.push(performance.now() - scheduled);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    })();
    inFlight.add(done);
    done.finally(() => inFlight.delete(done));
  };

  const start = performance.now();
  let next = 0;
  while (next < total) {
    const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
    for (; next < due; next++) fire(next, start + next * interval);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);

  latencies.sort((a, b) => a - b);
  return {
    sent: total - warmup,
    statuses,
    latencyMs: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? NaN,
    },
    maxSendLagMs,
  };
}

/** Nearest-rank percentile of sorted `values`. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
