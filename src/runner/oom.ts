/**
 * A container the kernel killed for memory says so: the Engine records `State.OOMKilled`, and a
 * job whose agent exited non-zero after it fails with `killed: out of memory (limit 2g)` instead
 * of a bare exit code 137.
 *
 * @module
 */

import type { DockerClient } from "../docker/mod.ts";
import type { RunOutcome } from "../queue/mod.ts";

/** How long the inspect may take before the outcome is kept as it is. */
const INSPECT_TIMEOUT_MS = 10_000;

/**
 * `outcome`, or a failure naming the memory limit when the container exited non-zero and the
 * Engine saw it run out of memory. An agent that exits 0 keeps its outcome (a child process may
 * have been killed and handled).
 */
export async function withOutOfMemory(
  docker: DockerClient,
  containerId: string,
  exitCode: number,
  outcome: RunOutcome,
): Promise<RunOutcome> {
  if (exitCode === 0) return outcome;
  const info = await docker
    .inspectContainer(containerId, { signal: AbortSignal.timeout(INSPECT_TIMEOUT_MS) })
    .catch(() => null);
  if (!info?.State.OOMKilled) return outcome;
  const memory = info.HostConfig?.Memory;
  const limit = memory ? ` (limit ${formatMemory(memory)})` : "";
  return { ...outcome, status: "failed", exitCode, error: `killed: out of memory${limit}` };
}

/** Bytes as Docker's sizes are written: `2g`, `512m`, `64k`, or plain bytes. */
export function formatMemory(bytes: number): string {
  for (const [unit, size] of [["g", 1024 ** 3], ["m", 1024 ** 2], ["k", 1024]] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}b`;
}
