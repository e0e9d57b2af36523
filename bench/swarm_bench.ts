/**
 * Webhook → task running on Swarm (pylon, `docker.backend: swarm`), next to `docker service
 * create` of the same image in the same run, on this machine's single-node swarm. Prints the
 * medians and their ratio. Run: `deno run -A bench/swarm_bench.ts` (needs an active swarm and
 * the Claude Code image, built on first use).
 *
 * @module
 */

import { eventually, startTestDaemon, writeHome } from "../tests/_helpers/daemon.ts";
import { openTestDocker } from "../tests/integration/_docker.ts";
import { dockerRunnerFor } from "../tests/integration/_agent.ts";
import { mockOnClaudeImage, startAgentProxy } from "../tests/integration/no_mounts_helpers.ts";
import { requireSwarm } from "../tests/integration/swarm_helpers.ts";

const RUNS = Number(Deno.env.get("RUNS") ?? 5);
requireSwarm();
using docker = openTestDocker();
const swarm = docker.swarm!;
const image = await mockOnClaudeImage(docker);

async function running(serviceId: () => Promise<string | undefined>): Promise<void> {
  await eventually(async () => {
    const id = await serviceId();
    if (!id) return undefined;
    return (await swarm.tasks(id)).some((t) => t.Status.State === "running") || undefined;
  }, 60_000);
}

async function cli(): Promise<number> {
  const name = `pylon-bench-${crypto.randomUUID().slice(0, 8)}`;
  const t0 = performance.now();
  const out = await new Deno.Command("docker", {
    args: [
      "service",
      "create",
      "-d",
      "--name",
      name,
      "--replicas",
      "1",
      "--restart-condition",
      "none",
      "--entrypoint",
      "sleep",
      image,
      "30",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const id = new TextDecoder().decode(out.stdout).trim();
  await running(() => Promise.resolve(id));
  const ms = performance.now() - t0;
  await swarm.removeService(id);
  return ms;
}

const proxy = startAgentProxy();
const root = await Deno.makeTempDir({ prefix: "pylon-swarm-bench-" });
await writeHome(root, {
  "config.yaml": `server:\n  agent_url: ${proxy.url}\ndocker:\n  backend: swarm\n`,
  "pylons/b/pylon.yaml": [
    "name: b",
    "trigger:\n  type: webhook\n  path: /b",
    "agent:",
    "  type: custom",
    `  image: ${JSON.stringify(image)}`,
    "  network: host",
    '  prompt: "sleep 30"',
  ].join("\n") + "\n",
});
const d = await startTestDaemon(root, { createRunner: dockerRunnerFor(root) });
proxy.target.url = d.url;

async function viaPylon(): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(d.url + "/b", { method: "POST", body: "{}" });
  const { job_id: job } = await res.json();
  await running(async () => (await swarm.listServices({ labels: { "pylon.job": job } }))[0]?.ID);
  const ms = performance.now() - t0;
  (await d.api(`/api/jobs/${job}/kill`, { method: "POST" })).body?.cancel();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const a: number[] = [];
const b: number[] = [];
try {
  for (let i = 0; i < RUNS; i++) {
    a.push(await viaPylon());
    b.push(await cli());
  }
} finally {
  await d.stop();
  await proxy.close();
  await Deno.remove(root, { recursive: true });
}
const line = `webhook → task running (pylon, swarm): median ${median(a).toFixed(0)} ms; ` +
  `docker service create → running: median ${median(b).toFixed(0)} ms; ` +
  `ratio ${(median(a) / median(b)).toFixed(2)} (${RUNS} runs each)\n`;
await Deno.stdout.write(new TextEncoder().encode(line));
