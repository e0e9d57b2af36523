/**
 * The real-Engine set-up of the ingest benchmark: a `busy` pylon whose jobs sleep in busybox
 * containers fills every one of the dispatcher's slots before the load starts, so each webhook
 * job queues behind them (and each commit wakes a dispatcher that has nothing to start). Its
 * containers are removed afterwards by the home's label.
 *
 * @module
 */

import { join } from "node:path";
import { createDockerClient } from "../../src/docker/mod.ts";
import { ensureTestImage, removeHomeContainers } from "../../tests/integration/_docker.ts";

/** Slots of the real-Engine set-up (`docker.max_concurrent`). */
export const BUSY_SLOTS = 2;

/** The busybox image the `busy` pylon runs (imported once into the Engine, then reused). */
export async function busyImage(): Promise<string> {
  using docker = createDockerClient({ env: Deno.env.toObject() });
  return await ensureTestImage(docker);
}

/** Triggers the `busy` pylon {@linkcode BUSY_SLOTS} times and waits until all of them run. */
export async function fillSlots(url: string, home: string): Promise<void> {
  const token = (await Deno.readTextFile(join(home, "daemon.token"))).trim();
  const headers = { authorization: `Bearer ${token}` };
  for (let i = 0; i < BUSY_SLOTS; i++) {
    const res = await fetch(`${url}/api/pylons/busy/trigger`, { method: "POST", headers });
    if (res.status !== 202) throw new Error(`trigger busy: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/api/jobs?pylon=busy&status=running`, { headers });
    const running = await res.json() as unknown[];
    if (running.length === BUSY_SLOTS) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the busy pylon's ${BUSY_SLOTS} jobs did not all start within 60 s`);
}

/** Removes the containers the daemon of `home` started. */
export async function removeBusyContainers(home: string): Promise<void> {
  using docker = createDockerClient({ env: Deno.env.toObject() });
  await removeHomeContainers(docker, home);
}
