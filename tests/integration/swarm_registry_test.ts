/**
 * The Swarm backend's images on every node (issue 18 part 3) and its default `agent_url`, on a
 * real single-node swarm, a real registry (Debian's `docker-registry` on 127.0.0.1, started and
 * stopped here) and a second real Engine joined as a worker:
 *
 * - with `docker.registry`, a pylon-built image (`pylon/…`) is tagged and pushed there, the
 *   service runs the registry's reference, the registry's catalog lists it, and the job runs;
 * - with `agent.network: bridge`, the task (on its node's default bridge, not on `ingress`)
 *   reaches the daemon at `http://172.17.0.1:<port>`, the default `agent_url` on Swarm. It is set
 *   explicitly: the test daemon listens on port 0, which the default would name;
 * - `agent.placement: ["node.role==worker"]` puts the task on the worker, which pulls the image
 *   from the registry; an image the worker lacks (and no registry has) fails the job with an error
 *   naming the node and the fix.
 *
 * The agent is the mock entrypoint on the Claude Code image (node and git): slow tier.
 */

import assert from "node:assert/strict";
import { eventually, type TestDaemon, writeHome } from "../_helpers/daemon.ts";
import { openTestDocker } from "./_docker.ts";
import { finishedJob, jobOf, postJob, startDockerDaemon } from "./_daemon.ts";
import { printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";
import { mockOnClaudeImage, startAgentProxy } from "./no_mounts_helpers.ts";
import {
  freePort,
  REGISTRY_IGNORE,
  requireSwarm,
  startRegistry,
  startWorkerEngine,
} from "./swarm_helpers.ts";
import type { DockerClient } from "../../src/docker/mod.ts";

printSlowSkipReason("Swarm registry (Claude Code image)");

const RESULT = `printf '{"status":"completed","result":"ran on %s"}' "$(cat /etc/hostname)" ` +
  '> "$PYLON_OUT/result.json"';

function pylonYaml(
  name: string,
  image: string,
  o: { network: "bridge" | "host"; placement: string; prompt?: string },
): string {
  return [
    `name: ${name}`,
    "trigger:",
    "  type: webhook",
    `  path: /${name}`,
    "agent:",
    "  type: custom",
    `  image: ${JSON.stringify(image)}`,
    `  network: ${o.network}`,
    `  prompt: ${JSON.stringify(o.prompt ?? RESULT)}`,
    `  placement: [${JSON.stringify(o.placement)}]`,
  ].join("\n") + "\n";
}

/** The node the job's (only) task was scheduled on, read while the service exists. */
async function nodeOfJob(
  d: TestDaemon,
  docker: DockerClient,
  job: string,
): Promise<{ image: string; node: string }> {
  const found = await eventually(async () => {
    const [svc] = await docker.swarm!.listServices({ labels: { "pylon.job": job } });
    const [task] = svc ? await docker.swarm!.tasks(svc.ID) : [];
    if (svc && task?.NodeID) {
      return { image: svc.Spec.TaskTemplate.ContainerSpec.Image, node: task.NodeID };
    }
    const state = await jobOf(d, job);
    return ["completed", "failed"].includes(state.status) ? { error: state } : undefined;
  }, 600_000);
  if (!found.node || !found.image) {
    throw new Error(`no task was scheduled: ${JSON.stringify(found)}`);
  }
  return { image: found.image, node: found.node };
}

Deno.test({
  name: "docker.backend: swarm — docker.registry, the default agent_url, placement on a worker",
  ignore: SLOW_IGNORE || REGISTRY_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    requireSwarm();
    using docker = openTestDocker();
    const built = await mockOnClaudeImage(docker);
    // Stands for an image pylon built (`pylon/…`): those are the ones pushed to the registry.
    const tag = built.split(":")[1]!;
    await docker.swarm!.tagImage(built, "pylon/test-swarm-registry", tag);
    const image = `pylon/test-swarm-registry:${tag}`;
    await using registry = await startRegistry();
    const serverPort = freePort("0.0.0.0");
    // The test daemon listens on a random loopback port, so a forwarder on 0.0.0.0:<port> stands
    // for a daemon listening on all addresses (`server.host: 0.0.0.0`, the default): bridge tasks
    // reach it at 172.17.0.1, host-network ones too (172.17.0.1 is an address of the host).
    const forwarder = startAgentProxy({ hostname: "0.0.0.0", port: serverPort });
    const root = await Deno.makeTempDir({ prefix: "pylon-swarm-reg-" });
    await writeHome(root, {
      "config.yaml": [
        "server:",
        // The Swarm default for bridge networking (docker_runner.ts), spelled out: see above.
        `  agent_url: http://172.17.0.1:${serverPort}`,
        "docker:",
        "  backend: swarm",
        `  registry: ${registry.address}`,
      ].join("\n") + "\n",
      "pylons/reg/pylon.yaml": pylonYaml("reg", image, {
        network: "bridge",
        placement: "node.role==manager",
      }),
      "pylons/onworker/pylon.yaml": pylonYaml("onworker", image, {
        network: "host",
        placement: "node.role==worker",
      }),
      "pylons/gone/pylon.yaml": pylonYaml("gone", image, {
        network: "bridge",
        placement: "node.role==manager",
        prompt: "sleep 60",
      }),
      // Not a pylon-built image: never pushed, so the worker lacks it.
      "pylons/lacking/pylon.yaml": pylonYaml("lacking", built, {
        network: "host",
        placement: "node.role==worker",
      }),
    });
    const d = await startDockerDaemon(root, { proxy: forwarder });
    const manager = (await docker.swarm!.nodes()).find((n) => n.Spec?.Role === "manager")!;
    try {
      await t.step("the built image is pushed; the service pulls the registry's", async () => {
        const id = await postJob(d, "/reg");
        const { image: used, node } = await nodeOfJob(d, docker, id);
        assert.equal(used, `${registry.address}/pylon/test-swarm-registry:${tag}`);
        assert.equal(node, manager.ID);
        const job = await finishedJob(d, id, 600_000);
        // Bridge network: the init step reached the daemon at http://172.17.0.1:<port>.
        assert.equal(job.status, "completed", JSON.stringify(job));
        assert.match(job.result, /^ran on /);
        assert.ok((await registry.catalog()).includes("pylon/test-swarm-registry"));
      });

      await t.step("a service removed outside pylon ends its job at once", async () => {
        const id = await postJob(d, "/gone");
        await nodeOfJob(d, docker, id);
        // The daemon polls the task every 500 ms: let it see the task first.
        await new Promise((r) => setTimeout(r, 1500));
        const [svc] = await docker.swarm!.listServices({ labels: { "pylon.job": id } });
        await docker.swarm!.removeService(svc!.ID);
        const job = await finishedJob(d, id, 20_000);
        assert.equal(job.status, "failed", JSON.stringify(job));
        assert.match(job.error, /removed outside pylon/);
      });

      await using worker = await startWorkerEngine();

      await t.step("a node lacking the image fails the job, naming the node", async () => {
        const id = await postJob(d, "/lacking");
        const job = await finishedJob(d, id, 120_000);
        assert.equal(job.status, "failed", JSON.stringify(job));
        assert.match(job.error, /the Swarm node "/);
        assert.ok(job.error.includes(worker.nodeId.slice(0, 12)), job.error);
        assert.match(job.error, /lacks the image .*No such image/);
        assert.match(job.error, /fix: set docker\.registry/);
      });

      await t.step("agent.placement puts the task on the worker, which pulls it", async () => {
        const id = await postJob(d, "/onworker");
        const { node } = await nodeOfJob(d, docker, id);
        assert.equal(node, worker.nodeId);
        const job = await finishedJob(d, id, 600_000);
        assert.equal(job.status, "completed", JSON.stringify(job));
      });
    } finally {
      await d.stop();
      await forwarder.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
