/**
 * Slow tier (`PYLON_SLOW_TESTS=1`, the Claude Code image brings node): the egress allowlist on
 * `docker.backend: swarm` (issue 19 item 3, issue 18), on this machine's real single-node swarm,
 * through a real daemon listening on `docker_gwbridge`'s gateway (where the relay's tasks reach
 * the host). A job of a pylon with `agent.egress` runs attached only to the internal overlay
 * `pylon-egress-swarm`, next to the global relay service `pylon-egress-relay`:
 *
 * - through the relay and the daemon's proxy it reaches the allowed host (this machine's own
 *   name, a loopback fake, listed in `agent.egress_private`);
 * - a host not on the list gets `403`, and the refusal is in `pylon logs <job>`;
 * - a direct connection to the daemon's address fails (no route);
 * - its result arrives over the channel through the relay;
 * - a stranger without the job's credential gets `407` from the exposed proxy port.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  RELAY_OUT_NETWORK,
  RELAY_SERVICE,
  relayState,
  SWARM_JOB_NETWORK,
} from "../../src/egress/mod.ts";
import { eventually, writeHome } from "../_helpers/daemon.ts";
import { runPylon } from "../_helpers/process.ts";
import { openTestDocker } from "./_docker.ts";
import { finishedJob, postJob, startDockerDaemon } from "./_daemon.ts";
import { printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";
import { mockOnClaudeImage } from "./no_mounts_helpers.ts";
import { freePort, requireSwarm, SWARM_IGNORE } from "./swarm_helpers.ts";
import { ALLOWED_BODY, fencedPylonYaml, loopbackName, rawStatus } from "./egress_relay_helpers.ts";

printSlowSkipReason("egress on Swarm (Claude Code image)");

/** `docker_gwbridge`'s gateway: the host as the relay's tasks (on a routed overlay) reach it. */
async function gwbridgeGateway(docker: ReturnType<typeof openTestDocker>): Promise<string> {
  const info = await docker.networks!.inspect("docker_gwbridge");
  const gateway = info?.IPAM?.Config?.find((c) => c.Gateway && !c.Gateway.includes(":"))?.Gateway;
  assert.ok(gateway, "docker_gwbridge has no IPv4 gateway (is this Engine a swarm node?)");
  return gateway;
}

