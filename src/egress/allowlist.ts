/**
 * `agent.egress`: the hosts a job's agent may reach through pylon's egress proxy (issue 19, item
 * 2). An entry is a hostname (`api.github.com`), a wildcard over its subdomains (`*.npmjs.org`
 * matches `registry.npmjs.org` and `a.b.npmjs.org`, not `npmjs.org` itself), optionally with a
 * port (`git.example.com:8443`); without one, CONNECT may reach port 443 and plain HTTP port 80.
 * Raw IPs are never entries: an address says nothing about who answers it, and allowing one would
 * let an agent pick any host behind it. `any` (the whole value, not an entry) keeps the network as
 * it was before the proxy existed.
 *
 * Pure: parsing and matching, no I/O.
 *
 * @module
 */

/** One parsed entry. */
export interface EgressRule {
  /** Lower-case host without a trailing dot; for a wildcard, the suffix after `*.`. */
  host: string;
  wildcard: boolean;
  /** `undefined`: 443 for CONNECT, 80 for plain HTTP. */
  port: number | undefined;
}

/** A job's egress: everything (`any`) or a list of rules. */
export type EgressPolicy = { any: true } | { any: false; rules: EgressRule[] };

const LABEL_REGEXP = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4_REGEXP = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** Default ports when an entry names none. */
export const DEFAULT_PORTS = { connect: 443, http: 80 } as const;

/**
 * Why `entry` is not a valid `agent.egress` entry, or null when it is. The message continues a
 * sentence naming the field (`agent.egress[2] …`).
 */
export function egressEntryProblem(entry: string): string | null {
  const rule = parseEgressEntry(entry);
  return typeof rule === "string" ? rule : null;
}

/** Parses one entry, or returns why it is invalid. */
export function parseEgressEntry(entry: string): EgressRule | string {
  let text = entry.trim().toLowerCase();
  if (text === "") return "is empty; write a hostname like api.github.com";
  if (text === "any") return "is any inside a list; write `egress: any` alone to allow everything";
  if (text === "default") return { host: "default", wildcard: false, port: undefined };
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(text)) {
    return `is a URL; write only its host, like ${
      text.replace(/^[a-z0-9+.-]*:\/\//, "").split("/")[0]
    }`;
  }
  if (text.includes("/")) return "has a path; write only a hostname like api.github.com";
  if (text.startsWith("[") || (text.match(/:/g)?.length ?? 0) > 1) {
    return "is an IPv6 address; list hostnames, not addresses";
  }
  let port: number | undefined;
  const colon = text.lastIndexOf(":");
  if (colon >= 0) {
    const p = text.slice(colon + 1);
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) {
      return `has port ${JSON.stringify(p)}; a port is a number from 1 to 65535 (host:port)`;
    }
    port = Number(p);
    text = text.slice(0, colon);
  }
  if (text.endsWith(".")) text = text.slice(0, -1);
  let wildcard = false;
  if (text.startsWith("*.")) {
    wildcard = true;
    text = text.slice(2);
  }
  if (text.includes("*")) {
    return "has a * that is not a leading `*.`; write a wildcard like *.npmjs.org";
  }
  if (IPV4_REGEXP.test(text)) return "is an IP address; list hostnames, not addresses";
  const labels = text.split(".");
  if (text.length > 253 || labels.some((l) => !LABEL_REGEXP.test(l))) {
    return "is not a hostname; use letters, digits, - and dots, like api.github.com";
  }
  if (wildcard && labels.length < 2) {
    return "is a wildcard over a whole top-level domain; name the domain, like *.npmjs.org";
  }
  return { host: text, wildcard, port };
}

/** Parses a list whose entries were validated already (config load); throws on a bad one. */
export function parseEgressList(entries: readonly string[]): EgressRule[] {
  return entries.map((e, i) => {
    const rule = parseEgressEntry(e);
    if (typeof rule === "string") throw new TypeError(`agent.egress[${i}] ${rule}`);
    return rule;
  });
}

/** Normalizes a requested host (lower case, no trailing dot, no IPv6 brackets). */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  return h;
}

/** Whether `host` is a literal IPv4 or IPv6 address (never matched by a rule). */
export function isIpLiteral(host: string): boolean {
  const h = normalizeHost(host);
  return IPV4_REGEXP.test(h) || h.includes(":") || /^\d+$/.test(h) || /^0x[0-9a-f]+$/.test(h);
}

/** Whether `rule` names `host` (normalized), whatever the port. */
export function hostMatches(rule: EgressRule, host: string): boolean {
  return rule.wildcard ? host.endsWith(`.${rule.host}`) : host === rule.host;
}

/** Whether `rule` covers `host` (normalized) on `port` for a request of `kind`. */
export function ruleMatches(
  rule: EgressRule,
  host: string,
  port: number,
  kind: keyof typeof DEFAULT_PORTS,
): boolean {
  return hostMatches(rule, host) && port === (rule.port ?? DEFAULT_PORTS[kind]);
}

/**
 * Whether `policy` lets a job reach `host:port`; raw IPs only under `any`. `kind` is `connect`
 * (a tunnel, normally TLS) or `http` (a plain-HTTP request the proxy forwards).
 */
export function egressAllows(
  policy: EgressPolicy,
  host: string,
  port: number,
  kind: keyof typeof DEFAULT_PORTS,
): boolean {
  if (policy.any) return true;
  const h = normalizeHost(host);
  if (isIpLiteral(h)) return false;
  return policy.rules.some((r) => ruleMatches(r, h, port, kind));
}
