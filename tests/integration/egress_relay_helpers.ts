/**
 * Shared by the egress relay tests (`egress_swarm_test.ts`, `egress_remote_engine_test.ts`): the
 * probe a job runs behind the relay, the pylon that runs it, and a raw request to the proxy.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import assert from "node:assert/strict";

export const ALLOWED_BODY = "allowed-host-answered";

/**
 * What the job runs (node, the image's): a request to the allowed host and one to a host not on
 * the list, both through `http_proxy`, and a direct connection to the daemon's address; the
 * answers are the job's result.
 */
export const PROBE_JS = `
const http = require("http"), net = require("net"), fs = require("fs");
const p = new URL(process.env.http_proxy);
const auth = "Basic " + Buffer.from(decodeURIComponent(p.username) + ":" +
  decodeURIComponent(p.password)).toString("base64");
const viaProxy = (url) => new Promise((done) => {
  const t = new URL(url);
  const q = http.request({ host: p.hostname, port: p.port, path: t.href,
    headers: { host: t.host, "proxy-authorization": auth } }, (r) => {
    let b = ""; r.on("data", (d) => b += d); r.on("end", () => done(r.statusCode + " " + b.trim()));
  });
  q.on("error", (e) => done("error " + e.code));
  q.setTimeout(8000, () => q.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
  q.end();
});
const direct = (host, port) => new Promise((done) => {
  const s = net.connect({ host, port });
  s.setTimeout(4000, () => { s.destroy(); done("timeout"); });
  s.on("connect", () => { s.destroy(); done("connected"); });
  s.on("error", (e) => done("error " + e.code));
});
(async () => {
  const out = {
    proxy: p.host,
    agentUrl: process.env.PYLON_AGENT_URL,
    allowed: await viaProxy(process.env.ALLOWED_URL),
    refused: await viaProxy("http://evil.example/steal"),
    direct: await direct(process.env.DIRECT_HOST, Number(process.env.DIRECT_PORT)),
  };
  fs.writeFileSync(process.env.PYLON_OUT + "/result.json",
    JSON.stringify({ status: "completed", result: JSON.stringify(out) }));
})();
`;

/** This machine's name, which must resolve to 127.x (the allowed host, a loopback fake). */
export async function loopbackName(): Promise<string> {
  const name = Deno.hostname().toLowerCase();
  const found = await lookup(name, { all: true }).catch(() => []);
  assert.ok(
    found.some((a) => a.address.startsWith("127.")),
    `${name} must resolve to 127.x (/etc/hosts) for this test`,
  );
  return name;
}

/**
 * The pylon `fenced`: `image` runs {@linkcode PROBE_JS} after a nap, allowed only
 * `allowed:port`; `direct` is the daemon's address it tries without the proxy.
 */
export function fencedPylonYaml(o: {
  image: string;
  allowed: string;
  allowedPort: number;
  direct: { host: string; port: number };
  extra?: string[];
}): string {
  return [
    "name: fenced",
    "trigger:",
    "  type: webhook",
    "  path: /fenced",
    "agent:",
    "  type: custom",
    `  image: ${JSON.stringify(o.image)}`,
    ...(o.extra ?? []),
    // Long enough to inspect the running job.
    `  prompt: ${JSON.stringify('sleep 4; node -e "$PROBE"')}`,
    `  egress: ["${o.allowed}:${o.allowedPort}"]`,
    `  egress_private: [${o.allowed}]`,
    "  env:",
    `    PROBE: ${JSON.stringify(PROBE_JS)}`,
    `    ALLOWED_URL: "http://${o.allowed}:${o.allowedPort}/"`,
    `    DIRECT_HOST: "${o.direct.host}"`,
    `    DIRECT_PORT: "${o.direct.port}"`,
  ].join("\n") + "\n";
}

export /** Sends `head` to `host:port` and returns the status line of the answer. */
async function rawStatus(host: string, port: number, head: string): Promise<string> {
  const conn = await Deno.connect({ hostname: host, port });
  try {
    await conn.write(new TextEncoder().encode(head));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0] ?? "";
  } finally {
    conn.close();
  }
}
