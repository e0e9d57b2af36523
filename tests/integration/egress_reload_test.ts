/**
 * On `docker.backend: swarm` the egress proxy's port (`server.egress_port`) is opened only when a
 * pylon has an `agent.egress` list. A user who gives a pylon a list while the daemon runs must not
 * need a restart: the reload opens it (issue 19, on this machine's real single-node swarm).
 *
 * @module
 */

import assert from "node:assert/strict";
import { eventually, writeHome } from "../_helpers/daemon.ts";
import { startDockerDaemon } from "./_daemon.ts";
import { rawStatus } from "./egress_relay_helpers.ts";
import { freePort, requireSwarm, SWARM_IGNORE } from "./swarm_helpers.ts";

Deno.test({
  name: "docker.backend: swarm — an agent.egress list added while the daemon runs opens the proxy",
  ignore: SWARM_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    requireSwarm();
    const host = "127.0.0.1";
    const port = freePort(host);
    const egressPort = freePort(host);
    const root = await Deno.makeTempDir({ prefix: "pylon-egress-reload-" });
    const pylon = (egress: string) =>
      [
        "name: fenced",
        "trigger:",
        "  type: webhook",
        "  path: /fenced",
        "agent:",
        "  type: custom",
        "  image: busybox",
        '  prompt: "p"',
        egress,
      ].join("\n") + "\n";
    await writeHome(root, {
      "config.yaml": [
        "server:",
        `  agent_url: http://${host}:${port}`,
        `  egress_port: ${egressPort}`,
        "docker:",
        "  backend: swarm",
      ].join("\n") + "\n",
      "pylons/fenced/pylon.yaml": pylon("  egress: any"),
    });
    const d = await startDockerDaemon(root, { host, port });
    const head = "GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n";
    try {
      assert.ok(d.logs.some((l) => l.includes("egress.off")), d.logs.join("\n"));
      await assert.rejects(rawStatus(host, egressPort, head), "no proxy while no pylon has a list");

      await Deno.writeTextFile(
        `${root}/pylons/fenced/pylon.yaml`,
        pylon("  egress: [api.github.com]"),
      );
      const status = await eventually(
        () => rawStatus(host, egressPort, head).catch(() => undefined),
        20_000,
      );
      assert.match(status, /^HTTP\/1\.1 407 /, "the proxy is open, and strangers get 407");
    } finally {
      await d.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
});
