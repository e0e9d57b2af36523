/**
 * An open-loop load generator: requests are fired on a fixed schedule whether or not earlier
 * ones have answered (unlike wrk, whose connections wait for their response, so a slow server
 * is sent less and its queueing delay never shows). `fetch` opens another connection when all
 * are busy, so a slow response never delays the next send.
 *
 * Latency is reported two ways. From the actual `fetch()` call: the primary number, free of the
 * generator's timer granularity (Deno's timers wake ≥ ~1 ms late, so sends lag their schedule
 * by 0-2 ms whatever the server does). From the scheduled send time, as wrk2 does: that adds
 * the generator's own lag (the same for both servers), and is shown next to it.
 *
 * @module
 */

import type { BenchRequest } from "./_home.ts";

/** A request still unanswered after this long counts as `"error"`. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Percentiles in milliseconds. */
export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

/** What one open-loop run saw (warm-up excluded). */
export interface OpenLoopResult {
  sent: number;
  /** Responses by HTTP status, plus `"error"` for failed fetches. */
  statuses: Record<string, number>;
  /** From the `fetch()` call to the response headers. */
  latencyMs: Percentiles;
  /** From the scheduled send time to the response headers. */
  scheduledMs: Percentiles;
  /** How late `fetch()` was called compared to the schedule. */
  sendLagMs: Percentiles;
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
  const latency: number[] = [];
  const scheduledLatency: number[] = [];
  const sendLag: number[] = [];
  const statuses: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();

  const fire = (measured: boolean, scheduled: number) => {
    const sentAt = performance.now();
    const done = (async () => {
      let status = "error";
      try {
        const res = await fetch(url, {
          method: "POST",
          body: request.body,
          headers: request.headers,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        await res.body?.cancel();
        status = String(res.status);
      } catch {
        // counted as "error"
      }
      if (!measured) return;
      const now = performance.now();
      latency.push(now - sentAt);
      scheduledLatency.push(now - scheduled);
      sendLag.push(sentAt - scheduled);
      statuses[status] = (statuses[status] ?? 0) + 1;
    })();
    inFlight.add(done);
    done.finally(() => inFlight.delete(done));
  };

  const start = performance.now();
  let next = 0;
  while (next < total) {
    const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
    for (; next < due; next++) fire(next >= warmup, start + next * interval);
    const wait = start + next * interval - performance.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.floor(wait))));
  }
  await Promise.all(inFlight);

  return {
    sent: total - warmup,
    statuses,
    latencyMs: percentiles(latency),
    scheduledMs: percentiles(scheduledLatency),
    sendLagMs: percentiles(sendLag),
  };
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
  };
}

/** Nearest-rank percentile of sorted `values`. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
