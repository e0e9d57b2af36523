/**
 * Scenario 1, webhook ingest throughput: `wrk` (closed loop) POSTs the signed GitHub-like body to
 * five servers, in rounds, each round in a rotated order so that no server always runs first or
 * while the machine is warm:
 *
 * - **bare**: `Deno.serve` answering 202 with no work (`baseline_server.ts`);
 * - **floor**: the work a durable daemon cannot skip (`floor_server.ts`: signature, parse,
 *   group-committed INSERT, one stdout line per job);
 * - **webhook**: adnanh/webhook, the tool users pick instead (HMAC rule, fork/exec of `/bin/true`
 *   per request), skipped with the install command when it is missing;
 * - **pylon, 1 pylon** and **pylon, N pylons** loaded (idle but `gh`).
 *
 * Each server's number is the median of its rounds (one server alone moved 37.7k → 56.5k req/s
 * between two runs, so a single run says little). Every daemon run is checked afterwards: every
 * 202 wrk saw must be a job row in `data/gh/jobs.db`.
 *
 * Two set-ups (`engine`): `stub`, a stand-in Engine that runs nothing (the dispatcher pauses, every
 * job stays queued); `real`, the machine's Docker Engine with the dispatcher's slots full (a `busy`
 * pylon's jobs sleep in busybox containers, so every webhook job queues behind them and each
 * commit wakes a dispatcher that has nothing to start).
 *
 * @module
 */

import { join } from "node:path";
import {
  countJobs,
  createBenchHome,
  GH_PATH,
  GH_SECRET,
  ghRequest,
  type HomeOptions,
  type PylonMix,
} from "./_home.ts";
import {
  procCpuMs,
  procMemory,
  type Server,
  startAdnanhWebhook,
  startBaseline,
  startDaemon,
  startFloor,
  WEBHOOK_INSTALL,
} from "./_procs.ts";
import type { Row, ScenarioResult } from "./_report.ts";
import { runWrk, type WrkOptions, type WrkResult } from "./_wrk.ts";
import { busyImage, fillSlots, removeBusyContainers } from "./_busy.ts";

/** A first, unmeasured wrk run against each server (JIT, page cache). */
const WARMUP_SECONDS = 1;

/** The shape of scenario 1. */
export interface ThroughputOptions extends WrkOptions {
  /** The second daemon's pylons. */
  loaded: PylonMix;
  /** Rounds per server; the median is reported (at least 3 in a report worth keeping). */
  rounds: number;
  /** `stub`: an Engine that runs nothing; `real`: the Docker Engine with every slot busy. */
  engine: "stub" | "real";
}

/** One server under load: how to start it, and what to check after its run. */
interface Contender {
  label: string;
  run(options: WrkOptions): Promise<Measured>;
}

interface Measured {
  wrk: WrkResult;
  /** The server's CPU time per request, µs (all its threads). */
  cpuUs: number;
  ok: boolean;
  notes: string[];
}

/** Runs scenario 1. */
export async function measureThroughput(options: ThroughputOptions): Promise<ScenarioResult> {
  const request = await ghRequest();
  const notes: string[] = [];
  const webhookMissing = !(await hasWebhook());
  if (webhookMissing) notes.push(`adnanh/webhook SKIPPED: not installed (${WEBHOOK_INSTALL})`);
  const { webhookPylons, cronPylons } = options.loaded;
  const loadedLabel = `${webhookPylons} webhook + ${cronPylons} cron pylons`;
  const contenders: Contender[] = [
    { label: "bare", run: (o) => measureServer(() => startBaseline(), request, o) },
    {
      label: "floor",
      run: (o) =>
        withScratch((dir) =>
          measureServer(() => startFloor(join(dir, "floor.db"), GH_SECRET, GH_PATH), request, o)
        ),
    },
    ...(webhookMissing ? [] : [{
      label: "webhook",
      run: (o: WrkOptions) =>
        withScratch((dir) =>
          measureServer(
            async () => {
              const server = await startAdnanhWebhook(dir, GH_PATH.slice(1), GH_SECRET);
              if (!server) throw new Error(`webhook is not installed (${WEBHOOK_INSTALL})`);
              return server;
            },
            request,
            o,
          )
        ),
    }]),
    {
      label: "pylon, 1 pylon",
      run: (o) => loadDaemon({ webhookPylons: 1, cronPylons: 0 }, options.engine, o),
    },
    { label: `pylon, ${loadedLabel}`, run: (o) => loadDaemon(options.loaded, options.engine, o) },
  ];

  const runs = new Map<string, Measured[]>(contenders.map((c) => [c.label, []]));
  for (let round = 0; round < options.rounds; round++) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!);
    for (const contender of order) {
      const measured = await contender.run(options);
      runs.get(contender.label)!.push(measured);
      notes.push(`round ${round + 1}, ${contender.label}: ${measured.notes.join("; ")}`);
    }
  }
  const median = (label: string) => medianOf(runs.get(label)!.map((m) => m.wrk.rps));
  const cpu = (label: string) => medianOf(runs.get(label)!.map((m) => m.cpuUs));
  const shape = `wrk -t${options.threads} -c${options.connections} -d${options.seconds}s, ` +
    `median of ${options.rounds}, ${options.engine} Engine`;
  const rows: Row[] = [{
    metric: `Floor vs bare Deno.serve, ${shape}`,
    unit: "req/s",
    pylon: median("floor"),
    baseline: median("bare"),
    aim: "",
    met: true,
  }];
  for (const label of ["pylon, 1 pylon", `pylon, ${loadedLabel}`]) {
    const pylon = median(label);
    rows.push(
      {
        metric: `Webhook ingest, ${label} vs floor, ${shape}`,
        unit: "req/s",
        pylon,
        baseline: median("floor"),
        aim: "≥ 80 % of floor",
        met: pylon >= 0.8 * median("floor"),
      },
      {
        metric: `Webhook ingest, ${label} vs bare Deno.serve, ${shape}`,
        unit: "req/s",
        pylon,
        baseline: median("bare"),
        aim: "",
        met: true,
      },
    );
    rows.push({
      metric: `CPU per webhook, ${label} vs floor (all threads), ${shape}`,
      unit: "µs",
      pylon: cpu(label),
      baseline: cpu("floor"),
      aim: "",
      met: true,
    });
    if (!webhookMissing) {
      rows.push({
        metric: `Webhook ingest, ${label} vs adnanh/webhook, ${shape}`,
        unit: "req/s",
        pylon,
        baseline: median("webhook"),
        aim: "> 100 % of adnanh/webhook",
        met: pylon > median("webhook"),
      });
    }
  }
  const ok = [...runs.values()].every((list) => list.every((m) => m.ok));
  return { name: `throughput (${options.engine} Engine)`, ok, rows, notes };
}

