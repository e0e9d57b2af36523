/**
 * The egress relays without Docker: their targets from `server.agent_url`, the Swarm service's
 * spec, how it is ensured (created once, reused after a restart, replaced when the daemon's
 * addresses change, a clear error when no task runs), the job service's network, the remote
 * Engine's relay container, and `pylon-relay.mjs` copying bytes both ways over loopback. The real
 * Engine runs them in tests/integration/egress_swarm_test.ts and egress_remote_engine_test.ts.
 */

import assert from "node:assert/strict";
import type { AddressInfo, Server } from "node:net";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import type {
  ContainerSpec,
  DockerClient,
  ServiceInfo,
  ServiceSpec,
  SwarmApi,
  TaskInfo,
} from "../../src/docker/mod.ts";
import {
  createEngineRelay,
  createSwarmRelay,
  RELAY_OUT_NETWORK,
  RELAY_SERVICE,
  relayContainerSpec,
  relayServiceSpec,
  relayTargets,
  SWARM_JOB_NETWORK,
} from "../../src/egress/mod.ts";
import { PylonError } from "../../src/errors.ts";
import { createLogger } from "../../src/log/mod.ts";
import { buildContainerSpec } from "../../src/runner/mod.ts";
import { serviceSpecOf } from "../../src/runner/swarm.ts";
import { parseRoutes, relay } from "../../agents/_shared/pylon-relay.mjs";

const log = createLogger({ write: () => {} });

Deno.test("relayTargets() sends the proxy port and the channel to server.agent_url's host", () => {
  assert.deepEqual(relayTargets("http://10.0.0.5:8080", 3128), {
    proxy: { host: "10.0.0.5", port: 3128 },
    channel: { host: "10.0.0.5", port: 8080 },
  });
  assert.deepEqual(relayTargets("http://pylon.lan", 4000).channel, { host: "pylon.lan", port: 80 });
  for (const url of [undefined, "https://pylon.example.com", "http://10.0.0.5:8080/pylon"]) {
    assert.throws(() => relayTargets(url, 3128), (e: unknown) => {
      assert.ok(e instanceof PylonError);
      assert.match(e.message, /server\.agent_url is .* in config\.yaml/);
      assert.match(e.hint ?? "", /plain http:\/\/host:port/);
      return true;
    });
  }
});

Deno.test("relayServiceSpec() is global, name-resolved, on both networks and hardened", () => {
  const spec = relayServiceSpec({
    image: "reg:5000/pylon/agent-claude:abc",
    targets: relayTargets("http://10.0.0.5:8080", 3128),
    network: SWARM_JOB_NETWORK,
    labels: { "pylon.managed": "1" },
  });
  assert.equal(spec.Name, RELAY_SERVICE);
  assert.deepEqual(spec.Mode, { Global: {} });
  assert.deepEqual(spec.EndpointSpec, { Mode: "dnsrr" });
  assert.deepEqual(spec.TaskTemplate.Networks, [
    { Target: SWARM_JOB_NETWORK },
    { Target: RELAY_OUT_NETWORK },
  ]);
  const cs = spec.TaskTemplate.ContainerSpec;
  assert.deepEqual(cs.Command, ["node", "/usr/local/lib/pylon/pylon-relay.mjs"]);
  assert.deepEqual(cs.Env, ["PYLON_RELAY=3128=10.0.0.5:3128,8080=10.0.0.5:8080"]);
  assert.equal(cs.ReadOnly, true);
  assert.deepEqual(cs.CapabilityDrop, ["ALL"]);
  assert.ok(!JSON.stringify(spec).includes("Secret"), "the relay holds no secret");
});

/** A swarm that keeps services in memory; each service gets `taskState` tasks. */
function fakeSwarm(taskState = "running") {
  const services = new Map<string, ServiceInfo>();
  const calls: string[] = [];
  let n = 0;
  const swarm = {
    inspectService(id: string) {
      return Promise.resolve(
        [...services.values()].find((s) => s.ID === id || s.Spec.Name === id) ?? null,
      );
    },
    createService(spec: ServiceSpec) {
      const id = `svc${++n}`;
      calls.push(`create ${id}`);
      services.set(id, { ID: id, CreatedAt: "", Spec: spec });
      return Promise.resolve(id);
    },
    removeService(id: string) {
      calls.push(`remove ${id}`);
      return Promise.resolve(services.delete(id));
    },
    tasks(serviceId: string): Promise<TaskInfo[]> {
      return Promise.resolve([{
        ID: "t1",
        ServiceID: serviceId,
        DesiredState: "running",
        Status: taskState === "running"
          ? { State: "running" }
          : { State: taskState, Err: "starting container failed: no such file" },
      }]);
    },
  };
  return { swarm: swarm as unknown as SwarmApi, services, calls };
}

