/**
 * Scenario 1, webhook ingest throughput: `wrk` (closed loop) POSTs the signed GitHub-like body
 * to `/gh` of the bare baseline server, then of the daemon with only `gh`, then of the daemon
 * with many pylons loaded (all idle but `gh`), with the same settings. Afterwards every `202`
 * wrk saw must be a job row in `data/gh/jobs.db`.
 *
 * @module
 */

import { countJobs, createBenchHome, GH_PATH, ghRequest, type PylonMix } from "./_home.ts";
import { procMemory, startBaseline, startDaemon } from "./_procs.ts";
import type { Row, ScenarioResult } from "./_report.ts";
import { runWrk, type WrkOptions, type WrkResult } from "./_wrk.ts";

/** A first, unmeasured wrk run against each server (JIT, page cache). */
const WARMUP_SECONDS = 1;

/** The shape of scenario 1. */
export interface ThroughputOptions extends WrkOptions {
  /** The second daemon's pylons. */
  loaded: PylonMix;
}

/** Runs scenario 1. */
export async function measureThroughput(options: ThroughputOptions): Promise<ScenarioResult> {
  const request = await ghRequest();
  await using scratch = await createBenchHome();
  const wrk = { ...options, scratch: scratch.root };
  let baseline: WrkResult;
  {
    await using server = await startBaseline();
    await runWrk(server.url + GH_PATH, request, { ...wrk, seconds: WARMUP_SECONDS });
    baseline = await runWrk(server.url + GH_PATH, request, wrk);
  }
  const one = await loadDaemon({ webhookPylons: 1, cronPylons: 0 }, options);
  const many = await loadDaemon(options.loaded, options);

  const shape = `wrk -t${options.threads} -c${options.connections} -d${options.seconds}s`;
  const row = (label: string, run: DaemonRun): Row => ({
    metric: `Webhook ingest, ${shape}, ${label}`,
    unit: "req/s",
    pylon: run.wrk.rps,
    baseline: baseline.rps,
    aim: "≥ 50 % of baseline",
    met: run.wrk.rps >= baseline.rps / 2,
  });
  const { webhookPylons, cronPylons } = options.loaded;
  return {
    name: "throughput",
    ok: one.ok && many.ok,
    rows: [
      row("1 pylon", one),
      row(`${webhookPylons} webhook + ${cronPylons} cron pylons loaded`, many),
    ],
    notes: [
      `baseline: ${baseline.requests} requests, statuses ${JSON.stringify(baseline.statuses)}, ` +
      `wrk latency p50 ${baseline.latencyMs.p50} ms p99 ${baseline.latencyMs.p99} ms`,
      ...one.notes.map((n) => `1 pylon: ${n}`),
      ...many.notes.map((n) => `${webhookPylons + cronPylons} pylons: ${n}`),
    ],
  };
}

interface DaemonRun {
  wrk: WrkResult;
  ok: boolean;
  notes: string[];
}

/** Loads a daemon on a fresh home with `mix`, then checks every 202 against `jobs.db`. */
async function loadDaemon(mix: PylonMix, options: WrkOptions): Promise<DaemonRun> {
  const request = await ghRequest();
  await using home = await createBenchHome(mix);
  const wrk = { ...options, scratch: home.root };
  let warm: WrkResult;
  let measured: WrkResult;
  let rssAfter: number;
  {
    await using daemon = await startDaemon(home.root);
    warm = await runWrk(daemon.url + GH_PATH, request, { ...wrk, seconds: WARMUP_SECONDS });
    measured = await runWrk(daemon.url + GH_PATH, request, wrk);
    rssAfter = (await procMemory(daemon.pid)).rss;
  }
  const accepted = (warm.statuses["202"] ?? 0) + (measured.statuses["202"] ?? 0);
  const jobs = countJobs(home.root, "gh");
  const stored = Object.values(jobs).reduce((a, b) => a + b, 0);
  // wrk stops counting at its deadline with up to one request per connection still in flight;
  // the daemon may have stored those jobs, but it must never have acknowledged one it lost.
  const inFlight = stored - accepted;
  const ok = stored >= accepted && inFlight <= 2 * options.connections &&
    nonAccepted(warm) + nonAccepted(measured) === 0 && measured.socketErrors === 0;
  return {
    wrk: measured,
    ok,
    notes: [
      `${measured.requests} requests, statuses ${JSON.stringify(measured.statuses)}, ` +
      `socket errors ${measured.socketErrors}, wrk latency p50 ${measured.latencyMs.p50} ms ` +
      `p99 ${measured.latencyMs.p99} ms max ${measured.latencyMs.max} ms`,
      `jobs.db holds ${stored} jobs ${JSON.stringify(jobs)} for ${accepted} 202s seen by wrk ` +
      `(warm-up included; ` +
      `${inFlight === 0 ? "exact match" : `${inFlight} more: in flight at wrk's deadlines`})` +
      (ok ? "" : " -- CHECK FAILED"),
      `daemon RSS right after the load: ${rssAfter.toFixed(1)} MiB`,
    ],
  };
}

function nonAccepted(result: WrkResult): number {
  return Object.entries(result.statuses)
    .filter(([status]) => status !== "202")
    .reduce((sum, [, n]) => sum + n, 0);
}
