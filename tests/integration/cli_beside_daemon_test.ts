// deno-lint-ignore-file no-console
/**
 * Issue 11, the way a user meets it: the real daemon (`pylon start`) takes webhooks and runs
 * busybox agents in Docker while the real CLI (`pylon jobs`, `logs`, `approve`, `kill`, `retry`,
 * `test --dry-run`, `attach`, job-id completion) keeps opening the job databases beside it; then
 * the daemon is killed with `kill -9` and started again.
 *
 * What a user must never see:
 * - `pylon jobs` showing a job as still running (or not at all) after the daemon logged
 *   `job.finished` for it;
 * - a job that got `202` missing after the restart, an unapproved one no longer awaiting
 *   approval, or the restart pruning the containers of jobs that were running as orphans.
 *
 * Only the CLI, HTTP and the daemon's log are used, never the database files, so the test holds
 * wherever the databases live.
 */

import assert from "node:assert/strict";
import type { DockerClient } from "../../src/docker/mod.ts";
import { LABELS } from "../../src/runner/mod.ts";
import { writeHome } from "../_helpers/daemon.ts";
import { dockerTest, ensureTestImage } from "./_docker.ts";
import {
  type CliRun,
  type DaemonProcess,
  delay,
  eventJobs,
  firstLine,
  freePort,
  runCli,
  startDaemon,
  stopDaemon,
} from "./_daemon_process.ts";

/** How long the webhook flood and the CLI loop run side by side (ms). */
const FLOOD_MS = 12_000;
/** How long the work agent sleeps before it writes its result (s). */
const WORK_SLEEP_S = 3;
const FINISHED = new Set(["completed", "failed", "timed_out", "killed", "dismissed"]);

/** A job as `pylon jobs --json` prints it (the fields used here). */
interface JobJson {
  id: string;
  pylon: string;
  status: string;
}

function short(id: string): string {
  return id.slice(0, 8);
}

function agentYaml(image: string, script: string): string[] {
  return [
    "agent:",
    "  type: custom",
    `  image: ${JSON.stringify(image)}`,
    `  command: ${JSON.stringify(["sh", "-c", script])}`,
    "  prompt: check",
  ];
}

function resultScript(before: string): string {
  return `${before}printf '{"status":"completed","result":"done %s"}' "$JOB_ID" ` +
    '> "$PYLON_OUT/result.json"';
}

/** What a user would have noticed, grouped by kind, one entry per kind and key (a job). */
class Problems {
  #byKind = new Map<string, Map<string, string>>();

  add(kind: string, key: string, text: string): void {
    let entries = this.#byKind.get(kind);
    if (!entries) this.#byKind.set(kind, entries = new Map());
    if (!entries.has(key)) entries.set(key, text);
  }

  count(kind?: string): number {
    if (kind !== undefined) return this.#byKind.get(kind)?.size ?? 0;
    return [...this.#byKind.values()].reduce((sum, e) => sum + e.size, 0);
  }

  report(): string {
    return [...this.#byKind].map(([kind, entries]) => {
      const list = [...entries.values()];
      const shown = list.slice(0, 6).map((t) => `    - ${t}`);
      if (list.length > 6) shown.push(`    - ... and ${list.length - 6} more`);
      return `  ${kind} (${list.length}):\n${shown.join("\n")}`;
    }).join("\n");
  }
}

const MISSING = "acknowledged jobs missing after kill -9 and a restart";
const STALE = "finished jobs that a later `pylon jobs --json` shows unfinished or not at all";

/** The pylon home, the daemon, and what the test has seen so far. */
class Scenario {
  readonly env: Record<string, string>;
  readonly base: string;
  readonly gate: string;
  readonly work: string;
  /** Every job id a webhook answered 202 for, with the answered status. */
  readonly accepted = new Map<string, { pylon: string; status: string }>();
  /** Gate jobs this test approved or killed: no longer expected to await approval. */
  readonly touched = new Set<string>();
  /** Short ids of the jobs expected to run (work jobs, approved gate jobs, retries). */
  readonly expected = new Set<string>();
  readonly problems = new Problems();
  cliRuns = 0;
  /** Log lines of the daemons that ended (the killed one). */
  readonly pastLog: string[] = [];
  daemon: DaemonProcess | undefined;
  #n = 0;

  constructor(root: string, port: number, gate: string, work: string) {
    // HOME stays the user's: a temp HOME would give every subprocess an empty Deno cache.
    this.env = { PYLON_HOME: root };
    this.base = `http://127.0.0.1:${port}`;
    this.gate = gate;
    this.work = work;
  }

