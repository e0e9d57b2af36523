/**
 * How long the daemon's event loop stalls while the CLI hammers the job store.
 *
 * `DatabaseSync` is synchronous: while a statement waits for another connection's lock, the
 * whole daemon (webhooks, timers, container streams) waits with it. This runs the daemon's side
 * in-process (the home lock, the store opened as `runDaemon` opens it, a steady stream of inserts
 * and status changes) with a 1 ms timer measuring how late each tick fires, while readers run
 * beside it as subprocesses (`_store_peer.ts`), in four loops:
 *
 * 1. readers as the CLI reads since 0.2 (read-only), the daemon's store as it is now (WAL
 *    checkpoints on the daemon's worker);
 * 2. the baseline, in the same run: readers as the CLI read before 0.2 (read-write: each open
 *    took the write lock for its schema check), the daemon's store with its old 5 s busy timeout;
 * 3. and 4. the same two stores while, besides the readers, an outside writer (a `sqlite3`
 *    shell, a backup) holds the write lock for 1 s every 2 s.
 *
 * Then the real `pylon jobs --json` CLI in the same loops against the store as it is now, and
 * last the same writes with no reader at all: the stalls the machine itself causes (GC, a busy
 * CPU), below which no store can go.
 *
 *   deno run -A bench/cli_stall.ts [--seconds 8] [--parallel 4]
 */

// deno-lint-ignore-file no-console

import { parseArgs } from "node:util";
import { createPylonPaths } from "../src/config/mod.ts";
import { acquireHomeLock } from "../src/daemon/mod.ts";
import { openJobStore, WalCheckpointer } from "../src/store/mod.ts";
import { pylonCommand } from "../tests/_helpers/process.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "8" },
    parallel: { type: "string", default: "4" },
  },
});
const SECONDS = Number(values.seconds);
const PARALLEL = Number(values.parallel);
const PEER = new URL("./_store_peer.ts", import.meta.url).pathname;

type Reader = "read-only" | "read-write" | "pylon jobs" | "none";

interface Result {
  name: string;
  cliRuns: number;
  writes: number;
  failedWrites: number;
  maxStallMs: number;
  p99StallMs: number;
}

async function scenario(
  name: string,
  o: { reader: Reader; busyTimeoutMs?: number; holdMs?: number; before?: boolean },
): Promise<Result> {
  const root = await Deno.makeTempDir({ prefix: "pylon-stall-" });
  const paths = createPylonPaths(root);
  const lock = await acquireHomeLock(paths, "daemon");
  // Now, as runDaemon: WAL checkpoints on a worker. Before 0.2 they ran inside the COMMIT.
  const checkpoints = o.before ? undefined : new WalCheckpointer();
  const store = await openJobStore(paths.pylonDb("gate"), {
    pylon: "gate",
    checkpoints,
    ...(o.busyTimeoutMs ? { busyTimeoutMs: o.busyTimeoutMs } : {}),
  });
  const env = { PYLON_HOME: root, HOME: root, NO_COLOR: "1" };
  const lags: number[] = [];
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    lags.push(now - last - 1);
    last = now;
  }, 1);
  const until = performance.now() + SECONDS * 1000;
  let writes = 0, failedWrites = 0, cliRuns = 0;

  const writer = (async () => {
    let previous: string | undefined;
    while (performance.now() < until) {
      const id = crypto.randomUUID();
      try {
        await store.insert({
          id,
          pylon: "gate",
          status: "queued",
          trigger: "webhook",
          payload: { n: writes },
          headers: {},
        });
        if (previous) await store.transition(previous, "queued", "running");
        writes++;
      } catch {
        failedWrites++;
      }
      previous = id;
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const reader = async () => {
    while (o.reader !== "none" && performance.now() < until) {
      const command = o.reader === "pylon jobs"
        ? pylonCommand(["jobs", "--json", "--limit", "50"], { env })
        : peer(o.reader, paths.pylonDb("gate"));
      const { code } = await command.output();
      if (code !== 0) throw new Error(`${name}: a CLI reader exited ${code}`);
      cliRuns++;
    }
  };
  const holder = async () => {
    while (o.holdMs && performance.now() < until - o.holdMs) {
      await peer("hold", paths.pylonDb("gate"), String(o.holdMs)).output();
      await new Promise((r) => setTimeout(r, 2 * o.holdMs!));
    }
  };
  await Promise.all([writer, holder(), ...Array.from({ length: PARALLEL }, reader)]);
  clearInterval(ticker);
  await store.close();
  await checkpoints?.stop();
  lock.release();
  await Deno.remove(root, { recursive: true });
  lags.sort((a, b) => a - b);
  return {
    name,
    cliRuns,
    writes,
    failedWrites,
    maxStallMs: lags.at(-1) ?? 0,
    p99StallMs: lags[Math.floor(lags.length * 0.99)] ?? 0,
  };
}

function peer(...args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PEER, ...args],
    stdout: "null",
    stderr: "inherit",
  });
}

const NOW =
  "now: read-only readers, 50 ms busy timeout, busy writes retried on a timer, checkpoints on a worker";
const BEFORE = "before 0.2: read-write readers, 5 s busy timeout inside SQLite";
const HOLD = ", an outside writer holds the lock 1 s in 3";
const results = [
  await scenario(NOW, { reader: "read-only" }),
  await scenario(BEFORE, { reader: "read-write", busyTimeoutMs: 5000, before: true }),
  await scenario(NOW + HOLD, { reader: "read-only", holdMs: 1000 }),
  await scenario(BEFORE + HOLD, {
    reader: "read-write",
    busyTimeoutMs: 5000,
    holdMs: 1000,
    before: true,
  }),
  await scenario("now, readers are the real `pylon jobs --json`", { reader: "pylon jobs" }),
  // The floor: the same writes with no reader at all, so a loaded machine's own stalls show.
  await scenario("now, no readers (this machine's floor)", { reader: "none" }),
];
console.log(`\nEvent-loop stall of the daemon's side, ${PARALLEL} reader loops, ${SECONDS} s each`);
console.log("| scenario | reads | writes (failed) | worst stall | p99 stall |");
console.log("| --- | --- | --- | --- | --- |");
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.cliRuns} | ${r.writes} (${r.failedWrites}) | ` +
      `${r.maxStallMs.toFixed(1)} ms | ${r.p99StallMs.toFixed(1)} ms |`,
  );
}
const ratio = (a: Result, b: Result) => (a.maxStallMs / Math.max(b.maxStallMs, 0.001)).toFixed(2);
console.log(
  `worst stall, now / before: ${ratio(results[0]!, results[1]!)} with readers only, ` +
    `${ratio(results[2]!, results[3]!)} with an outside writer`,
);