Deno.test("createSwarmRelay().ensure() creates the service once and reuses it after a restart", async () => {
  const fake = fakeSwarm();
  const options = {
    swarm: fake.swarm,
    targets: relayTargets("http://10.0.0.5:8080", 3128),
    network: SWARM_JOB_NETWORK,
    labels: {},
    log,
  };
  const relay = createSwarmRelay(options);
  await Promise.all([relay.ensure("img:1"), relay.ensure("img:1"), relay.ensure("img:1")]);
  // A daemon restart is a new relay object over the same swarm.
  await createSwarmRelay(options).ensure("img:2");
  assert.deepEqual(fake.calls, ["create svc1"]);
});

Deno.test("createSwarmRelay().ensure() replaces a relay that points at other addresses", async () => {
  const fake = fakeSwarm();
  const base = { swarm: fake.swarm, network: SWARM_JOB_NETWORK, labels: {}, log };
  await createSwarmRelay({ ...base, targets: relayTargets("http://10.0.0.5:8080", 3128) })
    .ensure("img:1");
  await createSwarmRelay({ ...base, targets: relayTargets("http://10.0.0.9:8080", 3128) })
    .ensure("img:1");
  assert.deepEqual(fake.calls, ["create svc1", "remove svc1", "create svc2"]);
  const env = fake.services.get("svc2")!.Spec.TaskTemplate.ContainerSpec.Env;
  assert.deepEqual(env, ["PYLON_RELAY=3128=10.0.0.9:3128,8080=10.0.0.9:8080"]);
});

Deno.test("createSwarmRelay().ensure() says why when no relay task runs, and starts afresh", async () => {
  const fake = fakeSwarm("failed");
  const relay = createSwarmRelay({
    swarm: fake.swarm,
    targets: relayTargets("http://10.0.0.5:8080", 3128),
    network: SWARM_JOB_NETWORK,
    labels: {},
    log,
    readyMs: 50,
  });
  await assert.rejects(relay.ensure("custom/no-node:1"), (e: unknown) => {
    assert.ok(e instanceof PylonError);
    assert.match(e.message, /Cannot start the egress relay .* failed: starting container failed/);
    assert.match(e.hint ?? "", /docker service ps pylon-egress-relay/);
    return true;
  });
  assert.deepEqual(fake.calls, ["create svc1", "remove svc1"], "the next job starts afresh");
});

Deno.test("serviceSpecOf() attaches a job with an egress list only to the Swarm job network", () => {
  const pylon = resolvePylon(
    pylonConfigSchema.parse({
      name: "triage",
      trigger: { type: "webhook", path: "/triage" },
      agent: { prompt: "p", egress: ["api.github.com"] },
    }),
    globalConfigSchema.parse({}),
    { env: {}, systemTimezone: "UTC" },
  );
  const container = (egress?: { networkMode: string; env: Record<string, string> }) =>
    buildContainerSpec({
      jobId: "0123abcd-0000-4000-8000-000000000000",
      pylon,
      image: "pylon/agent-claude:abc",
      prompt: "p",
      sessionId: null,
      workspace: null,
      workspaceReadOnly: false,
      extraMounts: [],
      outDir: "/o",
      stateDir: "/o",
      volumes: [],
      user: "1000:1000",
      home: "h",
      pidsLimit: 512,
      channel: { agentUrl: `http://${RELAY_SERVICE}:8080` },
      ...(egress ? { egress } : {}),
    });
  const spec = (c: ReturnType<typeof container>) =>
    serviceSpecOf({
      name: "pylon-triage-0123abcd",
      pylon,
      container: c,
      image: "pylon/agent-claude:abc",
      secrets: [],
      uid: 1000,
      gid: 1000,
    });
  const fenced = spec(container({ networkMode: SWARM_JOB_NETWORK, env: { HTTPS_PROXY: "x" } }));
  assert.deepEqual(fenced.TaskTemplate.Networks, [{ Target: SWARM_JOB_NETWORK }]);
  assert.equal(spec(container()).TaskTemplate.Networks, undefined);
});

