/**
 * Swarm jobs leave nothing behind on the node (issue 18): a job's service is one replica never
 * restarted, whose task and container go with it, unlike a `replicated-job` service's, which the
 * Engine keeps forever (moby/moby#42789). Start-up removes the exited containers such services
 * of earlier builds left. On this machine's real single-node swarm.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createLogger } from "../../src/log/mod.ts";
import { LABELS } from "../../src/runner/container_spec.ts";
import { homeLabel } from "../../src/runner/docker_runner.ts";
import { serviceSpecOf, SwarmJobs } from "../../src/runner/swarm.ts";
import { eventually } from "../_helpers/daemon.ts";
import { ensureTestImage, openTestDocker } from "./_docker.ts";
import { requireSwarm, SWARM_IGNORE } from "./swarm_helpers.ts";

Deno.test({
  name:
    "docker.backend: swarm — a job's task and container go with its service; old leftovers are pruned",
  ignore: SWARM_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    requireSwarm();
    using docker = openTestDocker();
    const swarm = docker.swarm!;
    const image = await ensureTestImage(docker);
    const root = await Deno.makeTempDir({ prefix: "pylon-swarm-leftovers-" });
    const home = homeLabel(`${root}/jobs`);
    const labels = { [LABELS.managed]: "1", [LABELS.home]: home };
    const spec = (name: string) => ({
      Name: name,
      Labels: labels,
      TaskTemplate: {
        ContainerSpec: { Image: image, Labels: labels, Command: ["true"] },
        RestartPolicy: { Condition: "none" as const },
        Placement: { Constraints: ["node.role==manager"] },
      },
    });
    const containersOf = (service: string) =>
      docker.listContainers({
        all: true,
        labels: { "com.docker.swarm.service.id": service },
      });
    const exited = async (service: string) =>
      (await containersOf(service)).some((c) => c.State === "exited");
    // Every task the swarm still stores for a service id (its own listing refuses a removed one).
    const tasksOf = async (service: string) => {
      using client = Deno.createHttpClient({
        proxy: { transport: "unix", path: "/var/run/docker.sock" },
      });
      const res = await fetch("http://docker/tasks", { client });
      const all = await res.json() as { ServiceID: string }[];
      return all.filter((t) => t.ServiceID === service).length;
    };
    const ids: string[] = [];
    try {
      // What pylon creates for a job: its mode as serviceSpecOf() writes it.
      const mode = serviceSpecOf({
        name: "x",
        pylon: { config: { agent: {} }, agent: {} } as never,
        container: { Image: image },
        image,
        secrets: [],
        uid: 1000,
        gid: 1000,
      }).Mode;
      const job = await swarm.createService({
        ...spec(`pylon-left-${home.slice(0, 6)}`),
        Mode: mode,
      });
      ids.push(job);
      await eventually(() => exited(job), 60_000);
      await swarm.removeService(job);
      await eventually(async () => (await containersOf(job)).length === 0, 30_000);
      assert.equal(await tasksOf(job), 0, "the job's task went with its service");

      // An earlier build's replicated-job service: its container stays after the service.
      const old = await swarm.createService({
        ...spec(`pylon-old-${home.slice(0, 6)}`),
        Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
      });
      ids.push(old);
      await eventually(() => exited(old), 60_000);
      await swarm.removeService(old);
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal((await containersOf(old)).length, 1, "the Engine keeps it (moby#42789)");
      assert.equal(await tasksOf(old), 1, "and its task");

      const logs: string[] = [];
      const jobs = new SwarmJobs({
        docker,
        jobsDir: `${root}/jobs`,
        home,
        output: () => {},
        clock: { now: () => new Date() },
      });
      await jobs.prune(() => Promise.resolve(false), createLogger({ write: (l) => logs.push(l) }));
      assert.equal((await containersOf(old)).length, 0, "start-up removed the leftover");
      assert.ok(logs.some((l) => /orphans\.pruned_swarm.*containers=1/.test(l)), logs.join("\n"));
    } finally {
      for (const id of ids) {
        await swarm.removeService(id).catch(() => {});
        for (const c of await containersOf(id)) {
          await docker.removeContainer(c.Id, { force: true }).catch(() => {});
        }
      }
      await Deno.remove(root, { recursive: true });
    }
  },
});
