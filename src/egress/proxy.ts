/**
 * The egress proxy (issue 19, item 2): the only way out of a job's network. Agents set
 * `HTTPS_PROXY`/`HTTP_PROXY` to it; it speaks HTTP `CONNECT` (tunnels, normally TLS) and plain-HTTP
 * absolute-form requests (`GET http://host/path`), one request per connection.
 *
 * Every request must carry `Proxy-Authorization: Basic <job id>:<job's proxy secret>`; the
 * daemon's `authenticate` turns that into the job and its {@linkcode EgressPolicy} (an unknown or
 * ended job gets `407`). Then, in order:
 * - the host must be on the job's list (raw IPs never are) and the port the rule's (443 for
 *   CONNECT, 80 for plain HTTP unless the entry names one): else `403`;
 * - the proxy resolves the name itself and connects only to what it resolved, skipping loopback,
 *   private, link-local (cloud metadata), multicast and reserved addresses: a name that resolves
 *   only to those is refused (`403`), so DNS rebinding cannot reach the daemon's host or LAN.
 *   Hosts on the job's `privateHosts` list may resolve to loopback, private or reserved
 *   addresses (an internal git server); link-local, unspecified and multicast never.
 * Each refusal is reported to `onRefused` (the daemon appends `egress refused: host:port (why)` to
 * the job's log, which `pylon logs` shows) and logged as `egress.refused`, the first
 * {@linkcode MAX_REPORTED_REFUSALS} of each job only: an agent looping on refused hosts must not
 * fill the disk or the journal (the last one reported says so).
 *
 * Design note: a small hand-written HTTP/1 head parser over `Deno.listen`, not `Deno.serve`:
 * `CONNECT` needs the raw socket after the `200`, which the fetch-style server does not give.
 * The resolver is a dependency so tests map names to loopback fakes without a switch in this
 * code. Design note, the default: the system's resolver (`getaddrinfo`, through `node:dns`
 * `lookup`), not `Deno.resolveDns`: it follows `/etc/nsswitch.conf` (`/etc/hosts`, mDNS,
 * systemd-resolved), which users rely on for internal hosts (checked under Deno 2.9.6).
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import type { Logger } from "../log/mod.ts";
import {
  egressAllows,
  type EgressPolicy,
  type EgressRule,
  hostMatches,
  isIpLiteral,
  normalizeHost,
} from "./allowlist.ts";
import { type AddressClass, classifyAddress } from "./address.ts";
import { headerValue, readRequestHead, type RequestHead } from "./_request_head.ts";

/** What `authenticate` knows of the job a request belongs to. */
export interface ProxyJob {
  jobId: string;
  policy: EgressPolicy;
  /** Hosts that may resolve to loopback/private/reserved addresses (explicitly allowed). */
  privateHosts?: readonly EgressRule[] | undefined;
}

/** One refused request. */
export interface EgressRefusal {
  /** Undefined when the request named no valid job. */
  jobId: string | undefined;
  host: string;
  port: number;
  reason: string;
}

/** Options of {@linkcode openEgressProxy}. */
export interface EgressProxyOptions {
  /** Address to listen on (the job network's gateway address); port 0 picks one. */
  hostname: string;
  port: number;
  /** Maps the Basic credentials to a job, or null (unknown job, wrong secret, ended job). */
  authenticate(user: string, secret: string): Promise<ProxyJob | null>;
  /** Addresses of `host` (IPv4 and IPv6). @default the system's resolver (`getaddrinfo`) */
  resolve?: ((host: string) => Promise<string[]>) | undefined;
  onRefused?: ((refusal: EgressRefusal) => void) | undefined;
  log: Logger;
  /** @default 10 s to send the request head, 10 s to connect upstream */
  headTimeoutMs?: number | undefined;
  connectTimeoutMs?: number | undefined;
  /** Open client connections at most; past it new ones are closed at once. @default 512 */
  maxConnections?: number | undefined;
}

/** A running egress proxy. */
export interface EgressProxy {
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting and closes every open connection. */
  close(): Promise<void>;
}

const MAX_HEAD_BYTES = 16 * 1024;
/** How long a tunnel stays open after the server closed its side. */
const CLOSE_GRACE_MS = 5_000;
const NEVER_ALLOWED: ReadonlySet<AddressClass> = new Set([
  "link-local",
  "unspecified",
  "multicast",
]);
const encoder = new TextEncoder();
/** Refusals reported (job log, daemon log) per job; the rest are only answered `403`. */
export const MAX_REPORTED_REFUSALS = 100;
/** Jobs whose refusals are counted at most; past it the counts start again. */
const MAX_COUNTED_JOBS = 10_000;

