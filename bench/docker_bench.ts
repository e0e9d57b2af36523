// deno-lint-ignore-file no-console
/**
 * Container round trip through pylon's `DockerClient` (create → arm wait → start → exit → remove)
 * against the same run via the CLI, `docker run --rm <busybox test image> true`, as the baseline
 * measured in the same process.
 *
 * Run either way (both need a running Docker Engine and the `docker` CLI):
 *   deno bench --allow-all bench/docker_bench.ts        (Deno.bench, 10 runs each, group summary)
 *   deno run --allow-all bench/docker_bench.ts [N]      (N runs each, default 20; prints the ratio)
 *
 * @module
 */

import { type DockerClient } from "../src/docker/mod.ts";
import {
  DOCKER_UNAVAILABLE,
  ensureTestImage,
  openTestDocker,
  TEST_LABELS,
} from "../tests/integration/_docker.ts";

const LABELS = { ...TEST_LABELS, "pylon.bench": "1" };

/** One container run through the client; returns its exit code. */
async function viaClient(docker: DockerClient, image: string): Promise<number> {
  const id = await docker.createContainer({ Image: image, Cmd: ["true"], Labels: LABELS });
  try {
    const wait = await docker.armWait(id, { condition: "next-exit" });
    await docker.startContainer(id);
    return await wait.exitCode;
  } finally {
    await docker.removeContainer(id, { force: true });
  }
}

/** The same run through `docker run --rm`; returns its exit code. */
async function viaCli(image: string): Promise<number> {
  const labels = Object.entries(LABELS).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
  const cmd = new Deno.Command("docker", {
    args: ["run", "--rm", ...labels, image, "true"],
    stdout: "null",
    stderr: "inherit",
  });
  return (await cmd.output()).code;
}

async function time(fn: () => Promise<number>): Promise<number> {
  const t0 = performance.now();
  const code = await fn();
  if (code !== 0) throw new Error(`Cannot benchmark: the container exited with ${code}`);
  return performance.now() - t0;
}

function stats(ms: number[]): { mean: number; p50: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    mean: ms.reduce((a, b) => a + b, 0) / ms.length,
    p50: sorted[Math.floor(sorted.length / 2)]!,
  };
}

async function main(n: number): Promise<void> {
  if (DOCKER_UNAVAILABLE) throw new Error(`Cannot benchmark: ${DOCKER_UNAVAILABLE}`);
  using docker = openTestDocker();
  const image = await ensureTestImage(docker);
  await time(() => viaClient(docker, image)); // warm-up both paths
  await time(() => viaCli(image));
  const ours: number[] = [];
  const cli: number[] = [];
  for (let i = 0; i < n; i++) { // interleaved, so drift in the engine hits both alike
    ours.push(await time(() => viaClient(docker, image)));
    cli.push(await time(() => viaCli(image)));
  }
  const a = stats(ours);
  const b = stats(cli);
  const f = (x: number) => x.toFixed(1).padStart(7);
  console.log(`container create+start+wait+remove, ${n} runs each, image ${image}`);
  console.log(`  DockerClient       mean ${f(a.mean)} ms   p50 ${f(a.p50)} ms`);
  console.log(`  docker run --rm    mean ${f(b.mean)} ms   p50 ${f(b.p50)} ms`);
  console.log(
    `  ratio (ours / CLI) mean ${(a.mean / b.mean).toFixed(2)}   p50 ${(a.p50 / b.p50).toFixed(2)}`,
  );
}

if (import.meta.main) {
  await main(Number(Deno.args[0] ?? 20));
} else {
  const ignore = DOCKER_UNAVAILABLE !== undefined;
  let docker: DockerClient | undefined;
  let image = "";
  const setup = async () => {
    docker ??= openTestDocker();
    image ||= await ensureTestImage(docker);
  };
  Deno.bench({
    name: "docker run --rm (CLI)",
    group: "container round trip",
    baseline: true,
    n: 10,
    warmup: 1,
    ignore,
    async fn() {
      await setup();
      await viaCli(image);
    },
  });
  Deno.bench({
    name: "DockerClient create+start+wait+remove",
    group: "container round trip",
    n: 10,
    warmup: 1,
    ignore,
    async fn() {
      await setup();
      await viaClient(docker!, image);
    },
  });
  globalThis.addEventListener("unload", () => docker?.close());
}
