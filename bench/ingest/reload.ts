/**
 * Scenario 4, config edit to effective: while the daemon runs, rewrite `pylons/edit/pylon.yaml`
 * with a new `trigger.path` and POST to the new path every 5 ms until it answers `202`. The
 * baseline server does the least a hot reload can (`Deno.watchFs` on one file, the daemon's
 * 100 ms debounce, re-read), so its time is the floor: inotify + debounce + polling granularity.
 *
 * @module
 */

import { join } from "node:path";
import { BODY, createBenchHome, webhookYaml } from "./_home.ts";
import { percentile } from "./_open_loop.ts";
import { delay, startBaseline, startDaemon } from "./_procs.ts";
import type { ScenarioResult } from "./_report.ts";

const POLL_MS = 5;
const GIVE_UP_MS = 10_000;
/** Pause between edits so one edit's debounce never swallows the next. */
const SETTLE_MS = 300;

/** The shape of scenario 4. */
export interface ReloadOptions {
  repetitions: number;
}

/** Runs scenario 4. */
export async function measureReload(options: ReloadOptions): Promise<ScenarioResult> {
  await using home = await createBenchHome({ editPath: "/edit-0" });
  const pathFile = join(home.root, "baseline-path.txt");
  await Deno.writeTextFile(pathFile, "/edit-0\n");

  let baseline: number[];
  {
    await using server = await startBaseline(pathFile);
    baseline = await editLoop(
      server.url,
      options.repetitions,
      (path) => Deno.writeTextFile(pathFile, `${path}\n`),
    );
  }
  let pylon: number[];
  {
    await using daemon = await startDaemon(home.root);
    pylon = await editLoop(
      daemon.url,
      options.repetitions,
      (path) => Deno.writeTextFile(home.pylonFile("edit"), webhookYaml("edit", path)),
    );
  }
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  return {
    name: "reload",
    ok: true,
    rows: [
      {
        metric: "Config edit → new path answers, median",
        unit: "ms",
        pylon: median(pylon),
        baseline: median(baseline),
        aim: "",
        met: true,
      },
      {
        metric: "Config edit → new path answers, max",
        unit: "ms",
        pylon: Math.max(...pylon),
        baseline: Math.max(...baseline),
        aim: "",
        met: true,
      },
    ],
    notes: [
      `${options.repetitions} edits each, polled every ${POLL_MS} ms; both debounce 100 ms ` +
      `(src/daemon/watch.ts), which is the floor of either number`,
      `pylon ms: ${pylon.map((x) => x.toFixed(0)).join(" ")}`,
      `baseline ms: ${baseline.map((x) => x.toFixed(0)).join(" ")}`,
    ],
  };
}

async function editLoop(
  url: string,
  repetitions: number,
  edit: (path: string) => Promise<void>,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 1; i <= repetitions; i++) {
    const path = `/edit-${i}`;
    const started = performance.now();
    await edit(path);
    times.push(await pollUntilAccepted(url + path, started));
    await delay(SETTLE_MS);
  }
  return times;
}

async function pollUntilAccepted(url: string, started: number): Promise<number> {
  for (;;) {
    const res = await fetch(url, {
      method: "POST",
      body: BODY,
      headers: { "content-type": "application/json" },
    });
    await res.body?.cancel();
    const elapsed = performance.now() - started;
    if (res.status === 202) return elapsed;
    if (elapsed > GIVE_UP_MS) {
      throw new Error(`${url} still answers ${res.status} ${GIVE_UP_MS} ms after the edit`);
    }
    await delay(POLL_MS);
  }
}