/** Starts the proxy; it serves until {@linkcode EgressProxy.close}. */
export function openEgressProxy(o: EgressProxyOptions): EgressProxy {
  const listener = Deno.listen({ hostname: o.hostname, port: o.port, transport: "tcp" });
  const open = new Set<Deno.Conn>();
  const max = o.maxConnections ?? 512;
  const handlers = new Set<Promise<void>>();
  const reported = new Map<string, number>();
  const accepting = (async () => {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
        o.log.warn("egress.accept_failed", { error: e instanceof Error ? e.message : String(e) });
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (open.size >= max) {
        conn.close();
        continue;
      }
      open.add(conn);
      const p = handleConnection(conn, o, reported).catch((e) => {
        o.log.debug("egress.connection_failed", {
          error: e instanceof Error ? e.message : String(e),
        });
      }).finally(() => {
        open.delete(conn);
        closeQuietly(conn);
        handlers.delete(p);
      });
      handlers.add(p);
    }
  })();
  const addr = listener.addr as Deno.NetAddr;
  return {
    hostname: addr.hostname,
    port: addr.port,
    async close() {
      closeQuietly(listener);
      for (const c of open) closeQuietly(c);
      await accepting;
      await Promise.allSettled([...handlers]);
    },
  };
}

async function handleConnection(
  conn: Deno.Conn,
  o: EgressProxyOptions,
  reported: Map<string, number>,
): Promise<void> {
  const head = await readRequestHead(conn, {
    maxBytes: MAX_HEAD_BYTES,
    signal: AbortSignal.timeout(o.headTimeoutMs ?? 10_000),
  });
  if (typeof head === "string") return await reply(conn, 400, "Bad Request", head);
  const target = requestTarget(head);
  if (typeof target === "string") return await reply(conn, 400, "Bad Request", target);
  const { host, port, kind } = target;

  const job = await authenticated(head, o);
  if (!job) {
    refused(o, reported, { jobId: undefined, host, port, reason: "no valid job credential" });
    return await reply(conn, 407, "Proxy Authentication Required", "job credential required", [
      ["Proxy-Authenticate", 'Basic realm="pylon egress"'],
    ]);
  }
  const refuse = async (reason: string) => {
    refused(o, reported, { jobId: job.jobId, host, port, reason });
    await reply(conn, 403, "Forbidden", `egress refused: ${host}:${port} (${reason})`);
  };
  if (!job.policy.any && isIpLiteral(host)) return await refuse("raw IP addresses are refused");
  if (!egressAllows(job.policy, host, port, kind)) {
    return await refuse(`not on the job's agent.egress list`);
  }
  const address = await pickAddress(host, job, o);
  if ("refused" in address) return await refuse(address.refused);

  let upstream: Deno.TcpConn;
  try {
    upstream = await withTimeout(
      Deno.connect({ hostname: address.ip, port }),
      o.connectTimeoutMs ?? 10_000,
    );
  } catch (e) {
    o.log.info("egress.upstream_failed", {
      job: job.jobId.slice(0, 8),
      host,
      port,
      error: e instanceof Error ? e.message : String(e),
    });
    return await reply(conn, 502, "Bad Gateway", `cannot reach ${host}:${port}`);
  }
  try {
    if (kind === "connect") {
      await conn.write(encoder.encode(`${head.version} 200 Connection established\r\n\r\n`));
      if (head.rest.length > 0) await writeAll(upstream, head.rest);
    } else {
      await writeAll(upstream, encoder.encode(forwardedHead(head, target.path, host, port)));
      if (head.rest.length > 0) await writeAll(upstream, head.rest);
    }
    o.log.debug("egress.allowed", { job: job.jobId.slice(0, 8), host, port, address: address.ip });
    const toUpstream = pipeHalf(conn, upstream).catch(() => {});
    await pipeHalf(upstream, conn).catch(() => {});
    // The server is done: give the client a moment to finish, then close (a client that keeps
    // its side open must not hold a connection slot for ever).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      toUpstream,
      new Promise((r) => timer = setTimeout(r, CLOSE_GRACE_MS)),
    ]);
    clearTimeout(timer);
  } finally {
    closeQuietly(upstream);
  }
}

type Target =
  | { kind: "connect"; host: string; port: number }
  | { kind: "http"; host: string; port: number; path: string };

function requestTarget(head: RequestHead): Target | string {
  if (head.method === "CONNECT") {
    const m = head.target.match(/^(\[[0-9a-fA-F:.]+\]|[^:\s/]+):(\d{1,5})$/);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) return "CONNECT wants host:port";
    return { kind: "connect", host: normalizeHost(m[1]!), port: Number(m[2]) };
  }
  let url: URL;
  try {
    url = new URL(head.target);
  } catch {
    return "a proxy request wants an absolute http:// URL";
  }
  if (url.protocol !== "http:") return "only http:// URLs are forwarded; use CONNECT for https";
  if (url.username || url.password) return "credentials in a proxied URL are refused";
  return {
    kind: "http",
    host: normalizeHost(url.hostname),
    port: url.port ? Number(url.port) : 80,
    path: `${url.pathname}${url.search}`,
  };
}