/** The median of `values` (the mean of the middle two when even). */
export function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function hasWebhook(): Promise<boolean> {
  try {
    await new Deno.Command("webhook", { args: ["-version"], stdout: "null", stderr: "null" })
      .output();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function withScratch<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-ingest-peer-" });
  try {
    return await use(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Warms a baseline server up, then measures it; any answer but 202 fails the check. */
async function measureServer(
  start: () => Promise<Server>,
  request: Awaited<ReturnType<typeof ghRequest>>,
  options: WrkOptions,
): Promise<Measured> {
  return await withScratch(async (scratch) => {
    await using server = await start();
    const url = server.url + GH_PATH;
    await runWrk(url, request, { ...options, seconds: WARMUP_SECONDS, scratch });
    const cpuBefore = await procCpuMs(server.pid);
    const wrk = await runWrk(url, request, { ...options, scratch });
    const cpuUs = cpuPerRequest(await procCpuMs(server.pid) - cpuBefore, wrk);
    const ok = nonAccepted(wrk) === 0 && wrk.socketErrors === 0;
    return {
      wrk,
      cpuUs,
      ok,
      notes: [
        `${Math.round(wrk.rps)} req/s, ${cpuUs} µs CPU/req, ${describe(wrk)}` +
        (ok ? "" : " -- CHECK FAILED"),
      ],
    };
  });
}

/** Loads a daemon on a fresh home with `mix`, then checks every 202 against `jobs.db`. */
async function loadDaemon(
  mix: PylonMix,
  engine: "stub" | "real",
  options: WrkOptions,
): Promise<Measured> {
  const request = await ghRequest();
  const homeOptions: HomeOptions = {
    ...mix,
    ...(engine === "real" ? { busyImage: await busyImage() } : {}),
  };
  await using home = await createBenchHome(homeOptions);
  const wrk = { ...options, scratch: home.root };
  let warm: WrkResult;
  let measured: WrkResult;
  let rssAfter: number;
  let cpuUs: number;
  try {
    await using daemon = await startDaemon(home.root, { engine });
    if (engine === "real") await fillSlots(daemon.url, home.root);
    warm = await runWrk(daemon.url + GH_PATH, request, { ...wrk, seconds: WARMUP_SECONDS });
    const cpuBefore = await procCpuMs(daemon.pid);
    measured = await runWrk(daemon.url + GH_PATH, request, wrk);
    cpuUs = cpuPerRequest(await procCpuMs(daemon.pid) - cpuBefore, measured);
    rssAfter = (await procMemory(daemon.pid)).rss;
  } finally {
    if (engine === "real") await removeBusyContainers(home.root);
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
    cpuUs,
    ok,
    notes: [
      `${Math.round(measured.rps)} req/s, ${cpuUs} µs CPU/req, ${describe(measured)}`,
      `jobs.db holds ${stored} jobs for ${accepted} 202s (` +
      `${inFlight === 0 ? "exact" : `${inFlight} more, in flight at wrk's deadlines`})` +
      (ok ? "" : " -- CHECK FAILED"),
      `RSS after ${rssAfter.toFixed(1)} MiB`,
    ],
  };
}

/** The server's CPU time per answered request (all its threads, the checkpointer's too). */
function cpuPerRequest(cpuMs: number, wrk: WrkResult): number {
  return Math.round(cpuMs * 1000 / Math.max(1, wrk.requests));
}

function describe(wrk: WrkResult): string {
  return `statuses ${JSON.stringify(wrk.statuses)}, socket errors ${wrk.socketErrors}, ` +
    `p50 ${wrk.latencyMs.p50} ms p99 ${wrk.latencyMs.p99} ms`;
}

function nonAccepted(result: WrkResult): number {
  return Object.entries(result.statuses)
    .filter(([status]) => status !== "202")
    .reduce((sum, [, n]) => sum + n, 0);
}
