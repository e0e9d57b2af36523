import assert from "node:assert/strict";
import {
  createSignatureVerifier,
  resolveSignatureFormat,
  type SignatureFormat,
  signRequest,
  type VerifyResult,
} from "../../src/daemon/signature.ts";

const ENCODER = new TextEncoder();
const MISMATCH = { ok: false, reason: "signature does not match (check the secret)" };
/** 2018-07-12T18:36:58Z, the timestamp of Slack's documented example. */
const SLACK_EXAMPLE_TIME = 1531420618;

/** A clock frozen at `seconds` (Unix), with an optional millisecond offset. */
function clockAt(seconds: number, extraMs = 0): { now(): Date } {
  return { now: () => new Date(seconds * 1000 + extraMs) };
}

function verify(
  header: string,
  format: SignatureFormat,
  headers: Record<string, string>,
  body: string,
  options: { secret?: string; now?: { now(): Date } } = {},
): Promise<VerifyResult> {
  const verifier = createSignatureVerifier({
    secret: options.secret ?? "s3cret",
    header,
    format,
    clock: options.now ?? clockAt(1_700_000_000),
  });
  return verifier.verify(new Headers(headers), ENCODER.encode(body));
}

Deno.test("resolveSignatureFormat() infers the format from the header name", () => {
  assert.equal(resolveSignatureFormat("X-Hub-Signature-256"), "sha256");
  assert.equal(resolveSignatureFormat("x-hub-signature"), "sha1");
  assert.equal(resolveSignatureFormat("X-SLACK-SIGNATURE"), "slack");
  assert.equal(resolveSignatureFormat("Stripe-Signature", "auto"), "stripe");
  assert.equal(resolveSignatureFormat("Sentry-Hook-Signature"), "hex-or-sha256");
  assert.equal(resolveSignatureFormat("X-Hub-Signature-256", "hex"), "hex");
});

Deno.test("verify() accepts GitHub's documented X-Hub-Signature-256 example", async () => {
  const headers = {
    "X-Hub-Signature-256":
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
  };
  const secret = "It's a Secret to Everybody";
  const result = await verify("X-Hub-Signature-256", "auto", headers, "Hello, World!", { secret });
  assert.deepEqual(result, { ok: true });
  assert.deepEqual(
    await signRequest({ secret, header: "X-Hub-Signature-256" }, ENCODER.encode("Hello, World!")),
    headers,
  );
});

Deno.test("verify() accepts vectors computed independently with openssl", async (t) => {
  await t.step("X-Hub-Signature (sha1)", async () => {
    const headers = { "X-Hub-Signature": "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59" };
    const secret = "It's a Secret to Everybody";
    const result = await verify("X-Hub-Signature", "auto", headers, "Hello, World!", { secret });
    assert.deepEqual(result, { ok: true });
  });
  await t.step("Stripe-Signature", async () => {
    const headers = {
      "Stripe-Signature":
        "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925",
    };
    const result = await verify("Stripe-Signature", "auto", headers, '{"id":"evt_1"}', {
      secret: "whsec_test",
    });
    assert.deepEqual(result, { ok: true });
  });
});

Deno.test("verify() accepts openssl's HMAC for secrets of a block's length and longer", async (t) => {
  // `printf 'Hello, World!' | openssl dgst -sha256 -hmac "$secret"`: a secret longer than the
  // 64-byte block is hashed first (RFC 2104), one of exactly 64 bytes is not.
  const cases = [
    [
      "64 bytes",
      "k".repeat(64),
      "X-Hub-Signature-256",
      "sha256=919edcebe4f1d6fe34bcb151e4e862f71f570a3488149f72d3dd03a7db44b0f1",
    ],
    [
      "96 bytes",
      "long-secret-".repeat(8),
      "X-Hub-Signature-256",
      "sha256=1adc1746e3c48575c7ca1c3c094391d80b872253c6521797538381fccaa9d249",
    ],
    [
      "96 bytes, sha1",
      "long-secret-".repeat(8),
      "X-Hub-Signature",
      "sha1=2e34b12264dcb66099be233effe29466f9a0a2f6",
    ],
  ] as const;
  for (const [name, secret, header, signature] of cases) {
    await t.step(name, async () => {
      const result = await verify(header, "auto", { [header]: signature }, "Hello, World!", {
        secret,
      });
      assert.deepEqual(result, { ok: true });
    });
  }
});

