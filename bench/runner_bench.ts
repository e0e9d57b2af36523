// deno-lint-ignore-file no-console
/**
 * Webhook → agent container running, through the whole daemon, against a raw
 * `createContainer` + `startContainer` through the same `DockerClient`, in the same run.
 *
 * - **pylon**: a daemon in-process (`startTestDaemon`, the real `DockerRunner`, workspace `none`)
 *   with one custom pylon on the busybox test image, `command: sh -c 'eval "$PROMPT"'`, prompt
 *   `sleep 5`. Timed from just before the webhook `fetch()` to the container's `start` event.
 * - **raw**: `createContainer({ Image, Cmd: sh -c 'sleep 5', Labels })` + `startContainer`, timed
 *   from before the create to the same `start` event (and, in the notes, to `startContainer`
 *   resolving).
 * - **raw, pylon's spec**: the same two calls with the exact spec pylon sent for that iteration
 *   (mounts, `Init`, cap drop, pids limit, user…; labels swapped for the test labels, no name), so
 *   the engine's cost of the hardened spec is told apart from pylon's own.
 *
 * "Running" is the Engine's own `start` event, read from `GET /events` over the socket; its
 * `timeNano` (the Engine's clock, taken when the task has started) is compared with the send time
 * on the same wall clock (`performance.timeOrigin + performance.now()`). The three variants run
 * interleaved, one container at a time, so engine drift hits all alike.
 *
 * The breakdown comes from instrumenting the daemon's seams, not its log (whose timestamps are in
 * whole milliseconds and say nothing about create or start): the runner is a `DockerRunner` built
 * with the same deps as `createDockerRunner`, but over a `DockerClient` that times every call,
 * and wrapped to note when the dispatcher hands it the job and to time its two job-row updates.
 * Its `pruneOrphans` is left out: a fresh home has nothing to prune, and on a shared Engine it
 * must not reach other runs' containers.
 *
 * Run with `deno run` only (not a `Deno.bench` file; `deno bench` loads it and does nothing):
 *   deno run -A bench/runner_bench.ts [--iterations 15] [--warmup 2]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createPylonPaths, type GlobalConfig } from "../src/config/mod.ts";
import {
  type ContainerSpec,
  createDockerClient,
  type DockerClient,
  parseDockerHost,
} from "../src/docker/mod.ts";
import type { JobRunner } from "../src/queue/mod.ts";
import { hostPathContext } from "../src/host_paths.ts";
import { DockerRunner } from "../src/runner/mod.ts";
import { createGitRunner } from "../src/workspace/mod.ts";
import {
  eventually,
  startTestDaemon,
  type TestDaemon,
  writeHome,
} from "../tests/_helpers/daemon.ts";
import {
  DOCKER_UNAVAILABLE,
  ensureTestImage,
  removeQuietly,
  TEST_LABELS,
} from "../tests/integration/_docker.ts";

/** This run's own label, so cleanup never touches another run's containers. */
const RUN = `runner-${crypto.randomUUID().slice(0, 8)}`;
const LABELS = { ...TEST_LABELS, "pylon.bench": RUN };
const PYLON = "bench-runner";
const AIM_MS = 100;

/** Wall-clock milliseconds with sub-millisecond resolution (comparable with `timeNano`). */
function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

// ---------------------------------------------------------------------------------------------
// The Engine's start events

interface StartEvent {
  id: string;
  labels: Record<string, string>;
  /** Engine time of the event, wall-clock ms. */
  at: number;
  /** When this process read it, wall-clock ms. */
  seen: number;
}

/** Follows `GET /events?type=container&event=start` and lets callers wait for one container. */
class StartEvents {
  readonly #events: StartEvent[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #abort = new AbortController();
  readonly #client: Deno.HttpClient | undefined;
  #reading: Promise<void> = Promise.resolve();
  #reader: ReadableStreamDefaultReader<string> | undefined;
  #closing = false;
  readonly #baseUrl: string;

  constructor(env: Record<string, string | undefined>) {
    const endpoint = parseDockerHost(undefined, env);
    this.#client = endpoint.kind === "unix"
      ? Deno.createHttpClient({ proxy: { transport: "unix", path: endpoint.socketPath } })
      : undefined;
    this.#baseUrl = endpoint.baseUrl;
  }