async function authenticated(head: RequestHead, o: EgressProxyOptions): Promise<ProxyJob | null> {
  const value = headerValue(head, "proxy-authorization") ?? "";
  const m = value.match(/^Basic\s+([A-Za-z0-9+/=]{1,1024})$/i);
  if (!m) return null;
  let decoded: string;
  try {
    decoded = atob(m[1]!);
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon <= 0) return null;
  return await o.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1)).catch(() => null);
}

async function pickAddress(
  host: string,
  job: ProxyJob,
  o: EgressProxyOptions,
): Promise<{ ip: string } | { refused: string }> {
  let addresses: string[];
  try {
    addresses = await (o.resolve ?? resolveSystem)(host);
  } catch {
    addresses = [];
  }
  if (addresses.length === 0) return { refused: "the name does not resolve" };
  const privateOk = (job.privateHosts ?? []).some((r) => hostMatches(r, host));
  for (const ip of addresses) {
    const cls = classifyAddress(ip);
    if (cls === null || (privateOk && !NEVER_ALLOWED.has(cls))) return { ip };
  }
  const [first] = addresses;
  return {
    refused: `resolves only to ${classifyAddress(first!)} address ${first}` +
      (NEVER_ALLOWED.has(classifyAddress(first!))
        ? ""
        : "; list the host in agent.egress_private to allow it"),
  };
}

/** Every address the system's resolver gives `host` (`getaddrinfo`: hosts file, DNS, …). */
async function resolveSystem(host: string): Promise<string[]> {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

/** The request as the upstream server gets it: origin-form, no proxy headers, one request. */
function forwardedHead(head: RequestHead, path: string, host: string, port: number): string {
  const skip = new Set(["proxy-authorization", "proxy-connection", "connection", "keep-alive"]);
  const lines = [`${head.method} ${path || "/"} ${head.version}`];
  let sawHost = false;
  for (const [name, value] of head.headers) {
    const lower = name.toLowerCase();
    if (skip.has(lower)) continue;
    if (lower === "host") sawHost = true;
    lines.push(`${name}: ${value}`);
  }
  if (!sawHost) lines.push(`Host: ${port === 80 ? host : `${host}:${port}`}`);
  lines.push("Connection: close");
  return lines.join("\r\n") + "\r\n\r\n";
}

function refused(o: EgressProxyOptions, reported: Map<string, number>, refusal: EgressRefusal) {
  const key = refusal.jobId ?? "";
  const n = (reported.get(key) ?? 0) + 1;
  if (n > MAX_REPORTED_REFUSALS) return;
  if (reported.size >= MAX_COUNTED_JOBS && !reported.has(key)) reported.clear();
  reported.set(key, n);
  const r = n < MAX_REPORTED_REFUSALS ? refusal : {
    ...refusal,
    reason: `${refusal.reason}; further refusals of this job are not logged`,
  };
  o.log.warn("egress.refused", {
    job: r.jobId?.slice(0, 8) ?? "-",
    target: `${r.host}:${r.port}`,
    reason: r.reason,
  });
  try {
    o.onRefused?.(r);
  } catch (e) {
    o.log.warn("egress.record_failed", { error: e instanceof Error ? e.message : String(e) });
  }
}

async function reply(
  conn: Deno.Conn,
  status: number,
  text: string,
  body: string,
  headers: [string, string][] = [],
): Promise<void> {
  const payload = encoder.encode(body + "\n");
  const head = [
    `HTTP/1.1 ${status} ${text}`,
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${payload.length}`,
    "Connection: close",
    ...headers.map(([n, v]) => `${n}: ${v}`),
  ].join("\r\n") + "\r\n\r\n";
  await writeAll(conn, encoder.encode(head)).catch(() => {});
  await writeAll(conn, payload).catch(() => {});
}

/**
 * Copies `from` to `to` until `from` ends, then half-closes `to`: a client that finishes sending
 * (curl, `nc` at end of input) still gets the rest of the answer.
 */
async function pipeHalf(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  // A read loop, not `from.readable`: that stream closes the whole socket at end of input,
  // which would cut the answer still coming the other way.
  const buf = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buf);
      if (n === null) break;
      await writeAll(to, buf.subarray(0, n));
    }
  } finally {
    await to.closeWrite().catch(() => {});
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

function withTimeout<T extends Deno.Conn>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`connect timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer)).catch((e) => {
    p.then(closeQuietly, () => {});
    throw e;
  });
}

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch {
    // already closed
  }
}
