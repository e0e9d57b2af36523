/**
 * Shared pieces of the security tests that run a hostile agent: a pylon home whose pylons run a
 * shell script in the busybox test image (a custom agent doing what a prompt-injected model
 * could be persuaded to do), a real daemon with the real Docker runner (in-process, or `pylon
 * start` as a subprocess where a test stops it the way a crash or a reboot would), and small
 * helpers.
 */

import assert from "node:assert/strict";
import type { DockerClient } from "../../src/docker/mod.ts";
import { eventually, startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";
import { dockerRunnerFor } from "../integration/_agent.ts";
import {
  type DaemonProcess,
  freePort,
  startDaemon,
  stopDaemon,
} from "../integration/_daemon_process.ts";
import { ensureTestImage } from "../integration/_docker.ts";

/** What the helpers below need of a daemon: its address and its control API. */
export interface DaemonHandle {
  url: string;
  api(path: string, init?: RequestInit): Promise<Response>;
}

/** One attacking pylon: the shell script its agent runs, and extra pylon.yaml lines. */
export interface AttackerPylon {
  script: string;
  /** Lines appended to pylon.yaml (indented as they must appear). */
  extra?: string[];
  /** Environment variables of the agent. */
  env?: Record<string, string>;
}

/** pylon.yaml of an agent that runs `script` with `sh -c`. */
export function attackerYaml(name: string, image: string, pylon: AttackerPylon): string {
  const env = { SCRIPT: pylon.script, ...pylon.env };
  return [
    `name: ${name}`,
    "trigger:",
    "  type: webhook",
    `  path: /${name}`,
    "agent:",
    "  type: custom",
    `  image: ${JSON.stringify(image)}`,
    '  command: ["sh", "-c", "eval \\"$SCRIPT\\""]',
    '  prompt: "attack"',
    "  env:",
    ...Object.entries(env).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
    ...(pylon.extra ?? []),
  ].join("\n") + "\n";
}

/** Writes a pylon home in `root` (made when absent) with the attacking pylons. */
export async function writeAttackerHome(
  docker: DockerClient,
  pylons: Record<string, AttackerPylon>,
  options: { root?: string; config?: string; port?: number } = {},
): Promise<string> {
  const image = await ensureTestImage(docker);
  const root = options.root ?? await Deno.makeTempDir({ prefix: "pylon-sec-" });
  const files: Record<string, string> = {};
  for (const [name, pylon] of Object.entries(pylons)) {
    files[`pylons/${name}/pylon.yaml`] = attackerYaml(name, image, pylon);
  }
  const server = options.port ? `server:\n  host: 127.0.0.1\n  port: ${options.port}\n` : "";
  if (options.config || server) files["config.yaml"] = server + (options.config ?? "");
  await writeHome(root, files);
  return root;
}

/** A daemon on `root` with the real Docker runner; agent output lines go to `output`. */
export function startAttackedDaemon(root: string, output: string[] = []): Promise<TestDaemon> {
  return startTestDaemon(root, { createRunner: dockerRunnerFor(root, output) });
}

/** `pylon start` on a home written with `port`, as a subprocess. */
export interface ProcessDaemon extends DaemonHandle {
  process: DaemonProcess;
  /** Ends the process: SIGKILL is a crash, SIGTERM a stop. */
  stop(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
}

/** Starts `pylon start` for the home `root` (written with `port`) and waits until it listens. */
export async function startDaemonProcess(root: string, port: number): Promise<ProcessDaemon> {
  const process = await startDaemon({ PYLON_HOME: root });
  const token = (await Deno.readTextFile(`${root}/daemon.token`)).trim();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    process,
    api: (path, init = {}) =>
      fetch(url + path, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
      }),
    stop: (signal) => stopDaemon(process, signal),
  };
}

export { freePort };

/** Posts `{}` to a pylon's webhook and returns the job id. */
export async function trigger(d: DaemonHandle, name: string): Promise<string> {
  const res = await fetch(`${d.url}/${name}`, { method: "POST", body: "{}" });
  assert.equal(res.status, 202, await res.clone().text());
  return (await res.json()).job_id;
}

/** A job as the API shows it. */
export type ApiJob = Record<string, unknown> & { status: string };

/** The job as the API shows it now. */
export async function jobOf(d: DaemonHandle, id: string): Promise<ApiJob> {
  return await (await d.api(`/api/jobs/${id}`)).json();
}

/** Waits until the job has a terminal status; fails with its last state after `timeoutMs`. */
export async function finished(
  d: DaemonHandle,
  id: string,
  timeoutMs = 20_000,
): Promise<ApiJob> {
  let last: ApiJob | undefined;
  try {
    return await eventually(async () => {
      last = await jobOf(d, id);
      return ["completed", "failed", "timed_out", "killed"].includes(last.status)
        ? last
        : undefined;
    }, timeoutMs);
  } catch {
    throw new Error(`job ${id} did not finish in ${timeoutMs} ms: ${JSON.stringify(last)}`);
  }
}

/** Waits until the job's container has started and returns its id. */
export async function containerOf(docker: DockerClient, jobId: string): Promise<string> {
  // Running, not only created: a daemon killed between create and start leaves a container
  // that never runs, which is not the situation these tests stage.
  const found = await eventually(async () => {
    const [c] = await docker.listContainers({ all: true, labels: { "pylon.job": jobId } });
    return c && c.State !== "created" ? c : undefined;
  }, 15_000);
  return found.Id;
}

/** Removes every container of the given jobs (for `finally`). */
export async function removeJobContainers(docker: DockerClient, ids: string[]): Promise<void> {
  for (const id of ids) {
    for (const c of await docker.listContainers({ all: true, labels: { "pylon.job": id } })) {
      await docker.removeContainer(c.Id, { force: true }).catch(() => {});
    }
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `GET /api/events?job=<id>` of a finished job: its replayed lines, up to its final state. */
export async function replayedEvents(d: DaemonHandle, id: string): Promise<string> {
  const res = await d.api(`/api/events?job=${id}`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
  let text = "";
  for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    if (/"status":"(completed|failed)"/.test(text)) break;
  }
  return text;
}

/** The dashboard's page of a job, logged in through a one-time link. */
export async function dashboardPage(d: DaemonHandle, id: string): Promise<string> {
  const minted = await d.api("/api/dashboard/login-codes", { method: "POST" });
  assert.equal(minted.status, 201);
  const link = await fetch(d.url + (await minted.json()).path, { redirect: "manual" });
  await link.body?.cancel();
  const cookie = link.headers.get("set-cookie")!.split(";")[0]!;
  const page = await fetch(`${d.url}/dashboard/jobs/${id}`, { headers: { cookie } });
  assert.equal(page.status, 200);
  return await page.text();
}
