// deno-lint-ignore-file no-console
/**
 * git-clone workspace with a warm mirror cache against a plain `git clone` of the same
 * repository, both over `git daemon` on loopback, measured in the same run.
 *
 * The repository has a long history (3,000 commits by default, ten 3 KB files rewritten per
 * commit, about 30 MB packed, made with `git fast-import`) and a small tree (200 files), like a
 * mature project: a plain clone pays for transferring and indexing all of it; a pylon job pays
 * for a local copy of the mirror, the checkout, and a no-op fetch that overlaps the checkout.
 * Both write the same 200 files. Dirty pages are flushed (`sync`) before each timed run, so one
 * run's writeback does not land on the next.
 *
 * Run with `deno run` only (it is not a `Deno.bench` file; `deno bench` loads it and does nothing):
 *   deno run -A bench/workspace_bench.ts [runs=9] [commits=3000]
 *
 * @module
 */

import { join } from "node:path";
import { createLogger } from "../src/log/mod.ts";
import { createGitRunner, prepareWorkspace } from "../src/workspace/mod.ts";

const ENV: Record<string, string> = {
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  NO_PROXY: "127.0.0.1",
  "no_proxy": "127.0.0.1",
};
const FILES = 200;
const CHANGES_PER_COMMIT = 10;
const WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron " +
  "pi rho sigma tau upsilon phi chi psi omega function return const let await async import " +
  "export class interface type string number boolean undefined null true false if else for")
  .split(" ");

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fileText(next: () => number): string {
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) {
    const words: string[] = [];
    for (let w = 0; w < 8; w++) words.push(WORDS[Math.floor(next() * WORDS.length)]!);
    lines.push(words.join(" "));
  }
  return lines.join("\n") + "\n";
}

async function git(args: string[], cwd?: string): Promise<void> {
  const out = await new Deno.Command("git", {
    args,
    env: ENV,
    stdout: "null",
    stderr: "piped",
    ...(cwd ? { cwd } : {}),
  }).output();
  if (out.code !== 0) {
    throw new Error(`Cannot run git ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Creates a bare repository with `commits` commits on `trunk` via `git fast-import`. */
async function makeRepository(dir: string, commits: number): Promise<void> {
  await git(["init", "--quiet", "--bare", "--initial-branch=trunk", dir]);
  const child = new Deno.Command("git", {
    args: ["fast-import", "--quiet"],
    cwd: dir,
    env: ENV,
    stdin: "piped",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const enc = new TextEncoder();
  const next = random(42);
  let chunk: string[] = [];
  const flush = async () => {
    await writer.write(enc.encode(chunk.join("")));
    chunk = [];
  };
  for (let c = 1; c <= commits; c++) {
    const message = `change ${c}\n`;
    const when = 1_700_000_000 + c * 60;
    chunk.push(
      "commit refs/heads/trunk\n",
      `committer Bench <bench@pylon.invalid> ${when} +0000\n`,
      `data ${enc.encode(message).length}\n${message}`,
    );
    const touched = c === 1 ? FILES : CHANGES_PER_COMMIT;
    for (let f = 0; f < touched; f++) {
      const index = c === 1 ? f : Math.floor(next() * FILES);
      const text = fileText(next);
      chunk.push(`M 100644 inline src/file_${index}.txt\ndata ${enc.encode(text).length}\n${text}`);
    }
    chunk.push("\n");
    if (c % 200 === 0) await flush();
  }
  await flush();
  await writer.close();
  const status = await child.status;
  if (!status.success) {
    throw new Error("Cannot create the benchmark repository: fast-import failed");
  }
  await git(["repack", "-a", "-d", "-q"], dir);
}

async function startDaemon(base: string): Promise<{ url: string; stop(): Promise<void> }> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const child = new Deno.Command("git", {
    args: [
      "daemon",
      "--listen=127.0.0.1",
      `--port=${port}`,
      "--export-all",
      "--reuseaddr",
      `--base-path=${base}`,
      base,
    ],
    env: ENV,
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0;; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return {
    url: `git://127.0.0.1:${port}/bench.git`,
    async stop() {
      child.kill();
      await child.status;
    },
  };
}

/** Flushes dirty pages, so one run's writeback does not slow down the next one. */
async function settle(): Promise<void> {
  await new Deno.Command("sync", { stdout: "null", stderr: "null" }).output();
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function median(ms: number[]): number {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const runs = Number(Deno.args[0] ?? 9);
  const commits = Number(Deno.args[1] ?? 3000);
  const root = await Deno.makeTempDir({ prefix: "pylon-ws-bench-" });
  const served = join(root, "served");
  await Deno.mkdir(served);
  const made = await timed(() => makeRepository(join(served, "bench.git"), commits));
  let packBytes = 0;
  for await (const e of Deno.readDir(join(served, "bench.git", "objects", "pack"))) {
    packBytes += (await Deno.stat(join(served, "bench.git", "objects", "pack", e.name))).size;
  }
  console.log(
    `repository: ${commits} commits, ${FILES} files, pack ${(packBytes / 1e6).toFixed(1)} MB ` +
      `(made in ${(made / 1000).toFixed(1)} s)`,
  );
  const daemon = await startDaemon(served);
  try {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), format: "json" });
    const deps = { git: createGitRunner({ env: ENV }), log };
    const target = (name: string) => ({
      jobDir: join(root, "jobs", name),
      reposDir: join(root, "repos"),
    });
    const spec = { type: "git-clone" as const, repo: daemon.url };
    const cold = await timed(() => prepareWorkspace(spec, target("cold"), deps));
    const plain: number[] = [];
    const cached: number[] = [];
    for (let i = 0; i < runs; i++) {
      await settle();
      plain.push(
        await timed(() => git(["clone", "--quiet", daemon.url, join(root, "plain", `${i}`)])),
      );
      await settle();
      cached.push(await timed(() => prepareWorkspace(spec, target(`warm-${i}`), deps)));
    }
    const fetches = lines.map((l) => JSON.parse(l)).filter((l) =>
      l.event === "workspace.mirror.fetched"
    )
      .map((l) => l.ms as number);
    const p = median(plain);
    const c = median(cached);
    console.log(`plain git clone            median ${p.toFixed(0).padStart(6)} ms  (${runs} runs)`);
    console.log(
      `pylon git-clone, cold      once   ${cold.toFixed(0).padStart(6)} ms  (creates the mirror)`,
    );
    console.log(`pylon git-clone, warm      median ${c.toFixed(0).padStart(6)} ms  (${runs} runs)`);
    console.log(
      `  its fetch, overlapped     median ${
        median(fetches).toFixed(0).padStart(6)
      } ms  (a round trip to git daemon)`,
    );
    console.log(`ratio plain / warm: ${(p / c).toFixed(1)}x (aim: >= 5x)`);
  } finally {
    await daemon.stop();
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) await main();
