/**
 * Scenario 3, idle memory: the daemon with 50 webhook pylons (half of them signed) and a few
 * cron pylons, and the bare baseline server, each left idle for a while after it listens; then
 * `VmRSS` of each process. Both are `deno run` processes, so the baseline is what the runtime
 * alone costs. A second daemon with a single pylon splits the difference into a fixed part and a
 * per-pylon part.
 *
 * @module
 */

import { createBenchHome, type PylonMix } from "./_home.ts";
import { delay, procMemory, startBaseline, startDaemon } from "./_procs.ts";
import type { ScenarioResult } from "./_report.ts";

/** The shape of scenario 3. */
export interface MemoryOptions extends PylonMix {
  idleSeconds: number;
}

/** Runs scenario 3. */
export async function measureMemory(options: MemoryOptions): Promise<ScenarioResult> {
  await using home = await createBenchHome(options);
  await using oneHome = await createBenchHome();
  const total = options.webhookPylons + options.cronPylons;
  // Started together (idle processes do not disturb each other), read after the same idle time.
  await using daemon = await startDaemon(home.root);
  await using oneDaemon = await startDaemon(oneHome.root);
  await using baseline = await startBaseline();
  await delay(options.idleSeconds * 1000);
  const pylon = await procMemory(daemon.pid);
  const one = await procMemory(oneDaemon.pid);
  const bare = await procMemory(baseline.pid);
  const perPylon = (pylon.rss - one.rss) / (total - 1);
  const ok = new RegExp(`\\b${total} pylons active\\b`).test(daemon.tail());
  return {
    name: "memory",
    ok,
    rows: [{
      metric: `Idle RSS, ${options.webhookPylons} webhook + ${options.cronPylons} cron pylons`,
      unit: "MiB",
      pylon: pylon.rss,
      baseline: bare.rss,
      aim: "< 80 MB",
      met: pylon.rss * 1.048576 < 80,
    }],
    notes: [
      `VmRSS ${options.idleSeconds} s after "listening on"; baseline: an idle bare Deno.serve`,
      `pylon: RssAnon ${pylon.anon.toFixed(1)} MiB + RssFile ${pylon.file.toFixed(1)} MiB; ` +
      `baseline: RssAnon ${bare.anon.toFixed(1)} MiB + RssFile ${bare.file.toFixed(1)} MiB ` +
      `(RssFile: mapped binaries and native addons, shared and reclaimable)`,
      `the same daemon with only \`gh\`: ${one.rss.toFixed(1)} MiB, so ` +
      `${(one.rss - bare.rss).toFixed(1)} MiB fixed over the baseline and ` +
      `${perPylon.toFixed(2)} MiB per further pylon`,
      ok ? `daemon reported ${total} pylons active` : `CHECK FAILED: daemon did not report ` +
        `${total} pylons active:\n${daemon.tail()}`,
    ],
  };
}
