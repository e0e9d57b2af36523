/**
 * Snapshots and jobs for the nexus reducer and layout tests.
 */

import type { JobStatus } from "../../src/config/mod.ts";
import type { JobView, PylonView, Snapshot, ToolCallView } from "../../src/nexus/model.ts";

/** A pylon as the files describe it. */
export function pylon(name: string, over: Partial<PylonView> = {}): PylonView {
  return {
    name,
    state: "active",
    description: "",
    trigger: { type: "webhook", path: `/${name}` },
    webhookUrl: `http://localhost:8080/${name}`,
    workspace: "none",
    agent: "claude (oauth)",
    channel: "stdout",
    topic: null,
    message: null,
    autoRun: true,
    prompt: "Fix the bug",
    problem: null,
    costToday: null,
    costMonth: null,
    successRate: null,
    ...over,
  };
}

let n = 0;

/** A job of `pylon` in `status`, newer than the previous one made. */
export function job(pylonName: string, status: JobStatus, over: Partial<JobView> = {}): JobView {
  n++;
  const id = `${n.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
  return {
    id,
    pylon: pylonName,
    status,
    trigger: "webhook",
    createdAt: new Date(Date.UTC(2026, 11, 5, 10, 0, n)),
    startedAt: status === "running" || status === "completed" || status === "failed"
      ? new Date(Date.UTC(2026, 11, 5, 10, 0, n))
      : null,
    finishedAt: status === "completed" || status === "failed"
      ? new Date(Date.UTC(2026, 11, 5, 10, 1, n))
      : null,
    error: status === "failed" ? "the agent exited with code 1" : null,
    costUsd: status === "completed" ? 0.25 : null,
    waiting: null,
    ...over,
  };
}

/** A snapshot of these pylons and jobs (jobs newest first). */
export function snapshot(
  pylons: PylonView[],
  jobs: JobView[],
  over: Partial<Snapshot> = {},
): Snapshot {
  const sorted = [...jobs].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  return {
    pylons,
    jobs: sorted,
    waiting: sorted.filter((j) => j.status === "awaiting_approval" || j.status === "held"),
    toolCalls: [] as ToolCallView[],
    daemon: true,
    ...over,
  };
}
