/**
 * Shared by the Swarm tests and `bench/swarm_bench.ts`: whether this machine's Engine is an
 * active Swarm manager. With `PYLON_REQUIRE_DOCKER=1` (CI) a missing swarm fails the tests
 * instead of skipping them; `.ci/run` runs `docker swarm init --advertise-addr 127.0.0.1`.
 *
 * @module
 */

import { DOCKER_UNAVAILABLE, openTestDocker } from "./_docker.ts";

const REQUIRED = Deno.env.get("PYLON_REQUIRE_DOCKER") === "1";

async function probe(): Promise<string | undefined> {
  if (DOCKER_UNAVAILABLE) return DOCKER_UNAVAILABLE;
  using docker = openTestDocker();
  try {
    const state = await docker.swarm!.state({ signal: AbortSignal.timeout(5000) });
    return state === "active"
      ? undefined
      : `the Engine's Swarm is ${state} (run: docker swarm init --advertise-addr 127.0.0.1)`;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Why Swarm tests cannot run here, or undefined. */
export const SWARM_UNAVAILABLE: string | undefined = await probe();
/** Whether Swarm tests are registered as ignored (never in CI, where they fail instead). */
export const SWARM_IGNORE = SWARM_UNAVAILABLE !== undefined && !REQUIRED;

if (SWARM_UNAVAILABLE) {
  // deno-lint-ignore no-console
  console.log(
    `Swarm tests ${REQUIRED ? "fail" : "are ignored"}: ${SWARM_UNAVAILABLE}` +
      (REQUIRED ? "" : ". Set PYLON_REQUIRE_DOCKER=1 to make them fail instead."),
  );
}

/** Throws when the swarm is not active (the tests' first step, so CI fails loudly). */
export function requireSwarm(): void {
  if (SWARM_UNAVAILABLE) throw new Error(`No active Docker Swarm here: ${SWARM_UNAVAILABLE}`);
}
