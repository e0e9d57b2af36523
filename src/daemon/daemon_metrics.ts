/**
 * The daemon's Prometheus metrics: jobs by status, cost and tokens (read from the stores at
 * scrape time), queue depth, slots in use, and webhook requests with their latency.
 *
 * @module
 */

import type { GlobalConfig } from "../config/mod.ts";
import type { Dispatcher } from "../queue/mod.ts";
import type { StoreRegistry } from "../store/mod.ts";
import { createMetrics, METRICS_CONTENT_TYPE } from "./metrics.ts";
import type { PylonTable } from "./pylon_table.ts";

/** What the metrics read. */
export interface DaemonMetricsDeps {
  stores: StoreRegistry;
  dispatcher: Dispatcher;
  table: PylonTable;
  config: GlobalConfig;
  /** Tool calls waiting for a person now, by pylon (tool approval). */
  toolCallsWaiting?(): Map<string, number>;
}

/** The daemon's metrics and the hooks that feed them. */
export interface DaemonMetrics {
  observeWebhook(pylon: string, status: number, seconds: number): void;
  render(): Promise<{ body: string; contentType: string }>;
}

/** Registers the daemon's metrics. */
export function createDaemonMetrics(deps: DaemonMetricsDeps): DaemonMetrics {
  const m = createMetrics();
  m.gauge("pylon_jobs", "Jobs by pylon and status", {
    labels: ["pylon", "status"],
    collect: async () => {
      const samples = [];
      for (const pylon of deps.stores.names()) {
        const counts = await deps.stores.get(pylon)!.countByStatus();
        for (const [status, value] of Object.entries(counts)) {
          samples.push({ labels: { pylon, status }, value });
        }
      }
      return samples;
    },
  });
  // Cost and tokens are summed from the stored jobs at scrape time, so they survive restarts
  // (and drop when old jobs are pruned: hence gauges).
  m.gauge(
    "pylon_cost_usd_total",
    "USD the agents reported, by pylon, over the kept jobs (auth: oauth counts what the " +
      "tokens would cost at API prices)",
    {
      labels: ["pylon"],
      collect: async () => {
        const samples = [];
        for (const pylon of deps.stores.names()) {
          const usage = await deps.stores.get(pylon)!.usageTotals();
          samples.push({ labels: { pylon }, value: usage?.costUsd ?? 0 });
        }
        return samples;
      },
    },
  );
  m.gauge("pylon_tool_calls_waiting", "Tool calls waiting for a person's decision, by pylon", {
    labels: ["pylon"],
    collect: () => {
      const waiting = deps.toolCallsWaiting?.() ?? new Map<string, number>();
      return Promise.resolve(
        deps.stores.names().map((pylon) => ({ labels: { pylon }, value: waiting.get(pylon) ?? 0 })),
      );
    },
  });
  m.gauge("pylon_tokens_total", "Tokens the agents reported, by pylon and kind", {
    labels: ["pylon", "kind"],
    collect: async () => {
      const samples = [];
      for (const pylon of deps.stores.names()) {
        const usage = await deps.stores.get(pylon)!.usageTotals();
        const kinds = {
          input: usage?.inputTokens,
          output: usage?.outputTokens,
          "cache_read": usage?.cacheReadTokens,
          "cache_creation": usage?.cacheCreationTokens,
        };
        for (const [kind, value] of Object.entries(kinds)) {
          samples.push({ labels: { pylon, kind }, value: value ?? 0 });
        }
      }
      return samples;
    },
  });
  m.gauge("pylon_queue_depth", "Jobs waiting for a free slot", {
    collect: () => deps.stores.countQueuedAcross(),
  });
  m.gauge("pylon_slots_in_use", "Agent containers this daemon runs", {
    collect: () => deps.dispatcher.runningCount,
  });
  m.gauge("pylon_slots_total", "docker.max_concurrent", {
    collect: () => deps.config.docker.max_concurrent,
  });
  m.gauge("pylon_pylons_active", "Pylons loaded and enabled", {
    collect: () => deps.table.names().length,
  });
  const requests = m.counter(
    "pylon_webhook_requests_total",
    "Webhook requests by pylon and HTTP status",
    {
      labels: ["pylon", "code"],
    },
  );
  const latency = m.histogram("pylon_webhook_duration_seconds", "Time to answer a webhook", {
    labels: ["pylon"],
  });
  return {
    observeWebhook(pylon, status, seconds) {
      requests.inc({ pylon, code: String(status) });
      latency.observe({ pylon }, seconds);
    },
    async render() {
      return { body: await m.render(), contentType: METRICS_CONTENT_TYPE };
    },
  };
}