Deno.test({
  name: "docker.backend: swarm — agent.egress through the relay: allowed, refused, no route, 407",
  ignore: SLOW_IGNORE || SWARM_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    requireSwarm();
    using docker = openTestDocker();
    const image = await mockOnClaudeImage(docker);
    const name = await loopbackName();
    await using allowed = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(`${ALLOWED_BODY}\n`),
    );
    const allowedPort = allowed.addr.port;
    const host = await gwbridgeGateway(docker);
    const port = freePort(host);
    const egressPort = freePort(host);
    const root = await Deno.makeTempDir({ prefix: "pylon-egress-swarm-" });
    await writeHome(root, {
      "config.yaml": [
        "server:",
        `  agent_url: http://${host}:${port}`,
        `  egress_port: ${egressPort}`,
        "docker:",
        "  backend: swarm",
      ].join("\n") + "\n",
      "pylons/fenced/pylon.yaml": fencedPylonYaml({
        image,
        allowed: name,
        allowedPort,
        direct: { host, port },
        extra: ['  placement: ["node.role==manager"]'],
      }),
    });
    let d = await startDockerDaemon(root, { host, port });
    let id = "";
    try {
      let probe: Record<string, string> = {};
      await t.step(
        "the job runs attached only to pylon-egress-swarm, beside the relay",
        async () => {
          id = await postJob(d, "/fenced");
          const service = await eventually(
            async () => (await docker.swarm!.listServices({ labels: { "pylon.job": id } }))[0],
            120_000,
          );
          const egressNet = await docker.networks!.inspect(SWARM_JOB_NETWORK);
          assert.ok(egressNet?.Internal, `${SWARM_JOB_NETWORK} is not internal`);
          assert.equal(egressNet.Driver, "overlay");
          assert.deepEqual(
            service.Spec.TaskTemplate.Networks?.map((n) => n.Target),
            [egressNet.Id],
            JSON.stringify(service.Spec.TaskTemplate.Networks),
          );
          const relay = await docker.swarm!.inspectService(RELAY_SERVICE);
          assert.ok(relay, "no relay service");
          assert.deepEqual(relay.Spec.Mode, { Global: {} });
          const out = await docker.networks!.inspect(RELAY_OUT_NETWORK);
          assert.equal(out?.Internal, false);
          assert.deepEqual(
            relay.Spec.TaskTemplate.Networks?.map((n) => n.Target).sort(),
            [egressNet.Id, out!.Id].sort(),
          );
          const state = await relayState(docker.swarm!);
          assert.equal(state.running, 1, JSON.stringify(state));
          assert.equal(state.routes, `3128=${host}:${egressPort},8080=${host}:${port}`);
          const doctor = await runPylon(["doctor"], { PYLON_HOME: root, HOME: root });
          assert.match(
            doctor.stdout,
            new RegExp(`Egress relay \\.* ok +pylon-egress-relay on 1 node\\(s\\): 3128=`),
            doctor.stdout,
          );
        },
      );

      await t.step("its result arrives over the channel through the relay", async () => {
        const log = () => Deno.readTextFile(`${root}/jobs/${id}.log`).catch(() => "");
        const job = await finishedJob(d, id, 120_000).catch(async (e) => {
          throw new Error(`the job did not end: ${await log()}\n${d.logs.join("\n")}`, {
            cause: e,
          });
        });
        assert.equal(
          job.status,
          "completed",
          `${JSON.stringify(job)}\n${await log()}\n${d.logs.join("\n")}`,
        );
        probe = JSON.parse(job.result);
        assert.equal(probe.proxy, `${RELAY_SERVICE}:3128`);
        assert.equal(probe.agentUrl, `http://${RELAY_SERVICE}:8080`);
      });

      await t.step("a host on the list answers through the relay and the proxy", () => {
        assert.equal(probe.allowed, `200 ${ALLOWED_BODY}`, JSON.stringify(probe));
      });

      await t.step("a host not on the list is refused and shown by `pylon logs`", async () => {
        assert.match(probe.refused!, /^403 egress refused: evil\.example:80/, probe.refused);
        const shown = await runPylon(["logs", id], { PYLON_HOME: root, HOME: root });
        assert.equal(shown.code, 0, shown.stderr);
        assert.match(
          shown.stdout,
          /egress refused: evil\.example:80 \(not on the job's agent\.egress list\)/,
          shown.stdout,
        );
      });

      await t.step("a direct connection to the daemon's address has no route", () => {
        assert.match(probe.direct!, /^(error|timeout)/, probe.direct);
      });

      await t.step("a stranger without the job's credential gets 407", async () => {
        const head = "GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n";
        assert.match(await rawStatus(host, egressPort, head), /^HTTP\/1\.1 407 /);
        const forged = btoa(`${id}:${"0".repeat(64)}`);
        assert.match(
          await rawStatus(
            host,
            egressPort,
            `CONNECT evil.example:443 HTTP/1.1\r\nProxy-Authorization: Basic ${forged}\r\n\r\n`,
          ),
          /^HTTP\/1\.1 407 /,
        );
      });

      await t.step("after a daemon restart the next job reuses the relay", async () => {
        const before = await docker.swarm!.inspectService(RELAY_SERVICE);
        d = await d.restart();
        const second = await postJob(d, "/fenced");
        const job = await finishedJob(d, second, 120_000);
        assert.equal(job.status, "completed", JSON.stringify(job));
        assert.equal(JSON.parse(job.result).allowed, `200 ${ALLOWED_BODY}`);
        const after = await docker.swarm!.inspectService(RELAY_SERVICE);
        assert.equal(after?.ID, before?.ID);
      });
    } finally {
      await d.stop();
      for (const s of await docker.swarm!.listServices({ labels: { "pylon.job": id || "-" } })) {
        await docker.swarm!.removeService(s.ID).catch(() => {});
      }
      await docker.swarm!.removeService(RELAY_SERVICE).catch(() => {});
      await Deno.remove(root, { recursive: true });
    }
  },
});