  /** Resolves once the Engine has answered, i.e. the subscription is live. */
  async open(): Promise<void> {
    const filters = JSON.stringify({ type: ["container"], event: ["start"] });
    const res = await fetch(`${this.#baseUrl}/events?filters=${encodeURIComponent(filters)}`, {
      signal: this.#abort.signal,
      ...(this.#client ? { client: this.#client } : {}),
    });
    if (!res.ok || !res.body) throw new Error(`Cannot follow Engine events: HTTP ${res.status}`);
    this.#reading = this.#read(res.body).catch((e) => {
      if (!this.#closing) throw e;
    });
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    let buffered = "";
    const reader = body.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
      .getReader();
    this.#reader = reader;
    for (;;) {
      const { done, value: text } = await reader.read();
      if (done) return;
      const seen = wallNow();
      buffered += text;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (!line.trim()) continue;
        const e = JSON.parse(line) as {
          id?: string;
          timeNano?: number;
          Actor?: { ID?: string; Attributes?: Record<string, string> };
        };
        this.#events.push({
          id: e.Actor?.ID ?? e.id ?? "",
          labels: e.Actor?.Attributes ?? {},
          at: (e.timeNano ?? 0) / 1e6,
          seen,
        });
      }
      for (const wake of this.#waiters) wake();
    }
  }

  /** The first start event matching `match`, waiting up to `timeoutMs`. */
  async waitFor(match: (e: StartEvent) => boolean, timeoutMs = 20_000): Promise<StartEvent> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.#events.find(match);
      if (found) return found;
      if (Date.now() > until) throw new Error("Cannot see the container start: no start event");
      const { promise, resolve } = Promise.withResolvers<void>();
      const timer = setTimeout(resolve, 250);
      this.#waiters.add(resolve);
      await promise;
      clearTimeout(timer);
      this.#waiters.delete(resolve);
    }
  }

  async close(): Promise<void> {
    // Cancelling the reader ends the stream; aborting the fetch alone leaves the read pending.
    this.#closing = true;
    await this.#reader?.cancel().catch(() => {});
    this.#abort.abort();
    await this.#reading;
    this.#client?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Instrumented runner

interface Call {
  op: string;
  t0: number;
  /** NaN until the call settles. */
  t1: number;
  args: unknown[];
}

/** A `DockerClient` that records every call's start and settle time (wall-clock ms). */
function timedDocker(docker: DockerClient, calls: Call[]): DockerClient {
  return new Proxy(docker, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return function timed(...args: unknown[]) {
        const call: Call = { op: String(prop), t0: wallNow(), t1: NaN, args };
        calls.push(call);
        const out = value.apply(target, args);
        if (!(out instanceof Promise)) {
          call.t1 = call.t0;
          return out;
        }
        return out.finally(() => call.t1 = wallNow());
      };
    },
  });
}

/**
 * The daemon's runner: `createDockerRunner`'s `DockerRunner`, over a timed `client`. The caller
 * owns `client`: nothing in the daemon closes the runner's client, and its open pool would keep
 * this process alive after the report.
 */
async function createTimedRunner(
  config: GlobalConfig,
  root: string,
  deps: { client: DockerClient; env: Record<string, string>; calls: Call[] },
): Promise<JobRunner> {
  const { client, env, calls } = deps;
  const paths = createPylonPaths(root);
  await Deno.mkdir(paths.jobsDir, { recursive: true });
  await Deno.mkdir(paths.reposDir, { recursive: true });
  const docker = timedDocker(client, calls);
  const inner = new DockerRunner({
    docker,
    git: createGitRunner(),
    jobsDir: paths.jobsDir,
    reposDir: paths.reposDir,
    env,
    caBundle: undefined,
    caCertificates: [],
    pidsLimit: config.docker.pids_limit,
    output: () => {},
    clock: { now: () => new Date() },
    uid: Deno.uid(),
    gid: Deno.gid(),
    hostPaths: await hostPathContext({ env, pylonHome: root }),
  });
  return {
    run(job, pylon, ctx) {
      const t = wallNow();
      calls.push({ op: "run", t0: t, t1: t, args: [job.id] });
      const update: typeof ctx.update = async (patch) => {
        const call: Call = { op: "update", t0: wallNow(), t1: NaN, args: [patch] };
        calls.push(call);
        await ctx.update(patch);
        call.t1 = wallNow();
      };
      return inner.run(job, pylon, { ...ctx, update });
    },
    async available() {
      const t0 = wallNow();
      const up = await inner.available();
      calls.push({ op: "available", t0, t1: wallNow(), args: [] });
      return up;
    },
    prepareImages: (pylons, log) => inner.prepareImages(pylons, log),
    removeJobFiles: (ids, log) => inner.removeJobFiles(ids, log),
    reattach: (job, pylon, ctx) => inner.reattach(job, pylon, ctx),
  };
}

// ---------------------------------------------------------------------------------------------
// One iteration of each variant

interface PylonSample {
  total: number;
  phases: Record<string, number>;
  spec: ContainerSpec;
}