Deno.test("verify() gives the same verdicts on every call of one verifier", async () => {
  const options = { secret: "s3cret", header: "X-Hub-Signature-256" };
  const verifier = createSignatureVerifier(options);
  const bodies = ["first", "second", "first"].map((b) => ENCODER.encode(b));
  const signed = await Promise.all(bodies.map((b) => signRequest(options, b)));
  for (const [i, body] of bodies.entries()) {
    assert.deepEqual(await verifier.verify(new Headers(signed[i]), body), { ok: true });
    // The other body's signature never passes, before or after a good one.
    const other = new Headers(signed[(i + 1) % 2]);
    assert.deepEqual(await verifier.verify(other, ENCODER.encode("third")), MISMATCH);
  }
});

Deno.test("verify() accepts Slack's documented v0 example", async () => {
  const body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&" +
    "channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&" +
    "command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F" +
    "T1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121." +
    "803a0bc887a14d10d2c447fce8b6703c";
  const headers = {
    "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    "X-Slack-Request-Timestamp": String(SLACK_EXAMPLE_TIME),
  };
  const options = { secret: "8f742231b10e8888abcd99yyyzzz85a5", now: clockAt(SLACK_EXAMPLE_TIME) };
  assert.deepEqual(await verify("X-Slack-Signature", "auto", headers, body, options), { ok: true });
  const signed = await signRequest(
    { secret: options.secret, header: "X-Slack-Signature", clock: options.now },
    ENCODER.encode(body),
  );
  assert.deepEqual(signed, headers);
});

Deno.test("verify() round-trips what signRequest() produces, for every format", async (t) => {
  const cases: [string, SignatureFormat][] = [
    ["Sentry-Hook-Signature", "auto"],
    ["Sentry-Hook-Signature", "hex"],
    ["X-Hub-Signature-256", "auto"],
    ["X-Signature", "sha256"],
    ["X-Hub-Signature", "auto"],
    ["X-Signature", "sha1"],
    ["X-Slack-Signature", "auto"],
    ["X-Signature", "slack"],
    ["Stripe-Signature", "auto"],
    ["X-Signature", "stripe"],
  ];
  const body = JSON.stringify({ action: "created", data: { issue: { id: "4011" } } });
  for (const [header, format] of cases) {
    await t.step(`${header} as ${format}`, async () => {
      const clock = clockAt(1_700_000_000);
      const headers = await signRequest(
        { secret: "s3cret", header, format, clock },
        ENCODER.encode(body),
      );
      assert.deepEqual(await verify(header, format, headers, body), { ok: true });
      assert.deepEqual(await verify(header, format, headers, body + " "), MISMATCH);
      assert.deepEqual(await verify(header, format, headers, body, { secret: "other" }), MISMATCH);
    });
  }
});

Deno.test("verify() reports a missing header by its configured name", async () => {
  assert.deepEqual(await verify("X-Hub-Signature-256", "auto", {}, "{}"), {
    ok: false,
    reason: "missing X-Hub-Signature-256 header",
  });
  assert.deepEqual(
    await verify("Sentry-Hook-Signature", "hex", { "Sentry-Hook-Signature": "" }, "{}"),
    {
      ok: false,
      reason: "missing Sentry-Hook-Signature header",
    },
  );
});

