// deno-lint-ignore-file no-console
/**
 * End-to-end ingest benchmark of the real daemon (`pylon start` as a subprocess), each number
 * next to a bare `Deno.serve` baseline measured in the same run:
 *
 * 1. `--throughput`: webhook ingest req/s under `wrk`, and every 202 is a job in data/gh/jobs.db
 * 2. `--latency`: p50/p99/max at a fixed rate, open loop
 * 3. `--memory`: idle RSS with 50 webhook + 3 cron pylons
 * 4. `--reload`: config edit to the new path answering
 *
 * 1 and 2 run the daemon twice: with the one pylon they load, and with 50 webhook + 3 cron
 * pylons loaded (idle), since per-request work can grow with the number of pylons. No flag runs
 * all four. See bench/README.md.
 *
 * Run: `deno run --allow-net --allow-read --allow-write --allow-env --allow-sys
 * --allow-run bench/ingest/run.ts [--throughput] [--latency] [--memory] [--reload]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { measureLatency } from "./latency.ts";
import { measureMemory } from "./memory.ts";
import { measureReload } from "./reload.ts";
import { markdownTable, num, ratio, type ScenarioResult } from "./_report.ts";
import { measureThroughput } from "./throughput.ts";
import { hasWrk } from "./_wrk.ts";

const USAGE = `Usage: deno run <flags of deno task pylon> bench/ingest/run.ts
  [--throughput] [--latency] [--memory] [--reload]  (none: all four)
  [--seconds N]      wrk duration (default 6)
  [--rounds N]       throughput rounds per server, median reported (default 3)
  [--engine stub|real|both]  throughput set-up (default both; real needs a Docker Engine)
  [--connections N]  wrk connections (default 32)
  [--rate N]         open-loop rate, req/s (default 500)
  [--latency-seconds N]  measured open-loop duration (default 10)
  [--repetitions N]  config edits (default 10)`;

interface Scenario {
  selected: boolean | undefined;
  needsWrk?: boolean;
  run(): Promise<ScenarioResult>;
}

/** Runs the selected scenarios; returns the exit code (1 when a correctness check failed). */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      throughput: { type: "boolean" },
      latency: { type: "boolean" },
      memory: { type: "boolean" },
      reload: { type: "boolean" },
      seconds: { type: "string", default: "6" },
      rounds: { type: "string", default: "3" },
      engine: { type: "string", default: "both" },
      connections: { type: "string", default: "32" },
      rate: { type: "string", default: "500" },
      "latency-seconds": { type: "string", default: "10" },
      repetitions: { type: "string", default: "10" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const loaded = { webhookPylons: 50, cronPylons: 3 };
  const all = !values.throughput && !values.latency && !values.memory && !values.reload;
  if (!["stub", "real", "both"].includes(values.engine)) {
    console.error(`--engine must be stub, real or both, not ${JSON.stringify(values.engine)}`);
    return 2;
  }
  const engines = values.engine === "both" ? ["stub", "real"] as const : [values.engine as "stub"];
  const scenarios: Scenario[] = [
    ...engines.map((engine): Scenario => ({
      selected: values.throughput,
      needsWrk: true,
      run: () =>
        measureThroughput({
          threads: 2,
          connections: Number(values.connections),
          seconds: Number(values.seconds),
          rounds: Number(values.rounds),
          engine,
          loaded,
        }),
    })),
    {
      selected: values.latency,
      run: () =>
        measureLatency({
          rate: Number(values.rate),
          seconds: Number(values["latency-seconds"]),
          warmupSeconds: 1,
          loaded,
        }),
    },
    {
      selected: values.memory,
      run: () => measureMemory({ ...loaded, idleSeconds: 3 }),
    },
    {
      selected: values.reload,
      run: () => measureReload({ repetitions: Number(values.repetitions) }),
    },
  ];

  const loadBefore = Deno.loadavg()[0]!;
  const results: ScenarioResult[] = [];
  for (const { selected, needsWrk, run } of scenarios) {
    if (!all && !selected) continue;
    if (needsWrk && !(await hasWrk())) {
      console.log("\n== throughput SKIPPED: wrk is not installed (apt-get install -y wrk)");
      continue;
    }
    const result = await run();
    results.push(result);
    console.log(`\n== ${result.name}${result.ok ? "" : " (CHECK FAILED)"}`);
    for (const r of result.rows) {
      console.log(
        `${r.metric}: pylon ${num(r.pylon)} ${r.unit}, baseline ${num(r.baseline)} ${r.unit}, ` +
          `pylon/baseline ${ratio(r)}${
            r.aim ? `; aim ${r.aim}: ${r.met ? "met" : "NOT MET"}` : ""
          }`,
      );
    }
    for (const note of result.notes) console.log(`  ${note}`);
  }
  console.log(`\n${markdownTable(results)}`);
  // Other work on the machine shows up in every number: say how busy it was.
  console.log(
    `\n(${navigator.hardwareConcurrency} CPUs, deno ${Deno.version.deno}, 1-min load average ` +
      `${loadBefore.toFixed(2)} before, ${Deno.loadavg()[0]!.toFixed(2)} after)`,
  );
  return results.every((r) => r.ok) ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
