/**
 * A job's side of the egress proxy: its policy from the resolved agent settings, its proxy
 * credential, the environment that points its agent at the proxy, and the line a refusal leaves
 * in the job's log (`pylon logs` shows it).
 *
 * The credential is `HMAC-SHA256(daemon key, job id)`: nothing to store per job, the same after a
 * daemon restart (re-attached jobs keep working), worthless for another job and outside the job
 * network (the proxy listens only there). It is not the channel token: it travels in the
 * container's environment (`HTTPS_PROXY=http://<job>:<secret>@…`, which `docker inspect`
 * shows), and all it allows is what the job's own list allows.
 *
 * @module
 */

import { type EgressPolicy, type EgressRule, parseEgressList } from "./allowlist.ts";
import { expandEgressDefaults } from "./defaults.ts";
import type { EgressRefusal } from "./proxy.ts";

/** The policy of a job of agent `type` with settings `egress` / `egress_private`. */
export function egressPolicyFor(
  type: string,
  egress: "any" | readonly string[] | undefined,
  egressPrivate: readonly string[] = [],
): { policy: EgressPolicy; privateHosts: EgressRule[] } {
  const privateHosts = parseEgressList(expandEgressDefaults(type, egressPrivate));
  if (egress === undefined || egress === "any") return { policy: { any: true }, privateHosts };
  return {
    policy: { any: false, rules: parseEgressList(expandEgressDefaults(type, egress)) },
    privateHosts,
  };
}

/** The proxy secret of `jobId` under the daemon's `key` (hex). */
export async function proxySecret(key: Uint8Array, jobId: string): Promise<string> {
  const k = await crypto.subtle.importKey(
    "raw",
    key as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(`egress:${jobId}`));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether `secret` is `jobId`'s (constant time over the hex). */
export async function checkProxySecret(
  key: Uint8Array,
  jobId: string,
  secret: string,
): Promise<boolean> {
  const expected = await proxySecret(key, jobId);
  if (secret.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ secret.charCodeAt(i);
  return diff === 0;
}

/**
 * The proxy variables of a job's container, upper and lower case (curl reads only
 * `http_proxy` in lower case; Node tools, git and npm read either). `direct` lists what the
 * agent reaches without the proxy: the daemon's own address on the job network (channel,
 * model gateway).
 */
export function egressEnv(
  proxy: { host: string; port: number },
  jobId: string,
  secret: string,
  direct: readonly string[] = [],
): Record<string, string> {
  const url = `http://${encodeURIComponent(jobId)}:${secret}@${proxy.host}:${proxy.port}`;
  const noProxy = [proxy.host, ...direct].join(",");
  return {
    "HTTPS_PROXY": url,
    "https_proxy": url,
    "HTTP_PROXY": url,
    "http_proxy": url,
    "NO_PROXY": noProxy,
    "no_proxy": noProxy,
  };
}

/** The job-log line of a refusal: `egress refused: evil.example:443 (not on …)`. */
export function refusalLine(r: EgressRefusal, at: Date): string {
  return `--- ${at.toISOString()} egress refused: ${r.host}:${r.port} (${r.reason}) ---`;
}

/** Appends the refusal to `jobs/<id>.log` (the file `pylon logs` reads). */
export async function recordRefusal(logPath: string, r: EgressRefusal, at: Date): Promise<void> {
  await Deno.writeTextFile(logPath, refusalLine(r, at) + "\n", { append: true, create: true });
}