Deno.test("verify() names the expected shape of a malformed signature", async (t) => {
  const digest = "a".repeat(64);
  const cases: [string, SignatureFormat, string, string][] = [
    [
      "X-Hub-Signature-256",
      "auto",
      digest,
      "X-Hub-Signature-256 is not in the sha256=<hex> format",
    ],
    [
      "X-Hub-Signature-256",
      "auto",
      `sha1=${"a".repeat(40)}`,
      "X-Hub-Signature-256 is not in the sha256=<hex> format",
    ],
    [
      "X-Hub-Signature-256",
      "auto",
      `sha256=${"g".repeat(64)}`,
      "X-Hub-Signature-256 is not in the sha256=<hex> format",
    ],
    [
      "X-Hub-Signature-256",
      "auto",
      `sha256=${"a".repeat(63)}`,
      "X-Hub-Signature-256 is not in the sha256=<hex> format",
    ],
    [
      "X-Hub-Signature",
      "auto",
      `sha1=${digest}`,
      "X-Hub-Signature is not in the sha1=<hex> format",
    ],
    [
      "Sentry-Hook-Signature",
      "hex",
      `sha256=${digest}`,
      "Sentry-Hook-Signature is not in the <hex> format",
    ],
    [
      "Sentry-Hook-Signature",
      "hex",
      "a".repeat(40),
      "Sentry-Hook-Signature is not in the <hex> format",
    ],
    ["X-Sig", "auto", `sha1=${"a".repeat(40)}`, "X-Sig is not in the <hex> or sha256=<hex> format"],
    ["X-Sig", "auto", "not hex at all", "X-Sig is not in the <hex> or sha256=<hex> format"],
    ["X-Slack-Signature", "auto", digest, "X-Slack-Signature is not in the v0=<hex> format"],
    [
      "Stripe-Signature",
      "auto",
      `v1=${digest}`,
      "Stripe-Signature is not in the t=<unix>,v1=<hex> format",
    ],
    [
      "Stripe-Signature",
      "auto",
      "t=1700000000",
      "Stripe-Signature is not in the t=<unix>,v1=<hex> format",
    ],
    [
      "Stripe-Signature",
      "auto",
      `t=1700000000,v1=${"z".repeat(64)}`,
      "Stripe-Signature is not in the t=<unix>,v1=<hex> format",
    ],
  ];
  for (const [header, format, value, reason] of cases) {
    await t.step(`${header}: ${value.slice(0, 20)}`, async () => {
      const headers = { [header]: value, "X-Slack-Request-Timestamp": "1700000000" };
      assert.deepEqual(await verify(header, format, headers, "{}"), { ok: false, reason });
    });
  }
});

Deno.test("verify() accepts uppercase hex and either prefix for an unknown header", async () => {
  const body = '{"id":1}';
  const signed = await signRequest({ secret: "s3cret", header: "X-Sig" }, ENCODER.encode(body));
  const hex = signed["X-Sig"]!;
  assert.match(hex, /^[0-9a-f]{64}$/);
  for (const value of [hex, hex.toUpperCase(), `sha256=${hex}`, `SHA256=${hex.toUpperCase()}`]) {
    assert.deepEqual(await verify("X-Sig", "auto", { "X-Sig": value }, body), { ok: true });
  }
  const github = await signRequest(
    { secret: "s3cret", header: "X-Hub-Signature-256" },
    ENCODER.encode(body),
  );
  const upper = `sha256=${github["X-Hub-Signature-256"]!.slice(7).toUpperCase()}`;
  const result = await verify(
    "X-Hub-Signature-256",
    "auto",
    { "X-Hub-Signature-256": upper },
    body,
  );
  assert.deepEqual(result, { ok: true });
});

Deno.test("verify() never echoes the secret or the expected digest", async () => {
  const secret = "hunter2-very-secret";
  const body = "payload";
  const good = await signRequest({ secret, header: "X-Hub-Signature-256" }, ENCODER.encode(body));
  const result = await verify(
    "X-Hub-Signature-256",
    "auto",
    { "X-Hub-Signature-256": `sha256=${"0".repeat(64)}` },
    body,
    { secret },
  );
  assert.equal(result.ok, false);
  const reason = result.ok ? "" : result.reason;
  assert.ok(!reason.includes(secret));
  assert.ok(!reason.includes(good["X-Hub-Signature-256"]!.slice(7)));
});

