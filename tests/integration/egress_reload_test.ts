/**
 * On `docker.backend: swarm` the egress proxy's port (`server.egress_port`) is opened only when a
 * pylon has an `agent.egress` list. A user who gives a pylon a list while the daemon runs must not
 * need a restart: the reload opens it (issue 19, on this machine's real single-node swarm).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { runDaemon } from "../../src/daemon/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { eventually, writeHome } from "../_helpers/daemon.ts";
import { dockerRunnerFor } from "./_agent.ts";
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
    const logs: string[] = [];
    const stop = new AbortController();
    const listening = Promise.withResolvers<void>();
    const done = runDaemon({
      paths: createPylonPaths(root),
      env: { HOME: root, TZ: "UTC" },
      log: createLogger({ write: (l) => logs.push(l), level: "debug" }),
      clock: { now: () => new Date() },
      out: () => {},
      host,
      port,
      createRunner: dockerRunnerFor(root),
      signal: stop.signal,
      onListen: () => listening.resolve(),
    });
    done.catch(listening.reject);
    await listening.promise;
    const head = "GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n";
    try {
      assert.ok(logs.some((l) => l.includes("egress.off")), logs.join("\n"));
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
      stop.abort();
      await done.catch(() => {});
      await Deno.remove(root, { recursive: true });
    }
  },
});