  log(): string[] {
    return [...this.pastLog, ...(this.daemon?.log ?? [])];
  }

  /** POSTs a webhook with a fresh dedupe key; returns the job id of a 202. */
  async post(pylon: string): Promise<string | undefined> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/${pylon}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ n: `${pylon}-${this.#n++}` }),
      });
    } catch (e) {
      throw new Error(
        `Cannot POST /${pylon}: ${e instanceof Error ? e.message : e}; the daemon ${
          this.daemon?.exited ? "has exited" : "still runs"
        }; its log:\n${this.log().slice(-30).join("\n")}`,
        { cause: e },
      );
    }
    const body = await res.json().catch(() => ({}));
    if (res.status !== 202) {
      this.problems.add(
        "webhooks not answered 202",
        pylon + this.#n,
        `POST /${pylon}: ${res.status} ${JSON.stringify(body)}`,
      );
      return undefined;
    }
    this.accepted.set(body.job_id, { pylon, status: body.status });
    if (body.status === "queued") this.expected.add(short(body.job_id));
    return body.job_id;
  }

  /** Runs a CLI command; a read-only command that fails is a problem. */
  async cli(args: string[], timeoutMs?: number): Promise<CliRun> {
    const run = await runCli(args, this.env, timeoutMs);
    this.cliRuns++;
    if (run.code !== 0 && ["jobs", "logs", "test"].includes(args[0]!)) {
      this.problems.add(
        "read-only commands that failed beside the daemon",
        args.join(" "),
        `\`pylon ${args.join(" ")}\` exited ${run.code}: ${firstLine(run.stderr)}`,
      );
    }
    return run;
  }

  /** `pylon jobs [name] --json`, checked against the `job.finished` lines logged before it. */
  async listJobs(why: string, name?: string): Promise<JobJson[] | undefined> {
    const finishedBefore = eventJobs(this.log(), "job.finished");
    const run = await this.cli(["jobs", ...(name ? [name] : []), "--json", "--limit", "100000"]);
    if (run.code !== 0) return undefined;
    const jobs = JSON.parse(run.stdout) as JobJson[];
    const byShort = new Map(jobs.map((j) => [short(j.id), j]));
    const pylonOf = new Map([...this.accepted].map(([id, a]) => [short(id), a.pylon]));
    for (const [id8, status] of finishedBefore) {
      if (name && pylonOf.get(id8) !== name) continue;
      const job = byShort.get(id8);
      if (job && FINISHED.has(job.status)) continue;
      this.problems.add(
        STALE,
        id8,
        `job ${id8} finished (${status}) per the daemon's log, but \`pylon ${
          run.args.slice(0, name ? 3 : 2).join(" ")
        }\` started later (${why}) ${job ? `shows it ${job.status}` : "does not list it"}`,
      );
    }
    return jobs;
  }

  /** Short ids of the jobs whose container started and that have not finished. */
  runningIds(): string[] {
    const log = this.log();
    const done = eventJobs(log, "job.finished");
    return [...eventJobs(log, "container.started").keys()].filter((id8) => !done.has(id8));
  }

  /** Short ids of jobs that should run or started and have not finished. */
  pendingIds(): string[] {
    const log = this.log();
    const done = eventJobs(log, "job.finished");
    const started = eventJobs(log, "job.started").keys();
    return [...new Set([...this.expected, ...started])].filter((id8) => !done.has(id8));
  }

  /** One turn of the commands a user runs while jobs come and go. */
  async cliTurn(turn: number): Promise<void> {
    const done = eventJobs(this.log(), "job.finished");
    const running = pick(this.runningIds());
    const finished = pick(
      [...this.accepted].filter(([id, a]) => a.pylon === this.work && done.has(short(id))),
    )?.[0];
    const waiting = pick(
      [...this.accepted].filter(([id, a]) =>
        a.pylon === this.gate && a.status === "awaiting_approval" && !this.touched.has(id)
      ),
    )?.[0];
    // Claimed now: the other user must not kill a job this one approves (a job killed while
    // queued never logs job.finished).
    if (waiting) this.touched.add(waiting);
    await this.listJobs("during the flood");
    await this.cli(["jobs"]);
    await this.cli(["jobs", this.gate]);
    await this.listJobs("during the flood", this.work);
    await this.cli(["test", this.gate, "--dry-run", "--payload", '{"n":"dry-run"}']);
    // Job-id completion (what Tab runs); before 0.2 there is none and it exits 2 without a look.
    await this.cli(["__complete", "jobs"]);
    if (running) {
      await this.cli(["logs", running]);
      await this.cli(["attach", running], 5_000); // no terminal: it looks the job up, then refuses
    }
    if (finished) {
      await this.cli(["logs", short(finished)]);
      await this.cli(["attach", short(finished)], 5_000);
      if (turn % 3 === 0) {
        const retry = await this.cli(["retry", short(finished)]);
        const again = /job ([0-9a-f]{8})/.exec(retry.stdout)?.[1];
        if (again) this.expected.add(again);
      }
    }
    if (waiting) {
      const action = turn % 2 === 0 ? "approve" : "kill";
      const run = await this.cli([action, short(waiting)]);
      if (action === "approve" && run.code === 0) this.expected.add(short(waiting));
    }
  }
}