async function viaPylon(
  d: TestDaemon,
  events: StartEvents,
  calls: Call[],
  docker: DockerClient,
): Promise<PylonSample> {
  calls.length = 0;
  const sent = wallNow();
  const res = await fetch(`${d.url}/${PYLON}`, { method: "POST", body: '{"n":1}' });
  const accepted = wallNow();
  if (res.status !== 202) throw new Error(`Cannot trigger: HTTP ${res.status} ${await res.text()}`);
  const { job_id: id } = await res.json() as { job_id: string };
  try {
    const started = await events.waitFor((e) => e.labels["pylon.job"] === id);
    // The event can beat startContainer's answer; the breakdown needs both.
    await eventually(() =>
      Promise.resolve(calls.some((c) => c.op === "startContainer" && c.t1 >= 0))
    );
    const at = (op: string) => calls.find((c) => c.op === op);
    const run = at("run")!, remove = at("removeContainer")!, create = at("createContainer")!;
    const store = at("update")!;
    const arm = at("armWait")!, start = at("startContainer")!;
    const ping = calls.find((c) => c.op === "ping" && c.t0 >= sent && c.t0 < run.t0);
    return {
      total: started.at - sent,
      spec: create.args[0] as ContainerSpec,
      phases: {
        "HTTP 202 at the client": accepted - sent,
        "ingest + dispatch (to run())": run.t0 - sent,
        "  of which Engine ping": ping ? ping.t1 - ping.t0 : 0,
        "render + store prompt (UPDATE)": store.t1 - run.t0,
        "workspace none, dirs, chown": remove.t0 - store.t1,
        "remove stale name": remove.t1 - remove.t0,
        "create": create.t1 - create.t0,
        "store containerId (UPDATE)": arm.t0 - create.t1,
        "arm wait": arm.t1 - arm.t0,
        "pylon before start (→ start call)": start.t0 - sent,
        "start → start event": started.at - start.t0,
        "start event → start resolved": start.t1 - started.at,
        "event read lag": started.seen - started.at,
      },
    };
  } finally {
    await (await d.api(`/api/jobs/${id}/kill`, { method: "POST" })).body?.cancel();
    await eventually(async () => {
      const job = await (await d.api(`/api/jobs/${id}`)).json() as { status: string };
      return !["queued", "running"].includes(job.status);
    }, 20_000);
    for (const c of await docker.listContainers({ all: true, labels: { "pylon.job": id } })) {
      await removeQuietly(docker, c.Id);
    }
  }
}

interface RawSample {
  total: number;
  /** To `startContainer` resolving. */
  resolved: number;
  create: number;
  /** From the start call to the start event. */
  start: number;
}

