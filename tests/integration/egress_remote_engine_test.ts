/**
 * Slow tier (`PYLON_SLOW_TESTS=1`, the Claude Code image brings node): the egress allowlist on a
 * remote Engine (`DOCKER_HOST=tcp://…`, `docker.mounts: none`; issue 19 item 3). The "remote"
 * Engine is this machine's, reached over TCP through a loopback forwarder to its socket, so the
 * daemon treats it as another machine's: the proxy is not on the job network's gateway but on
 * `server.egress_port`, reached through the relay container `pylon-egress-relay` (on the
 * internal `pylon-egress` network and the default bridge, where it reaches the daemon at
 * `docker0`'s gateway). The job, attached only to `pylon-egress`, reaches the allowed host, is
 * refused another one (in `pylon logs`), has no route to a server on the default bridge (which
 * the host reaches), and its result arrives over the channel through the relay; a stranger gets
 * `407`. (Services of the Engine's host itself stay reachable from an internal network: README,
 * design notes.)
 *
 * @module
 */

import assert from "node:assert/strict";
import { RELAY_SERVICE } from "../../src/egress/mod.ts";
import { eventually, writeHome } from "../_helpers/daemon.ts";
import { runPylon } from "../_helpers/process.ts";
import { openTestDocker, TEST_LABELS } from "./_docker.ts";
import { finishedJob, postJob, startDockerDaemon } from "./_daemon.ts";
import { printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";
import { mockOnClaudeImage } from "./no_mounts_helpers.ts";
import { freePort } from "./swarm_helpers.ts";
import { ALLOWED_BODY, fencedPylonYaml, loopbackName, rawStatus } from "./egress_relay_helpers.ts";

printSlowSkipReason("egress on a remote Engine (Claude Code image)");

/**
 * A TCP server in a container on the default bridge (reachable from the host, so a job reaching
 * it would have a route out); its address, and `close`.
 */
async function serverOnBridge(
  docker: ReturnType<typeof openTestDocker>,
  image: string,
): Promise<{ ip: string; port: number; close(): Promise<void> }> {
  const id = await docker.createContainer({
    Image: image,
    Entrypoint: ["node", "-e", "require('net').createServer((s) => s.end('hi')).listen(9999)"],
    Cmd: [],
    Labels: TEST_LABELS,
    HostConfig: { NetworkMode: "bridge" },
  });
  const close = async () => {
    await docker.removeContainer(id, { force: true }).catch(() => {});
  };
  await docker.startContainer(id);
  const info = await docker.inspectContainer(id) as unknown as {
    NetworkSettings: { Networks: { bridge: { IPAddress: string } } };
  };
  const ip = info.NetworkSettings.Networks.bridge.IPAddress;
  await eventually(async () => {
    const conn = await Deno.connect({ hostname: ip, port: 9999 }).catch(() => null);
    conn?.close();
    return conn !== null || undefined;
  }, 20_000);
  return { ip, port: 9999, close };
}

/** `tcp://127.0.0.1:<port>` forwarding to the local Engine's socket. */
function engineOverTcp(): { host: string; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const client of listener) {
      const engine = await Deno.connect({ transport: "unix", path: "/var/run/docker.sock" });
      conns.add(client).add(engine);
      const pipe = (from: Deno.Conn, to: Deno.Conn) =>
        from.readable.pipeTo(to.writable).catch(() => {}).finally(() => {
          conns.delete(from);
          try {
            to.close();
          } catch { /* closed */ }
        });
      pipe(client, engine);
      pipe(engine, client);
    }
  })().catch(() => {});
  return {
    host: `tcp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

Deno.test({
  name: "remote Docker Engine — agent.egress through the relay container: allowed, refused, 407",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    using docker = openTestDocker();
    const image = await mockOnClaudeImage(docker);
    const name = await loopbackName();
    await using allowed = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(`${ALLOWED_BODY}\n`),
    );
    const allowedPort = allowed.addr.port;
    const bridge = await docker.networks!.inspect("bridge");
    const host = bridge?.IPAM?.Config?.find((c) => c.Gateway && !c.Gateway.includes(":"))
      ?.Gateway;
    assert.ok(host, "the default bridge has no IPv4 gateway");
    const port = freePort(host);
    const egressPort = freePort(host);
    const outside = await serverOnBridge(docker, image);
    const engine = engineOverTcp();
    const root = await Deno.makeTempDir({ prefix: "pylon-egress-remote-" });
    await writeHome(root, {
      "config.yaml": [
        "server:",
        `  agent_url: http://${host}:${port}`,
        `  egress_port: ${egressPort}`,
        "docker:",
        "  mounts: none",
      ].join("\n") + "\n",
      "pylons/fenced/pylon.yaml": fencedPylonYaml({
        image,
        allowed: name,
        allowedPort,
        direct: { host: outside.ip, port: outside.port },
      }),
    });
    // The daemon and its runner reach the Engine over TCP, as another machine's.
    const d = await startDockerDaemon(root, { host, port, env: { DOCKER_HOST: engine.host } });
    let id = "";
    try {
      let probe: Record<string, string> = {};
      await t.step("the job runs only on pylon-egress, beside the relay container", async () => {
        id = await postJob(d, "/fenced");
        const info = await eventually(async () => {
          const [c] = await docker.listContainers({ all: true, labels: { "pylon.job": id } });
          const found = c && await docker.inspectContainer(c.Id);
          return found?.State.Running ? found : undefined;
        }, 60_000);
        assert.equal(info.HostConfig.NetworkMode, "pylon-egress");
        const relay = await docker.inspectContainer(RELAY_SERVICE);
        assert.ok(relay?.State.Running, "the relay container does not run");
        assert.equal(relay.HostConfig.NetworkMode, "pylon-egress");
      });

      await t.step("its result arrives over the channel through the relay", async () => {
        const job = await finishedJob(d, id, 120_000).catch(async (e) => {
          const log = await Deno.readTextFile(`${root}/jobs/${id}.log`).catch(() => "");
          throw new Error(`the job did not end: ${log}\n${d.logs.join("\n")}`, { cause: e });
        });
        assert.equal(job.status, "completed", `${JSON.stringify(job)}\n${d.logs.join("\n")}`);
        probe = JSON.parse(job.result);
        assert.equal(probe.proxy, `${RELAY_SERVICE}:3128`);
        assert.equal(probe.agentUrl, `http://${RELAY_SERVICE}:8080`);
      });

      await t.step("allowed through the relay, refused otherwise (in `pylon logs`)", async () => {
        assert.equal(probe.allowed, `200 ${ALLOWED_BODY}`, JSON.stringify(probe));
        assert.match(probe.refused!, /^403 egress refused: evil\.example:80/, probe.refused);
        const shown = await runPylon(["logs", id], { PYLON_HOME: root, HOME: root });
        assert.match(shown.stdout, /egress refused: evil\.example:80 \(not on the job's/);
      });

      await t.step("no route to a server on the default bridge; a stranger gets 407", async () => {
        assert.match(probe.direct!, /^(error|timeout)/, probe.direct);
        const head = "GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n";
        assert.match(await rawStatus(host, egressPort, head), /^HTTP\/1\.1 407 /);
      });
    } finally {
      await d.stop();
      engine.close();
      await outside.close();
      for (
        const c of await docker.listContainers({ all: true, labels: { "pylon.job": id || "-" } })
      ) {
        await docker.removeContainer(c.Id, { force: true }).catch(() => {});
      }
      await docker.removeContainer(RELAY_SERVICE, { force: true }).catch(() => {});
      await Deno.remove(root, { recursive: true });
    }
  },
});