function pick<T>(list: readonly T[]): T | undefined {
  return list[Math.floor(Math.random() * list.length)];
}

/** Polls until `waiting()` is empty; throws naming what still waits. */
async function waitFor(
  what: string,
  s: Scenario,
  waiting: () => string[],
  ms: number,
): Promise<void> {
  const until = Date.now() + ms;
  for (let left = waiting(); left.length > 0; left = waiting()) {
    if (Date.now() > until) {
      throw new Error(
        `${what} within ${ms / 1000} s: ${left.join(", ")}; daemon log:\n` +
          s.log().slice(-40).join("\n"),
      );
    }
    await delay(100);
  }
}

async function writePylons(root: string, image: string, s: Scenario, port: number) {
  await writeHome(root, {
    "config.yaml": [
      "server:",
      "  host: 127.0.0.1",
      `  port: ${port}`,
      "docker:",
      "  max_concurrent: 4",
      "  max_queue: 10000",
      "",
    ].join("\n"),
    [`pylons/${s.gate}/pylon.yaml`]: [
      `name: ${s.gate}`,
      "trigger:",
      "  type: webhook",
      `  path: /${s.gate}`,
      '  dedupe: "{{ .body.n }}"', // so `pylon test --dry-run` looks the key up in the database
      "channel:",
      "  type: stdout",
      "  approval: true",
      ...agentYaml(image, resultScript("")),
      "",
    ].join("\n"),
    [`pylons/${s.work}/pylon.yaml`]: [
      `name: ${s.work}`,
      "trigger:",
      "  type: webhook",
      `  path: /${s.work}`,
      ...agentYaml(image, resultScript(`sleep ${WORK_SLEEP_S}; `)),
      "",
    ].join("\n"),
  });
}

