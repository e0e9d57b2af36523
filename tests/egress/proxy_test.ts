import assert from "node:assert/strict";
import { createLogger } from "../../src/log/mod.ts";
import {
  checkProxySecret,
  egressPolicyFor,
  type EgressRefusal,
  openEgressProxy,
  proxySecret,
} from "../../src/egress/mod.ts";

const KEY = new Uint8Array(32).fill(7);
const JOB = "job-egress-1";

/** A loopback HTTP server standing for an allowed host, the proxy in front of it, and a resolver. */
async function setup() {
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => new Response(`hello from ${new URL(req.url).pathname}`),
  );
  const port = upstream.addr.port;
  const refusals: EgressRefusal[] = [];
  const names: Record<string, string[]> = {
    "allowed.test": ["127.0.0.1"],
    "rebind.test": ["127.0.0.1"],
    "meta.test": ["169.254.169.254"],
  };
  const { policy, privateHosts } = egressPolicyFor(
    "custom",
    ["allowed.test:" + port, "rebind.test:" + port, "meta.test:" + port, "evil-not-listed.test:1"],
    ["allowed.test", "meta.test"],
  );
  const proxy = openEgressProxy({
    hostname: "127.0.0.1",
    port: 0,
    async authenticate(user, secret) {
      return user === JOB && await checkProxySecret(KEY, user, secret)
        ? { jobId: user, policy, privateHosts }
        : null;
    },
    resolve: (host) => Promise.resolve(names[host] ?? []),
    onRefused: (r) => refusals.push(r),
    log: createLogger({ write() {} }),
  });
  const auth = "Basic " + btoa(`${JOB}:${await proxySecret(KEY, JOB)}`);
  return {
    port,
    refusals,
    auth,
    proxy,
    async [Symbol.asyncDispose]() {
      await proxy.close();
      await upstream.shutdown();
    },
  };
}

/** Sends `head` to the proxy and returns everything it answers (until it closes). */
async function raw(proxyPort: number, head: string, after = ""): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxyPort });
  await conn.write(new TextEncoder().encode(head));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  let text = "";
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    if (after && text.includes("200 Connection established\r\n\r\n")) {
      await conn.write(new TextEncoder().encode(after));
      after = "";
    }
  }
  conn.close();
  return text;
}

Deno.test("egress proxy tunnels CONNECT to an allowed host it resolved itself", async () => {
  await using s = await setup();
  const text = await raw(
    s.proxy.port,
    `CONNECT allowed.test:${s.port} HTTP/1.1\r\nHost: allowed.test\r\nProxy-Authorization: ${s.auth}\r\n\r\n`,
    `GET /through-tunnel HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n`,
  );
  assert.match(text, /^HTTP\/1\.1 200 Connection established/);
  assert.match(text, /hello from \/through-tunnel/);
  assert.deepEqual(s.refusals, []);
});

Deno.test("egress proxy keeps the answer flowing after the client half-closes", async () => {
  await using s = await setup();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.proxy.port });
  await conn.write(new TextEncoder().encode(
    `CONNECT allowed.test:${s.port} HTTP/1.1\r\nProxy-Authorization: ${s.auth}\r\n\r\n` +
      `GET /half HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n`,
  ));
  await conn.closeWrite();
  const text = await new Response(conn.readable).text();
  assert.match(text, /200 Connection established[\s\S]*hello from \/half/);
});

Deno.test("egress proxy forwards a plain-HTTP request from a real client (fetch)", async () => {
  await using s = await setup();
  using client = Deno.createHttpClient({
    proxy: {
      url: `http://127.0.0.1:${s.proxy.port}`,
      basicAuth: { username: JOB, password: await proxySecret(KEY, JOB) },
    },
  });
  const res = await fetch(`http://allowed.test:${s.port}/plain?x=1`, { client });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "hello from /plain");
});

Deno.test("egress proxy refuses hosts not on the list, raw IPs and private resolutions", async () => {
  await using s = await setup();
  const auth = `Proxy-Authorization: ${s.auth}\r\n\r\n`;
  const notListed = await raw(s.proxy.port, `CONNECT evil.example:443 HTTP/1.1\r\n${auth}`);
  assert.match(notListed, /^HTTP\/1\.1 403/);
  assert.match(
    notListed,
    /egress refused: evil\.example:443 \(not on the job's agent\.egress list\)/,
  );
  const ip = await raw(s.proxy.port, `CONNECT 127.0.0.1:${s.port} HTTP/1.1\r\n${auth}`);
  assert.match(ip, /^HTTP\/1\.1 403[\s\S]*raw IP addresses are refused/);
  const rebind = await raw(s.proxy.port, `CONNECT rebind.test:${s.port} HTTP/1.1\r\n${auth}`);
  assert.match(
    rebind,
    /resolves only to loopback address 127\.0\.0\.1; list the host in agent\.egress_private/,
  );
  // Cloud metadata stays refused even for a host allowed to resolve privately.
  const meta = await raw(s.proxy.port, `CONNECT meta.test:${s.port} HTTP/1.1\r\n${auth}`);
  assert.match(meta, /resolves only to link-local address 169\.254\.169\.254\)/);
  const port = await raw(s.proxy.port, `CONNECT allowed.test:22 HTTP/1.1\r\n${auth}`);
  assert.match(port, /^HTTP\/1\.1 403/);
  const https = await raw(s.proxy.port, `GET https://allowed.test/ HTTP/1.1\r\n${auth}`);
  assert.match(https, /^HTTP\/1\.1 400/);
  assert.deepEqual(
    s.refusals.map((r) => `${r.jobId} ${r.host}:${r.port}`),
    [
      `${JOB} evil.example:443`,
      `${JOB} 127.0.0.1:${s.port}`,
      `${JOB} rebind.test:${s.port}`,
      `${JOB} meta.test:${s.port}`,
      `${JOB} allowed.test:22`,
    ],
  );
});

Deno.test("egress proxy wants the job's credential (407 without, or with another job's)", async () => {
  await using s = await setup();
  const none = await raw(s.proxy.port, `CONNECT allowed.test:${s.port} HTTP/1.1\r\n\r\n`);
  assert.match(none, /^HTTP\/1\.1 407/);
  assert.match(none, /Proxy-Authenticate: Basic/);
  const other = "Basic " + btoa(`${JOB}:${await proxySecret(KEY, "another-job")}`);
  const wrong = await raw(
    s.proxy.port,
    `CONNECT allowed.test:${s.port} HTTP/1.1\r\nProxy-Authorization: ${other}\r\n\r\n`,
  );
  assert.match(wrong, /^HTTP\/1\.1 407/);
  assert.equal(s.refusals[0]?.reason, "no valid job credential");
});

Deno.test("egress proxy answers 400 to garbage and a head that never ends", async () => {
  await using s = await setup();
  assert.match(await raw(s.proxy.port, "hello\r\n\r\n"), /^HTTP\/1\.1 400/);
  const big = "GET http://allowed.test/ HTTP/1.1\r\n" + "X: y\r\n".repeat(4000);
  assert.match(await raw(s.proxy.port, big), /^HTTP\/1\.1 400/);
});
