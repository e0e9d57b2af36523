/**
 * `pylon doctor`'s egress relay row (`docker.backend: swarm`, issue 19): whether the
 * `pylon-egress-relay` service runs on every node with the daemon's current addresses, for
 * pylons with an `agent.egress` list. The Engine is a stand-in with a Swarm API in memory.
 */

import assert from "node:assert/strict";
import { collectChecks } from "../../src/cli/commands/doctor.ts";
import type { Check } from "../../src/cli/doctor/mod.ts";
import type { DockerClient, ServiceInfo } from "../../src/docker/mod.ts";
import { relayServiceSpec, relayTargets } from "../../src/egress/mod.ts";
import { createTestContext } from "../_helpers/cli.ts";
import { fakeDocker, freePort, offline } from "./_doctor.ts";

/** A manager with two ready nodes, the relay service (or none) and `running` of its tasks. */
function swarmDocker(relay: ServiceInfo | null, running: number): DockerClient {
  return {
    ...fakeDocker,
    swarm: {
      nodes: () => Promise.resolve(["n1", "n2"].map((ID) => ({ ID, Status: { State: "ready" } }))),
      inspectService: () => Promise.resolve(relay),
      tasks: () =>
        Promise.resolve(["n1", "n2"].map((node, i) => ({
          ID: `t${i}`,
          ServiceID: "r",
          NodeID: node,
          DesiredState: "running",
          Status: i < running
            ? { State: "running" }
            : { State: "rejected", Err: "No such image: custom/agent:1" },
        }))),
    },
  } as unknown as DockerClient;
}

function relayAt(agentUrl: string, egressPort: number): ServiceInfo {
  const spec = relayServiceSpec({
    image: "pylon/agent-claude:abc",
    targets: relayTargets(agentUrl, egressPort),
    network: "pylon-egress-swarm",
    labels: {},
  });
  return { ID: "r", CreatedAt: "", Spec: spec };
}

async function relayRow(
  agentUrl: string,
  docker: DockerClient,
  egress = "  egress: [api.github.com]\n",
): Promise<Check | undefined> {
  await using ctx = await createTestContext();
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    `server:\n  port: ${freePort()}\n  agent_url: ${agentUrl}\n  egress_port: 3199\n` +
      "docker:\n  backend: swarm\n",
  );
  const dir = `${ctx.paths.root}/pylons/hook`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/pylon.yaml`,
    "name: hook\ntrigger:\n  type: webhook\n  path: /hook\nagent:\n  type: custom\n" +
      `  image: busybox\n  prompt: go\n${egress}`,
  );
  const checks = await collectChecks(ctx, { docker, fetch: offline });
  return checks.find((c) => c.label === "Egress relay");
}

const URL_OK = "http://10.0.0.5:8080";

Deno.test("doctor reports the Swarm egress relay of pylons with an egress list", async (t) => {
  await t.step("running on every node with the current addresses: ok", async () => {
    const row = await relayRow(URL_OK, swarmDocker(relayAt(URL_OK, 3199), 2));
    assert.equal(row?.status, "ok", JSON.stringify(row));
    assert.match(row!.detail, /on 2 node\(s\): 3128=10\.0\.0\.5:3199,8080=10\.0\.0\.5:8080/);
  });
  await t.step("not created yet: says the first job creates it", async () => {
    const row = await relayRow(URL_OK, swarmDocker(null, 0));
    assert.equal(row?.status, "--");
    assert.match(row!.detail, /first job \(pylon hook\) creates pylon-egress-relay/);
  });
  await t.step("a node without a running relay: WARN with the task's error", async () => {
    const row = await relayRow(URL_OK, swarmDocker(relayAt(URL_OK, 3199), 1));
    assert.equal(row?.status, "WARN");
    assert.match(row!.detail, /runs on 1 of 2 node\(s\)/);
    assert.match(row!.hint!, /docker service ps pylon-egress-relay/);
  });
  await t.step("forwarding to old addresses: WARN", async () => {
    const row = await relayRow(URL_OK, swarmDocker(relayAt("http://10.0.0.1:8080", 3128), 2));
    assert.equal(row?.status, "WARN");
    assert.match(row!.detail, /forwards to 3128=10\.0\.0\.1:3128,8080=10\.0\.0\.1:8080, not/);
  });
  await t.step("an https agent_url cannot be relayed: FAIL naming the field", async () => {
    const row = await relayRow("https://pylon.example.com", swarmDocker(null, 0));
    assert.equal(row?.status, "FAIL");
    assert.match(row!.detail, /server\.agent_url is "https:\/\/pylon\.example\.com"/);
    assert.match(row!.hint!, /plain http:\/\/host:port/);
  });
  await t.step("no pylon with a list: no row", async () => {
    const row = await relayRow(URL_OK, swarmDocker(null, 0), "");
    assert.equal(row, undefined);
  });
});