Deno.test("verify() enforces Slack's 5-minute replay window", async (t) => {
  const body = "command=%2Fdeploy";
  const sent = 1_700_000_000;
  const headers = await signRequest(
    { secret: "s3cret", header: "X-Slack-Signature", clock: clockAt(sent) },
    ENCODER.encode(body),
  );
  const at = (offsetMs: number) =>
    verify("X-Slack-Signature", "auto", headers, body, { now: clockAt(sent, offsetMs) });
  await t.step("exactly 300 s either side passes", async () => {
    assert.deepEqual(await at(300_000), { ok: true });
    assert.deepEqual(await at(-300_000), { ok: true });
  });
  await t.step("one millisecond past the window fails", async () => {
    assert.deepEqual(await at(300_001), {
      ok: false,
      reason: "X-Slack-Request-Timestamp is older than 5 minutes",
    });
    assert.deepEqual(await at(-300_001), {
      ok: false,
      reason: "X-Slack-Request-Timestamp is more than 5 minutes in the future",
    });
  });
  await t.step("a missing or non-numeric timestamp fails", async () => {
    const signature = { "X-Slack-Signature": headers["X-Slack-Signature"]! };
    assert.deepEqual(await verify("X-Slack-Signature", "auto", signature, body), {
      ok: false,
      reason: "missing X-Slack-Request-Timestamp header",
    });
    const bad = { ...signature, "X-Slack-Request-Timestamp": "1700000000.5" };
    assert.deepEqual(await verify("X-Slack-Signature", "auto", bad, body), {
      ok: false,
      reason: "X-Slack-Request-Timestamp is not a Unix time in seconds",
    });
  });
  await t.step("a replayed body with a fresh timestamp fails", async () => {
    const replay = { ...headers, "X-Slack-Request-Timestamp": String(sent + 1) };
    const result = await verify("X-Slack-Signature", "auto", replay, body, { now: clockAt(sent) });
    assert.deepEqual(result, MISMATCH);
  });
});

Deno.test("verify() enforces Stripe's tolerance and accepts any matching v1", async (t) => {
  const body = '{"id":"evt_1","object":"event"}';
  const sent = 1_700_000_000;
  const signed = await signRequest(
    { secret: "whsec_test", header: "Stripe-Signature", clock: clockAt(sent) },
    ENCODER.encode(body),
  );
  const good = signed["Stripe-Signature"]!;
  assert.match(good, /^t=1700000000,v1=[0-9a-f]{64}$/);
  const v1 = good.split(",")[1]!;
  const other = `v1=${"ab".repeat(32)}`;
  const check = (value: string, offsetMs = 0) =>
    verify("Stripe-Signature", "auto", { "Stripe-Signature": value }, body, {
      secret: "whsec_test",
      now: clockAt(sent, offsetMs),
    });
  await t.step("the matching v1 may come first or last, among v0 entries", async () => {
    assert.deepEqual(await check(`t=${sent},${other},${v1}`), { ok: true });
    assert.deepEqual(await check(`t=${sent}, ${v1}, ${other}, v0=${"cd".repeat(32)}`), {
      ok: true,
    });
  });
  await t.step("no matching v1 fails", async () => {
    assert.deepEqual(await check(`t=${sent},${other},${other}`), MISMATCH);
  });
  await t.step("a changed t= fails", async () => {
    assert.deepEqual(await check(`t=${sent + 1},${v1}`), MISMATCH);
  });
  await t.step("the window edges", async () => {
    assert.deepEqual(await check(good, 300_000), { ok: true });
    assert.deepEqual(await check(good, 300_001), {
      ok: false,
      reason: "Stripe-Signature timestamp is older than 5 minutes",
    });
    assert.deepEqual(await check(good, -300_001), {
      ok: false,
      reason: "Stripe-Signature timestamp is more than 5 minutes in the future",
    });
  });
  await t.step("too many v1 entries are refused before any HMAC", async () => {
    const many = [`t=${sent}`, ...Array(9).fill(other)].join(",");
    assert.deepEqual(await check(many), {
      ok: false,
      reason: "Stripe-Signature has more than 8 v1 signatures",
    });
  });
});

Deno.test("createSignatureVerifier() refuses an empty secret or header", () => {
  assert.throws(
    () => createSignatureVerifier({ secret: "", header: "X-Hub-Signature-256" }),
    { name: "TypeError", message: "Cannot use a webhook signature: the secret is empty" },
  );
  assert.throws(
    () => createSignatureVerifier({ secret: "s", header: " " }),
    { name: "TypeError", message: "Cannot use a webhook signature: the header name is empty" },
  );
});
