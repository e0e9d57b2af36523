/**
 * Signature verification benchmark: `verifier.verify()` on a ~200-byte GitHub-style body against
 * a baseline of one raw `crypto.subtle.sign` with a pre-imported key plus a hex string compare
 * (the least a verifier can do, minus constant-time comparison and header parsing). Compare the
 * `verify` rows with the `baseline` row (Deno prints the ratio in its summary).
 */

import { createSignatureVerifier, signRequest } from "../src/daemon/signature.ts";

const SECRET = "bench-secret-0123456789";
const CLOCK = { now: () => new Date(1_700_000_000_000) };
const BODY = new TextEncoder().encode(JSON.stringify({
  action: "opened",
  number: 42,
  pull_request: { title: "Fix the null check in getUser", head: { ref: "fix/get-user" } },
  repository: { full_name: "acme/web", private: true },
  sender: { login: "ada" },
}));

const KEY = await crypto.subtle.importKey(
  "raw",
  new TextEncoder().encode(SECRET),
  { name: "HMAC", hash: "SHA-256" },
  false,
  ["sign"],
);

function verifierFor(header: string) {
  return createSignatureVerifier({ secret: SECRET, header, clock: CLOCK });
}

async function headersFor(header: string): Promise<Headers> {
  return new Headers(await signRequest({ secret: SECRET, header, clock: CLOCK }, BODY));
}

const GITHUB = verifierFor("X-Hub-Signature-256");
const GITHUB_HEADERS = await headersFor("X-Hub-Signature-256");
const EXPECTED = GITHUB_HEADERS.get("X-Hub-Signature-256")!;
const SLACK = verifierFor("X-Slack-Signature");
const SLACK_HEADERS = await headersFor("X-Slack-Signature");
const STRIPE = verifierFor("Stripe-Signature");
const STRIPE_HEADERS = await headersFor("Stripe-Signature");

function toHex(data: Uint8Array): string {
  let out = "";
  for (const byte of data) out += byte.toString(16).padStart(2, "0");
  return out;
}

async function assertOk(result: Promise<{ ok: boolean }>): Promise<void> {
  if (!(await result).ok) throw new Error("Cannot run the benchmark: the signature was rejected");
}

Deno.bench(
  "baseline: crypto.subtle.sign + hex compare",
  { group: `verify ${BODY.length}-byte body`, baseline: true },
  async () => {
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", KEY, BODY));
    if (`sha256=${toHex(mac)}` !== EXPECTED) throw new Error("Cannot run the benchmark: mismatch");
  },
);

Deno.bench(
  "verify: X-Hub-Signature-256",
  { group: `verify ${BODY.length}-byte body` },
  async () => {
    await assertOk(GITHUB.verify(GITHUB_HEADERS, BODY));
  },
);

Deno.bench("verify: X-Slack-Signature", { group: `verify ${BODY.length}-byte body` }, async () => {
  await assertOk(SLACK.verify(SLACK_HEADERS, BODY));
});

Deno.bench("verify: Stripe-Signature", { group: `verify ${BODY.length}-byte body` }, async () => {
  await assertOk(STRIPE.verify(STRIPE_HEADERS, BODY));
});

Deno.bench("reject: tampered body", { group: `verify ${BODY.length}-byte body` }, async () => {
  const result = await GITHUB.verify(GITHUB_HEADERS, BODY.subarray(1));
  if (result.ok) throw new Error("Cannot run the benchmark: a tampered body was accepted");
});
