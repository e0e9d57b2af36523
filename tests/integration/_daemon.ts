/**
 * The daemon and job plumbing of the integration tests, written once: a daemon on a test home
 * whose jobs run in the real Docker Engine, a webhook that starts a job, a job's state until it
 * ends, and a follow-up job queued while no daemon runs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { createStoreRegistry } from "../../src/store/mod.ts";
import { eventually, startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { dockerRunnerFor } from "./_agent.ts";

/** The statuses a job ends in (`dismissed` is never reached by the jobs of these tests). */
export const ENDED = ["completed", "failed", "timed_out", "killed"];

/** A test daemon whose jobs run in the real Docker Engine. */
export interface DockerDaemon extends TestDaemon {
  /** Stops this daemon (a no-op when already stopped) and starts the next with the same options. */
  restart(): Promise<DockerDaemon>;
}

/** How {@linkcode startDockerDaemon} starts the daemon. */
export interface DockerDaemonOptions {
  /** Where it listens (default 127.0.0.1 and a free port); `url` follows. */
  host?: string;
  port?: number;
  /**
   * The daemon's environment beyond `HOME` (the test home) and `TZ=UTC`. When set, the runner gets
   * the same environment (a `DOCKER_HOST` there picks the Engine for both); otherwise `HOME` only.
   */
  env?: Record<string, string>;
  /** Collects the agents' output lines (`[pylon id] line`). */
  output?: string[];
  /** A loopback proxy standing for `server.agent_url`: pointed at each daemon this starts. */
  proxy?: { target: { url: string } };
}

/** Starts a daemon on `root` (a pylon home prepared by the test) with the real Docker runner. */
export async function startDockerDaemon(
  root: string,
  options: DockerDaemonOptions = {},
): Promise<DockerDaemon> {
  const runnerEnv = options.env ? { HOME: root, TZ: "UTC", ...options.env } : undefined;
  const d = await startTestDaemon(root, {
    createRunner: dockerRunnerFor(root, options.output, runnerEnv ? { env: runnerEnv } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.host ? { host: options.host } : {}),
    ...(options.port ? { port: options.port } : {}),
  });
  if (options.proxy) options.proxy.target.url = d.url;
  return {
    ...d,
    async restart() {
      await d.stop();
      return await startDockerDaemon(root, options);
    },
  };
}

/** Posts `body` (JSON) to the webhook `path`, checks the 202 and returns the job's id. */
export async function postJob(
  d: { url: string },
  path: string,
  body: unknown = {},
): Promise<string> {
  const res = await fetch(d.url + path, { method: "POST", body: JSON.stringify(body) });
  assert.equal(res.status, 202, await res.clone().text());
  return (await res.json()).job_id;
}

/** The job as `GET /api/jobs/:id` shows it. */
export async function jobOf(d: Pick<TestDaemon, "api">, id: string) {
  return await (await d.api(`/api/jobs/${id}`)).json();
}

/** Polls the job until it has ended (see {@linkcode ENDED}) and returns it. */
export async function finishedJob(d: Pick<TestDaemon, "api">, id: string, timeoutMs = 60_000) {
  return await eventually(async () => {
    const job = await jobOf(d, id);
    return ENDED.includes(job.status) ? job : undefined;
  }, timeoutMs);
}

/**
 * Queues a follow-up of the job `parentId` of `pylon` in its store, as a chat reply does, while
 * no daemon runs on `root`; returns its id.
 */
export async function queueFollowUp(root: string, pylon: string, parentId: string) {
  const stores = createStoreRegistry(createPylonPaths(root));
  try {
    const store = await stores.open(pylon);
    const parent = (await store.get(parentId))!;
    return (await store.insert({
      id: crypto.randomUUID(),
      pylon,
      status: "queued",
      trigger: "follow-up",
      payload: parent.payload,
      headers: {},
      parentId,
      sessionId: parent.sessionId,
    })).job.id;
  } finally {
    await stores.closeAll();
  }
}