async function viaRaw(
  docker: DockerClient,
  events: StartEvents,
  spec: ContainerSpec,
): Promise<RawSample> {
  let id: string | undefined;
  try {
    const t0 = wallNow();
    id = await docker.createContainer(spec);
    const created = wallNow();
    await docker.startContainer(id);
    const resolved = wallNow() - t0;
    const started = await events.waitFor((e) => e.id === id);
    return { total: started.at - t0, resolved, create: created - t0, start: started.at - created };
  } finally {
    await removeQuietly(docker, id);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`.padStart(10);
}

function row(label: string, xs: number[]): string {
  return `  ${label.padEnd(34)} median ${fmt(quantile(xs, 0.5))}   p90 ${fmt(quantile(xs, 0.9))}`;
}

function report(pylon: PylonSample[], raw: RawSample[], rawSpec: RawSample[], image: string) {
  const p = pylon.map((s) => s.total);
  const r = raw.map((s) => s.total);
  const rs = rawSpec.map((s) => s.total);
  const med = (xs: number[]) => quantile(xs, 0.5);
  const overhead = med(p) - med(r);
  const paired = p.map((x, i) => x - r[i]!);
  const before = pylon.map((s) => s.phases["pylon before start (→ start call)"]!);
  const beforeOverhead = before.map((x, i) => x - raw[i]!.create);
  console.log(`\nwebhook → container running, ${p.length} iterations each, image ${image}`);
  console.log(row("pylon: POST → start event", p));
  console.log(row("raw create+start → start event", r));
  console.log(row("raw, pylon's exact spec", rs));
  console.log(row("raw, → startContainer resolved", raw.map((s) => s.resolved)));
  console.log(
    `  pylon / raw ${(med(p) / med(r)).toFixed(2)}; overhead ${overhead.toFixed(1)} ms ` +
      `(difference of medians; paired: median ${med(paired).toFixed(1)}, ` +
      `p90 ${quantile(paired, 0.9).toFixed(1)}); aim ≤ ${AIM_MS} ms: ` +
      (overhead <= AIM_MS ? "met" : "NOT met"),
  );
  console.log("\nthe start call is the Engine's and noisy; the overhead without it:");
  console.log(row("pylon: POST → start called", before));
  console.log(row("raw: create (minimal spec)", raw.map((s) => s.create)));
  console.log(row("raw: create (pylon's spec)", rawSpec.map((s) => s.create)));
  console.log(row("overhead before start (paired)", beforeOverhead));
  console.log(row("start → event: pylon", pylon.map((s) => s.phases["start → start event"]!)));
  console.log(row("start → event: raw", raw.map((s) => s.start)));
  console.log(row("start → event: raw, pylon's spec", rawSpec.map((s) => s.start)));
  console.log("\npylon's time, by phase (from the daemon's seams):");
  for (const name of Object.keys(pylon[0]!.phases)) {
    console.log(row(name, pylon.map((s) => s.phases[name]!)));
  }
}

// ---------------------------------------------------------------------------------------------

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      iterations: { type: "string", default: "15" },
      warmup: { type: "string", default: "2" },
    },
  });
  const iterations = Number(values.iterations);
  const warmup = Number(values.warmup);
  if (DOCKER_UNAVAILABLE) throw new Error(`Cannot benchmark: ${DOCKER_UNAVAILABLE}`);
  const env = Deno.env.toObject();
  using docker = createDockerClient({ env });
  const image = await ensureTestImage(docker);
  const root = await Deno.makeTempDir({ prefix: "pylon-runner-bench-" });
  const events = new StartEvents(env);
  const calls: Call[] = [];
  const runnerEnv: Record<string, string> = { HOME: root };
  for (const k of ["DOCKER_HOST", "DOCKER_API_VERSION", "DOCKER_TLS_VERIFY"]) {
    if (env[k]) runnerEnv[k] = env[k];
  }
  const runnerDocker = createDockerClient({ env: runnerEnv });
  let d: TestDaemon | undefined;
  try {
    await writeHome(root, {
      [`pylons/${PYLON}/pylon.yaml`]: [
        `name: ${PYLON}`,
        "trigger:",
        "  type: webhook",
        `  path: /${PYLON}`,
        "agent:",
        "  type: custom",
        `  image: ${JSON.stringify(image)}`,
        `  command: ["sh", "-c", "eval \\"$PROMPT\\""]`,
        `  prompt: "sleep 5"`,
        "workspace:",
        "  type: none",
        "",
      ].join("\n"),
    });
    await events.open();
    d = await startTestDaemon(root, {
      createRunner: (config) =>
        createTimedRunner(config, root, { client: runnerDocker, env: runnerEnv, calls }),
    });
    const minimal: ContainerSpec = {
      Image: image,
      Cmd: ["sh", "-c", "sleep 5"],
      Labels: LABELS,
    };
    const pylon: PylonSample[] = [];
    const raw: RawSample[] = [];
    const rawSpec: RawSample[] = [];
    // The order rotates, so whatever the previous container's teardown costs the Engine lands
    // on each variant alike. The spec replayed is the latest one pylon sent (its job folder,
    // which the mounts name, stays until retention).
    let spec: ContainerSpec | undefined;
    for (let i = 0; i < warmup + iterations; i++) {
      let p: PylonSample | undefined, r: RawSample | undefined, rs: RawSample | undefined;
      const steps = {
        pylon: async () => {
          p = await viaPylon(d!, events, calls, docker);
          spec = { ...p.spec, Labels: LABELS };
        },
        raw: async () => void (r = await viaRaw(docker, events, minimal)),
        spec: async () => void (rs = await viaRaw(docker, events, spec!)),
      };
      const names = ["pylon", "raw", "spec"] as const;
      const order = spec ? names.map((_, k) => names[(i + k) % 3]!) : names;
      for (const step of order) await steps[step]();
      const tag = i < warmup ? "warm-up" : `#${i - warmup + 1}`;
      console.log(
        `${tag.padStart(8)}  pylon ${fmt(p!.total)}  raw ${fmt(r!.total)}  raw+spec ${
          fmt(rs!.total)
        }   (${order.join(", ")})`,
      );
      if (i < warmup) continue;
      pylon.push(p!);
      raw.push(r!);
      rawSpec.push(rs!);
    }
    report(pylon, raw, rawSpec, image);
  } finally {
    try {
      await d?.stop();
    } finally {
      runnerDocker.close();
      await events.close();
      await removeLeftovers(docker, root);
      await Deno.remove(root, { recursive: true });
    }
  }
}

/** Removes this run's containers: its raw ones, and the daemon's of jobs in its temp home. */
async function removeLeftovers(docker: DockerClient, root: string): Promise<void> {
  for (const c of await docker.listContainers({ all: true, labels: { "pylon.pylon": PYLON } })) {
    const job = c.Labels?.["pylon.job"];
    if (job && (await exists(`${root}/jobs/${job}`))) await removeQuietly(docker, c.Id);
  }
  for (const c of await docker.listContainers({ all: true, labels: { "pylon.bench": RUN } })) {
    await removeQuietly(docker, c.Id);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) await main(Deno.args);
