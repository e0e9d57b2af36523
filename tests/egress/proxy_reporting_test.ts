/**
 * The egress proxy's reporting and its default resolver: a job looping on refused hosts gets
 * only its first refusals into its log (the last one saying so), every request still answered
 * `403`; without an injected resolver, names resolve through the system's (`/etc/hosts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createLogger } from "../../src/log/mod.ts";
import {
  egressPolicyFor,
  type EgressRefusal,
  MAX_REPORTED_REFUSALS,
  openEgressProxy,
  type ProxyJob,
} from "../../src/egress/mod.ts";

const AUTH = "Basic " + btoa("job-1:secret");

/** Sends one request head and reads the status line of the answer. */
async function ask(port: number, head: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(head));
  let text = "";
  const buf = new Uint8Array(4096);
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  conn.close();
  return text.split("\r\n")[0]!;
}

function proxyFor(job: ProxyJob, refusals: EgressRefusal[], logs: string[] = []) {
  return openEgressProxy({
    hostname: "127.0.0.1",
    port: 0,
    authenticate: (user) => Promise.resolve(user === "job-1" ? job : null),
    onRefused: (r) => refusals.push(r),
    log: createLogger({ write: (l) => logs.push(l) }),
  });
}

Deno.test("egress proxy reports a job's first refusals only, and answers every one 403", async () => {
  const refusals: EgressRefusal[] = [];
  const logs: string[] = [];
  const proxy = proxyFor(
    { jobId: "job-1", ...egressPolicyFor("custom", ["api.github.com"]) },
    refusals,
    logs,
  );
  try {
    const total = MAX_REPORTED_REFUSALS + 5;
    for (let i = 0; i < total; i++) {
      const status = await ask(
        proxy.port,
        `CONNECT evil${i}.example:443 HTTP/1.1\r\nProxy-Authorization: ${AUTH}\r\n\r\n`,
      );
      assert.equal(status, "HTTP/1.1 403 Forbidden");
    }
    assert.equal(refusals.length, MAX_REPORTED_REFUSALS);
    assert.match(refusals.at(-1)!.reason, /further refusals of this job are not logged/);
    assert.equal(logs.filter((l) => l.includes("egress.refused")).length, MAX_REPORTED_REFUSALS);
  } finally {
    await proxy.close();
  }
});

Deno.test("egress proxy resolves names with the system resolver (/etc/hosts)", async () => {
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("from localhost"),
  );
  const refusals: EgressRefusal[] = [];
  const port = upstream.addr.port;
  const proxy = proxyFor(
    {
      jobId: "job-1",
      ...egressPolicyFor("custom", [`localhost:${port}`], ["localhost"]),
    },
    refusals,
  );
  try {
    const status = await ask(
      proxy.port,
      `GET http://localhost:${port}/ HTTP/1.1\r\nProxy-Authorization: ${AUTH}\r\n\r\n`,
    );
    assert.equal(status, "HTTP/1.1 200 OK", JSON.stringify(refusals));
  } finally {
    await proxy.close();
    await upstream.shutdown();
  }
});
