/**
 * Scenario 2, latency at a fixed rate: the open-loop generator of `_open_loop.ts` sends the
 * signed body to `/gh` at a constant rate, to the bare baseline, then to the daemon with only
 * `gh`, then to the daemon with many pylons loaded (all idle but `gh`).
 *
 * @module
 */

import { createBenchHome, GH_PATH, ghRequest, type PylonMix } from "./_home.ts";
import { type OpenLoopOptions, type OpenLoopResult, runOpenLoop } from "./_open_loop.ts";
import { startBaseline, startDaemon } from "./_procs.ts";
import type { Row, ScenarioResult } from "./_report.ts";

/** The shape of scenario 2. */
export interface LatencyOptions extends OpenLoopOptions {
  /** The second daemon's pylons. */
  loaded: PylonMix;
}

/** Runs scenario 2. */
export async function measureLatency(options: LatencyOptions): Promise<ScenarioResult> {
  const request = await ghRequest();
  let baseline: OpenLoopResult;
  {
    await using server = await startBaseline();
    baseline = await runOpenLoop(server.url + GH_PATH, request, options);
  }
  const daemonRun = async (mix: PylonMix) => {
    await using home = await createBenchHome(mix);
    await using daemon = await startDaemon(home.root);
    return await runOpenLoop(daemon.url + GH_PATH, request, options);
  };
  const one = await daemonRun({ webhookPylons: 1, cronPylons: 0 });
  const many = await daemonRun(options.loaded);

  const allAccepted = (r: OpenLoopResult) => (r.statuses["202"] ?? 0) === r.sent;
  const ok = allAccepted(baseline) && allAccepted(one) && allAccepted(many);
  const { webhookPylons, cronPylons } = options.loaded;
  const rows = (label: string, r: OpenLoopResult): Row[] => {
    const at = `${options.rate} req/s open loop, ${label}`;
    return [
      row(`Latency p50, ${at}`, r.latencyMs.p50, baseline.latencyMs.p50, ""),
      row(`Latency p99, ${at}`, r.latencyMs.p99, baseline.latencyMs.p99, "< 20 ms"),
      row(`Latency max, ${at}`, r.latencyMs.max, baseline.latencyMs.max, ""),
    ];
  };
  return {
    name: "latency",
    ok,
    rows: [
      ...rows("1 pylon", one),
      ...rows(`${webhookPylons} webhook + ${cronPylons} cron pylons loaded`, many),
    ],
    notes: [
      `${options.warmupSeconds} s warm-up, then ${options.seconds} s measured; latency from ` +
      `the fetch() call to the response`,
      describe("baseline", baseline),
      describe("pylon, 1 pylon", one),
      describe(`pylon, ${webhookPylons + cronPylons} pylons`, many) +
      (ok ? "" : " -- CHECK FAILED: not every request got a 202"),
    ],
  };
}

function row(metric: string, pylon: number, baseline: number, aim: string): Row {
  return { metric, unit: "ms", pylon, baseline, aim, met: aim === "" || pylon < 20 };
}

function describe(who: string, r: OpenLoopResult): string {
  return `${who}: ${r.sent} sent, statuses ${JSON.stringify(r.statuses)}; from the scheduled ` +
    `send time p50 ${ms(r.scheduledMs.p50)} p99 ${ms(r.scheduledMs.p99)} max ` +
    `${ms(r.scheduledMs.max)}; generator send lag p50 ${ms(r.sendLagMs.p50)} max ` +
    `${ms(r.sendLagMs.max)}`;
}

function ms(n: number): string {
  return `${n.toFixed(2)} ms`;
}