Deno.test("pylon-relay.mjs copies bytes both ways, and the answer after the client's end", async () => {
  assert.throws(() => parseRoutes("3128=nohost"), /is not port=host:port/);
  assert.throws(() => parseRoutes(""), /PYLON_RELAY is empty/);
  assert.deepEqual(parseRoutes("3128=10.0.0.5:3129,8080=[::1]:80"), [
    { port: 3128, host: "10.0.0.5", targetPort: 3129 },
    { port: 8080, host: "::1", targetPort: 80 },
  ]);
  // The target answers once the client has finished sending (a half-closed request).
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await target.accept();
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(1024);
    for (let n; (n = await conn.read(buf)) !== null;) chunks.push(buf.slice(0, n));
    const got = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    await conn.write(new TextEncoder().encode(`echo: ${got}`));
    conn.close();
  })();
  const server: Server = relay(
    { port: 0, host: "127.0.0.1", targetPort: (target.addr as Deno.NetAddr).port },
    (e: Error) => {
      throw e;
    },
  );
  await new Promise((r) => server.once("listening", r));
  try {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: (server.address() as AddressInfo).port,
    });
    await conn.write(new TextEncoder().encode("hello relay"));
    await conn.closeWrite();
    const answer = await new Response(conn.readable).text();
    assert.equal(answer, "echo: hello relay");
    await serving;
  } finally {
    target.close();
    await new Promise((r) => server.close(r));
  }
});

Deno.test("createEngineRelay() creates the relay container on both networks once", async () => {
  const calls: string[] = [];
  let container: { labels: Record<string, string>; running: boolean } | null = null;
  const docker = {
    inspectContainer: () =>
      Promise.resolve(
        container && {
          Id: "c1",
          Config: { Labels: container.labels },
          State: { Running: container.running, Status: container.running ? "running" : "created" },
        },
      ),
    createContainer(spec: ContainerSpec, opts: { name?: string }) {
      calls.push(`create ${opts.name} on ${spec.HostConfig?.NetworkMode}`);
      container = { labels: spec.Labels ?? {}, running: false };
      return Promise.resolve("c1");
    },
    startContainer(id: string) {
      calls.push(`start ${id}`);
      container!.running = true;
      return Promise.resolve();
    },
    removeContainer(id: string) {
      calls.push(`remove ${id}`);
      container = null;
      return Promise.resolve();
    },
    networks: {
      connect(network: string, id: string) {
        calls.push(`connect ${id} to ${network}`);
        return Promise.resolve();
      },
    },
  } as unknown as DockerClient;
  const options = { docker, network: "pylon-egress", labels: {}, log };
  await createEngineRelay({ ...options, targets: relayTargets("http://10.0.0.5:8080", 3128) })
    .ensure("img:1");
  await createEngineRelay({ ...options, targets: relayTargets("http://10.0.0.5:8080", 3128) })
    .ensure("img:1");
  assert.deepEqual(calls, [
    "create pylon-egress-relay on pylon-egress",
    "connect c1 to bridge",
    "start pylon-egress-relay",
  ]);
  calls.length = 0;
  await createEngineRelay({ ...options, targets: relayTargets("http://10.0.0.9:8080", 3128) })
    .ensure("img:1");
  assert.deepEqual(calls.slice(0, 2), ["remove c1", "create pylon-egress-relay on pylon-egress"]);
  const spec = relayContainerSpec({
    image: "img:1",
    targets: relayTargets("http://10.0.0.9:8080", 3128),
    network: "pylon-egress",
    labels: {},
  });
  assert.deepEqual(spec.Entrypoint, ["node", "/usr/local/lib/pylon/pylon-relay.mjs"]);
  assert.deepEqual(spec.HostConfig?.CapDrop, ["ALL"]);
  assert.equal(spec.HostConfig?.ReadonlyRootfs, true);
  assert.deepEqual(spec.HostConfig?.RestartPolicy, { Name: "unless-stopped" });
});