dockerTest(
  "pylon CLI beside a running daemon: finished jobs show finished, acknowledged jobs survive kill -9",
  async (docker: DockerClient) => {
    const began = performance.now();
    const image = await ensureTestImage(docker);
    const root = await Deno.makeTempDir({ prefix: "pylon-cli-beside-" });
    const tag = crypto.randomUUID().slice(0, 6);
    const port = freePort();
    const s = new Scenario(root, port, `gate-${tag}`, `work-${tag}`);
    try {
      await writePylons(root, image, s, port);
      s.daemon = await startDaemon(s.env);

      // The flood: webhooks to both pylons, beside two users running CLI commands in a loop.
      const floodEnds = Date.now() + FLOOD_MS;
      let failed = false;
      const flooding = () => !failed && Date.now() < floodEnds;
      const worker = (fn: () => Promise<void>) => async () => {
        while (flooding()) {
          try {
            await fn();
          } catch (e) {
            failed = true;
            throw e;
          }
        }
      };
      let i = 0;
      const sender = worker(async () => {
        await s.post(s.gate);
        if (i++ % 8 === 0) await s.post(s.work);
        await delay(120);
      });
      let turn = 0;
      const user = worker(() => s.cliTurn(turn++));
      const flood = await Promise.allSettled([sender(), user(), user()]);
      for (const r of flood) if (r.status === "rejected") throw r.reason;

      // Every job that should run finishes, so exactly the burst's agents run at the kill.
      await waitFor(
        "the flood's jobs did not finish",
        s,
        () => s.pendingIds(),
        30_000,
      );
      await s.listJobs("after the flood's jobs finished");
      await s.cli(["jobs", s.gate]);

      // The burst: webhooks after the last CLI command, then kill -9 while its agents run.
      const burstWork = [await s.post(s.work), await s.post(s.work), await s.post(s.work)]
        .filter((id) => id !== undefined);
      const burstGate: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = await s.post(s.gate);
        if (id) burstGate.push(id);
      }
      await waitFor(
        "the burst's agents did not start",
        s,
        () => burstWork.map(short).filter((id8) => !s.runningIds().includes(id8)),
        15_000,
      );
      const awaiting = await s.cli(
        ["jobs", s.gate, "--status", "awaiting_approval", "--json", "--limit", "100000"],
      );
      if (awaiting.code === 0) {
        const listed = new Set((JSON.parse(awaiting.stdout) as JobJson[]).map((j) => j.id));
        for (const id of burstGate.filter((id) => !listed.has(id))) {
          s.problems.add(
            "gate jobs just answered 202 awaiting_approval that `pylon jobs --status` omits",
            id,
            `job ${short(id)}: not in \`pylon jobs ${s.gate} --status awaiting_approval\``,
          );
        }
      }
      const runningAtKill = s.runningIds();
      await stopDaemon(s.daemon, "SIGKILL");
      s.pastLog.push(...s.daemon.log);
      s.daemon = undefined;

      // The restart: nothing acknowledged is lost, and the running agents are re-attached.
      s.daemon = await startDaemon(s.env);
      const restartLog = s.daemon.log;
      const recovered = restartLog.find((l) => l.includes("event=jobs.recovered")) ?? "";
      const pruned = restartLog.find((l) => l.includes("event=orphans.pruned")) ?? "";
      const prunedContainers = Number(/ containers=(\d+)/.exec(pruned)?.[1] ?? "0");
      if (prunedContainers > 0) {
        s.problems.add(
          "restarts that pruned running jobs' containers as orphans",
          "restart",
          `orphans.pruned containers=${prunedContainers} while jobs ${
            runningAtKill.join(", ")
          } were running (${recovered.replace(/^.*event=/, "")})`,
        );
      }
      let jobs = await s.listJobs("after kill -9 and a restart") ?? [];
      const until = Date.now() + 20_000;
      for (;;) {
        const byShort = new Map(jobs.map((j) => [short(j.id), j]));
        const open = runningAtKill.filter((id8) => {
          const job = byShort.get(id8);
          return job !== undefined && !FINISHED.has(job.status);
        });
        if (open.length === 0 || Date.now() > until) break;
        await delay(300);
        jobs = await s.listJobs("while the re-attached agents finish") ?? jobs;
      }
      const listed = new Map(jobs.map((j) => [j.id, j]));
      for (const [id, a] of s.accepted) {
        const job = listed.get(id);
        if (!job) {
          s.problems.add(
            MISSING,
            id,
            `job ${short(id)} (${a.pylon}) got 202 ${a.status} but is missing after kill -9`,
          );
        } else if (
          a.status === "awaiting_approval" && !s.touched.has(id) &&
          job.status !== "awaiting_approval"
        ) {
          s.problems.add(
            "unapproved jobs no longer awaiting approval after kill -9",
            id,
            `job ${short(id)} was never approved but is ${job.status} after the restart`,
          );
        }
      }
      const byShort = new Map(jobs.map((j) => [short(j.id), j]));
      for (const id8 of runningAtKill) {
        const job = byShort.get(id8);
        if (!job || job.status === "completed") continue; // a missing one is reported above
        s.problems.add(
          "jobs running at kill -9 that did not complete after the restart",
          id8,
          `job ${id8} is ${job.status}`,
        );
      }

      const seconds = ((performance.now() - began) / 1000).toFixed(1);
      console.log(
        `cli beside daemon: ${s.accepted.size} jobs acknowledged, ${s.cliRuns} CLI runs, ` +
          `${runningAtKill.length} agents running at kill -9, ${seconds} s; ` +
          `${recovered.replace(/^.*event=/, "")}; ${pruned.replace(/^.*event=/, "")}`,
      );
      if (s.problems.count() > 0) {
        assert.fail(
          `The CLI beside the daemon lost or hid jobs (${
            s.problems.count(MISSING)
          } of ${s.accepted.size} acknowledged jobs missing after kill -9):\n${s.problems.report()}`,
        );
      }
    } finally {
      if (s.daemon) await stopDaemon(s.daemon, "SIGTERM");
      for (const pylon of [s.gate, s.work]) {
        const labels = { [LABELS.pylon]: pylon };
        for (const c of await docker.listContainers({ all: true, labels })) {
          await docker.removeContainer(c.Id, { force: true, volumes: true }).catch(() => {});
        }
      }
      await Deno.remove(root, { recursive: true });
    }
  },
);
