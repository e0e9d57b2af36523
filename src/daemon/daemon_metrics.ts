/**
 * The daemon's Prometheus metrics: jobs by status (read from the stores at scrape time), queue
 * depth, slots in use, and webhook requests with their latency.
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
