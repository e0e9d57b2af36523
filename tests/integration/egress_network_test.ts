/**
 * Issue 19, items 2-3 on the real Engine: a container on an internal Docker network (the job
 * network) reaches neither another host (here: a container on the default bridge) nor DNS, and
 * gets out only through pylon's egress proxy listening on the network's gateway address, which
 * lets through an allowed host, refuses the rest, and records each refusal in the job's log.
 * Networks are made through the Engine API directly (the project client has no network calls).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger } from "../../src/log/mod.ts";
import {
  checkProxySecret,
  egressPolicyFor,
  type JobNetworks,
  openEgressProxy,
  openEgressService,
  proxySecret,
  recordRefusal,
} from "../../src/egress/mod.ts";
import { collectLogs, dockerTest, ensureTestImage, removeQuietly, TEST_LABELS } from "./_docker.ts";

const SOCKET = "/var/run/docker.sock";

/** One call to the Engine API over its unix socket. */
async function engine(method: string, path: string, body?: unknown): Promise<unknown> {
  using client = Deno.createHttpClient({ proxy: { transport: "unix", path: SOCKET } });
  const res = await fetch(`http://docker${path}`, {
    method,
    client,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  const text = await res.text();
  if (!res.ok && res.status !== 404) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

dockerTest(
  "job network: no route out but pylon's egress proxy, which enforces the list",
  async (docker) => {
    const image = await ensureTestImage(docker);
    const name = `pylon-egress-test-${crypto.randomUUID().slice(0, 8)}`;
    const net = await engine("POST", "/networks/create", {
      Name: name,
      Internal: true,
      Labels: TEST_LABELS,
    }) as { Id: string };
    const dir = await Deno.makeTempDir({ prefix: "pylon-egress-" });
    let server: string | undefined;
    let job: string | undefined;
    let proxy: { close(): Promise<void>; port: number } | undefined;
    try {
      const info = await engine("GET", `/networks/${net.Id}`) as {
        IPAM: { Config: { Gateway: string }[] };
      };
      const gateway = info.IPAM.Config[0]!.Gateway;

      // "Outside": a server on the default bridge, reachable from the host through NAT.
      server = await docker.createContainer({
        Image: image,
        Cmd: [
          "sh",
          "-c",
          "while true; do printf 'HTTP/1.0 200 OK\\r\\n\\r\\nhi-from-outside\\n' | nc -l -p 8080; done",
        ],
        Labels: TEST_LABELS,
        HostConfig: { NetworkMode: "bridge" },
      });
      await docker.startContainer(server);
      const inspected = await engine("GET", `/containers/${server}/json`) as {
        NetworkSettings: { IPAddress: string };
      };
      const outside = inspected.NetworkSettings.IPAddress;

      const key = crypto.getRandomValues(new Uint8Array(32));
      const jobId = "egress-job-1";
      const logPath = join(dir, `${jobId}.log`);
      const { policy, privateHosts } = egressPolicyFor(
        "custom",
        ["allowed.test:8080", "rebind.test:8080"],
        ["allowed.test"],
      );
      const names: Record<string, string[]> = {
        "allowed.test": [outside],
        "rebind.test": [outside],
      };
      const writes: Promise<void>[] = [];
      proxy = openEgressProxy({
        hostname: gateway,
        port: 0,
        authenticate: async (user, secret) =>
          user === jobId && await checkProxySecret(key, user, secret)
            ? { jobId, policy, privateHosts }
            : null,
        resolve: (host) => Promise.resolve(names[host] ?? []),
        onRefused: (r) => writes.push(recordRefusal(logPath, r, new Date())),
        log: createLogger({ write() {} }),
      });
      const auth = btoa(`${jobId}:${await proxySecret(key, jobId)}`);
      const connect = (target: string) =>
        `(printf 'CONNECT ${target} HTTP/1.1\\r\\nProxy-Authorization: Basic ${auth}\\r\\n\\r\\n'; sleep 1) | ` +
        `timeout 5 nc -w 3 ${gateway} ${proxy!.port} | head -c 300; echo " <${target}>"`;
      const script = [
        `timeout 5 nc -w 3 ${outside} 8080 </dev/null >/tmp/direct 2>&1 && echo DIRECT_REACHED || echo DIRECT_BLOCKED`,
        connect("allowed.test:8080"),
        connect("evil.example:443"),
        connect(`${outside}:8080`),
        connect("rebind.test:8080"),
        "cat /etc/resolv.conf",
      ].join("; ");
      job = await docker.createContainer({
        Image: image,
        Cmd: ["sh", "-c", script],
        Labels: TEST_LABELS,
        HostConfig: { NetworkMode: name },
      });
      await docker.startContainer(job);
      assert.equal(await docker.waitContainer(job), 0);
      const out = (await collectLogs(docker.containerLogs(job))).stdout;
      await Promise.all(writes);

      assert.match(out, /DIRECT_BLOCKED/, out);
      assert.match(
        out,
        /200 Connection established[\s\S]*hi-from-outside[\s\S]*<allowed\.test:8080>/,
        out,
      );
      assert.match(
        out,
        /403 Forbidden[^<]*not on the job's agent\.egress list[^<]*<evil\.example:443>/,
        out,
      );
      assert.match(out, /403 Forbidden[^<]*raw IP addresses are refused[^<]*</, out);
      assert.match(
        out,
        /403 Forbidden[^<]*resolves only to private address[^<]*<rebind\.test:8080>/,
        out,
      );
      const log = await Deno.readTextFile(logPath);
      assert.match(
        log,
        /egress refused: evil\.example:443 \(not on the job's agent\.egress list\)/,
      );
      assert.match(log, /egress refused: rebind\.test:8080/);
      assert.equal(log.trim().split("\n").length, 3);
    } finally {
      await proxy?.close();
      await removeQuietly(docker, job);
      await removeQuietly(docker, server);
      await engine("DELETE", `/networks/${net.Id}`);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** The Engine's network calls, for the egress service (the project client has none yet). */
const testNetworks: JobNetworks = {
  async ensureInternal(name, labels) {
    let info = await engine("GET", `/networks/${name}`) as {
      IPAM?: { Config: { Gateway: string }[] };
      message?: string;
    } | null;
    if (!info?.IPAM) {
      await engine("POST", "/networks/create", { Name: name, Internal: true, Labels: labels });
      info = await engine("GET", `/networks/${name}`) as {
        IPAM: { Config: { Gateway: string }[] };
      };
    }
    return { gateway: info!.IPAM!.Config[0]!.Gateway };
  },
};

dockerTest(
  "egress service: a job with a list gets out only through the proxy, refusals in its log",
  async (docker) => {
    const image = await ensureTestImage(docker);
    const home = await Deno.makeTempDir({ prefix: "pylon-egress-home-" });
    await Deno.mkdir(join(home, "jobs"));
    const network = `pylon-egress-test-${crypto.randomUUID().slice(0, 8)}`;
    let server: string | undefined;
    let job: string | undefined;
    let service: Awaited<ReturnType<typeof openEgressService>> | undefined;
    try {
      server = await docker.createContainer({
        Image: image,
        Cmd: [
          "sh",
          "-c",
          "while true; do printf 'HTTP/1.0 200 OK\\r\\nContent-Length: 16\\r\\n\\r\\nhi-from-outside\\n' | nc -l -p 8080; done",
        ],
        Labels: TEST_LABELS,
        HostConfig: { NetworkMode: "bridge" },
      });
      await docker.startContainer(server);
      const outside = (await engine("GET", `/containers/${server}/json`) as {
        NetworkSettings: { IPAddress: string };
      }).NetworkSettings.IPAddress;

      const jobId = "egress-service-job";
      const info = {
        agentType: "custom",
        egress: ["allowed.test:8080"],
        egressPrivate: ["allowed.test"],
      };
      service = await openEgressService({
        networks: testNetworks,
        networkName: network,
        labels: TEST_LABELS,
        home,
        lookupJob: (id) => Promise.resolve(id === jobId ? info : null),
        resolve: (host) => Promise.resolve(host === "allowed.test" ? [outside] : []),
        clock: { now: () => new Date() },
        log: createLogger({ write() {} }),
      });
      const settings = await service.containerSettings(jobId, info);
      assert.ok(settings);
      assert.equal(
        await service.containerSettings(jobId, { agentType: "custom", egress: "any" }),
        null,
      );
      // busybox's static wget crashes resolving names, so the requests are made with nc from
      // what the container's HTTP_PROXY says (user:secret@host:port), as a proxy client would.
      const get = (url: string, ok: string, no: string) =>
        `(printf 'GET ${url} HTTP/1.1\\r\\nHost: x\\r\\nProxy-Authorization: Basic %s\\r\\n\\r\\n' ` +
        `"$AUTH"; sleep 1) | timeout 5 nc -w 3 "\${HP%:*}" "\${HP##*:}" > /tmp/r; cat /tmp/r; ` +
        `grep -q '200 OK' /tmp/r && echo ${ok} || echo ${no}`;
      const script = [
        'P="\${HTTP_PROXY#http://}"; HP="\${P##*@}"; AUTH="$(printf %s "\${P%@*}" | base64 | tr -d "\\n")"',
        get("http://allowed.test:8080/", "ALLOWED_OK", "ALLOWED_FAIL"),
        get("http://evil.example/", "EVIL_OK", "EVIL_REFUSED"),
        `timeout 5 nc -w 3 ${outside} 8080 </dev/null && echo DIRECT_REACHED || echo DIRECT_BLOCKED`,
      ].join("; ");
      job = await docker.createContainer({
        Image: image,
        Cmd: ["sh", "-c", script],
        Env: Object.entries(settings.env).map(([k, v]) => `${k}=${v}`),
        Labels: TEST_LABELS,
        HostConfig: { NetworkMode: settings.networkMode },
      });
      await docker.startContainer(job);
      assert.equal(await docker.waitContainer(job), 0);
      const out = await collectLogs(docker.containerLogs(job));
      const text = out.stdout + out.stderr;
      assert.match(text, /hi-from-outside\s+ALLOWED_OK/, text);
      assert.match(text, /EVIL_REFUSED/, text);
      assert.match(text, /DIRECT_BLOCKED/, text);
      await new Promise((r) => setTimeout(r, 100));
      const log = await Deno.readTextFile(join(home, "jobs", `${jobId}.log`));
      assert.match(log, /egress refused: evil\.example:80 \(not on the job's agent\.egress list\)/);
      assert.equal((await Deno.stat(join(home, "egress.key"))).mode! & 0o777, 0o600);
    } finally {
      await service?.close();
      await removeQuietly(docker, job);
      await removeQuietly(docker, server);
      await engine("DELETE", `/networks/${network}`);
      await Deno.remove(home, { recursive: true });
    }
  },
);
