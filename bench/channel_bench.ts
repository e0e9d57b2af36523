// deno-lint-ignore-file no-console
/**
 * The cost of jobs without host mounts (`docker.mounts: none`) next to the bind-mount mode, in the
 * same run: one daemon per mode (in-process, the real `DockerRunner`), the same pylon and image,
 * timed from just before the webhook `fetch()` to the job's `completed` status (polled every
 * 25 ms through the control API).
 *
 * The job is what a small agent run moves: a `git-clone` workspace of a repository served on
 * loopback over HTTP with Basic credentials (the bind-mount daemon fetches it into its mirror and
 * mounts a clone; the no-mounts init step clones inside the container with the channel's
 * credential), 20 tool events, result.json, and 1 MiB written into the agent state (kept in the
 * job's folder by a bind mount; uploaded as a checked tar over the channel).
 *
 * The image is the Claude Code agent image with the mock entrypoint (node and git), built like the
 * slow tests build it (`PYLON_SLOW_TESTS` is not needed here; the first build takes minutes).
 *
 * Run with `deno run` only:
 *   deno run -A bench/channel_bench.ts [--iterations 7] [--warmup 1]
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  eventually,
  startTestDaemon,
  type TestDaemon,
  writeHome,
} from "../tests/_helpers/daemon.ts";
import { dockerRunnerFor } from "../tests/integration/_agent.ts";
import { DOCKER_UNAVAILABLE, openTestDocker } from "../tests/integration/_docker.ts";
import { mockOnClaudeImage, startAgentProxy } from "../tests/integration/no_mounts_helpers.ts";
import { startGitHttpServer } from "../tests/fakes/git_http_server.ts";
import { createFixture } from "../tests/workspace/_fixture.ts";

const { values } = parseArgs({
  options: {
    iterations: { type: "string", default: "7" },
    warmup: { type: "string", default: "1" },
  },
});
const ITERATIONS = Number(values.iterations);
const WARMUP = Number(values.warmup);

if (DOCKER_UNAVAILABLE) {
  console.log(`channel_bench: skipped (${DOCKER_UNAVAILABLE})`);
  Deno.exit(0);
}

const SCRIPT = [
  "set -e",
  "test -f feature.ts",
  'for i in $(seq 1 20); do echo "{\\"tool\\":\\"Bash\\",\\"summary\\":\\"step $i\\"}" >> "$PYLON_OUT/events.ndjson"; done',
  'head -c 1048576 /dev/urandom > "$HOME/session.bin"',
  `printf '{"status":"completed","result":"ok","session_id":"s1"}' > "$PYLON_OUT/result.json"`,
].join("\n");

function pylonYaml(image: string, repo: string): string {
  return [
    "name: job",
    "trigger:",
    "  type: webhook",
    "  path: /job",
    "workspace:",
    "  type: git-clone",
    `  repo: ${JSON.stringify(repo)}`,
    "  ref: feature",
    "agent:",
    "  type: custom",
    `  image: ${JSON.stringify(image)}`,
    "  network: host",
    `  prompt: ${JSON.stringify(SCRIPT)}`,
  ].join("\n") + "\n";
}

async function oneJob(d: TestDaemon): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(d.url + "/job", { method: "POST", body: "{}" });
  const id = (await res.json()).job_id;
  const job = await eventually(async () => {
    const j = await (await d.api(`/api/jobs/${id}`)).json();
    return ["completed", "failed", "timed_out", "killed"].includes(j.status) ? j : undefined;
  }, 120_000);
  const ms = performance.now() - t0;
  if (job.status !== "completed") throw new Error(`job ${id} ${job.status}: ${job.error}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

{
  using docker = openTestDocker();
  const image = await mockOnClaudeImage(docker);
  await using fx = await createFixture();
  await using git = startGitHttpServer(fx.served, { user: "bot", password: "s3cret" });
  const repo = git.url("app.git").replace("http://", "http://bot:s3cret@");
  const proxy = startAgentProxy();
  const homes = {
    host: await Deno.makeTempDir({ prefix: "pylon-bench-host-" }),
    none: await Deno.makeTempDir({ prefix: "pylon-bench-none-" }),
  };
  await writeHome(homes.host, { "pylons/job/pylon.yaml": pylonYaml(image, repo) });
  await writeHome(homes.none, {
    "config.yaml": `server:\n  agent_url: ${proxy.url}\ndocker:\n  mounts: none\n`,
    "pylons/job/pylon.yaml": pylonYaml(image, repo),
  });
  const host = await startTestDaemon(homes.host, { createRunner: dockerRunnerFor(homes.host) });
  const none = await startTestDaemon(homes.none, { createRunner: dockerRunnerFor(homes.none) });
  proxy.target.url = none.url;
  const times = { host: [] as number[], none: [] as number[] };
  let notes: string[] = [];
  try {
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      // Alternating order, so drift of the Engine hits both modes alike.
      const order: ("host" | "none")[] = i % 2 ? ["none", "host"] : ["host", "none"];
      for (const mode of order) {
        const ms = await oneJob(mode === "host" ? host : none);
        if (i >= WARMUP) times[mode].push(ms);
      }
    }
    // Where the time of the last no-mounts job went, from its init step's own lines.
    for await (const e of Deno.readDir(`${homes.none}/jobs`)) {
      if (!e.name.endsWith(".log")) continue;
      const log = await Deno.readTextFile(`${homes.none}/jobs/${e.name}`);
      notes = log.split("\n").filter((l) => /\bin \d+ ms\b/.test(l));
    }
  } finally {
    await host.stop();
    await none.stop();
    await proxy.close();
    for (const h of Object.values(homes)) await Deno.remove(h, { recursive: true });
  }
  const h = median(times.host);
  const n = median(times.none);
  console.log(`channel_bench: webhook -> completed, git-clone job, 20 events, 1 MiB state`);
  console.log(`  bind mounts (docker.mounts: host): median ${h.toFixed(0)} ms over ${ITERATIONS}`);
  console.log(`  channel     (docker.mounts: none): median ${n.toFixed(0)} ms over ${ITERATIONS}`);
  console.log(`  ratio none/host: ${(n / h).toFixed(2)}x (${(n - h).toFixed(0)} ms per job)`);
  for (const line of notes) console.log(`  (one no-mounts job) ${line.trim()}`);
}
