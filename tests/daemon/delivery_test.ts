import assert from "node:assert/strict";
import { deliveryIdOf, MAX_DELIVERY_ID_LENGTH } from "../../src/daemon/delivery.ts";

/** Headers as GitHub sends them for a pull_request event. */
const GITHUB = {
  "Accept": "*/*",
  "Content-Type": "application/json",
  "User-Agent": "GitHub-Hookshot/5f8d3a2",
  "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
  "X-GitHub-Event": "pull_request",
  "X-GitHub-Hook-ID": "292430182",
  "X-GitHub-Hook-Installation-Target-ID": "79929171",
  "X-GitHub-Hook-Installation-Target-Type": "repository",
  "X-Hub-Signature-256": "sha256=d57c68ca6f92289e6987922ff26938930f6e66a2d161ef06abdf1859230aa23c",
};

/** Headers as GitLab 17.4+ sends them for a merge request hook. */
const GITLAB = {
  "Content-Type": "application/json",
  "User-Agent": "GitLab/17.6.0",
  "X-Gitlab-Event": "Merge Request Hook",
  "X-Gitlab-Webhook-UUID": "16b3a3fe-5d3b-4a3c-94c9-55b5fb2b1a90",
  "X-Gitlab-Instance": "https://gitlab.com",
  "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e",
  "Idempotency-Key": "f5e5f430-f57b-4e6e-9fac-d9128cd7232f",
  "X-Gitlab-Token": "secret-token",
};

/** Headers as Sentry's integration platform sends them. */
function sentry(resource: string, requestId = "0d52a07c3b5d4bd1a54e4e0f0b2c1f9e"): Headers {
  return new Headers({
    "Content-Type": "application/json",
    "Request-ID": requestId,
    "Sentry-Hook-Resource": resource,
    "Sentry-Hook-Timestamp": "1722000000",
    "Sentry-Hook-Signature": "a".repeat(64),
  });
}

const INSTALLATION = { uuid: "7a485448-a9e2-4c85-8a3c-4f44175783c9" };
const ACTOR = { type: "application", id: "sentry", name: "Sentry" };

Deno.test("deliveryIdOf() uses X-GitHub-Delivery", () => {
  assert.equal(
    deliveryIdOf(new Headers(GITHUB), { action: "opened" }),
    "x-github-delivery:72d3162e-cc78-11e3-81ab-4c9367dc0958",
  );
});

Deno.test("deliveryIdOf() prefers GitLab's retry-stable Idempotency-Key", async (t) => {
  await t.step("GitLab 17.4+ sends both", () => {
    assert.equal(
      deliveryIdOf(new Headers(GITLAB), { object_kind: "merge_request" }),
      "idempotency-key:f5e5f430-f57b-4e6e-9fac-d9128cd7232f",
    );
  });
  await t.step("older GitLab sends only the event UUID", () => {
    const headers = new Headers(GITLAB);
    headers.delete("Idempotency-Key");
    assert.equal(
      deliveryIdOf(headers, {}),
      "x-gitlab-event-uuid:13792a34-cac6-4fda-95a8-c58e00a3954e",
    );
  });
});

Deno.test("deliveryIdOf() uses only the configured header when there is one", async (t) => {
  await t.step("present", () => {
    const headers = new Headers({ ...GITHUB, "X-Custom-Id": "abc-123" });
    assert.equal(deliveryIdOf(headers, {}, "X-Custom-Id"), "x-custom-id:abc-123");
  });
  await t.step("absent: no fallback to other headers", () => {
    assert.equal(deliveryIdOf(new Headers(GITHUB), {}, "X-Custom-Id"), null);
  });
  await t.step("empty: no id", () => {
    assert.equal(deliveryIdOf(new Headers({ "X-Custom-Id": "" }), {}, "X-Custom-Id"), null);
  });
  await t.step("matched case-insensitively, namespaced in lowercase", () => {
    const headers = new Headers({ "x-custom-id": "abc" });
    assert.equal(deliveryIdOf(headers, {}, "X-CUSTOM-ID"), "x-custom-id:abc");
  });
});

Deno.test("deliveryIdOf() falls back through generic headers, X-Request-Id last", () => {
  const proxied = { "X-Request-Id": "nginx-9f1c", "Content-Type": "application/json" };
  assert.equal(
    deliveryIdOf(new Headers({ ...proxied, "X-Webhook-Id": "wh_1" }), {}),
    "x-webhook-id:wh_1",
  );
  assert.equal(
    deliveryIdOf(new Headers({ ...proxied, "X-Delivery-Id": "d1", "X-Webhook-Id": "wh_1" }), {}),
    "x-delivery-id:d1",
  );
  assert.equal(deliveryIdOf(new Headers(proxied), {}), "x-request-id:nginx-9f1c");
  assert.equal(
    deliveryIdOf(new Headers({ ...proxied, "Idempotency-Key": "k1" }), {}),
    "idempotency-key:k1",
  );
});

Deno.test("deliveryIdOf() returns null without any id and ignores empty values", () => {
  assert.equal(deliveryIdOf(new Headers({ "Content-Type": "application/json" }), {}), null);
  assert.equal(deliveryIdOf(new Headers({ "X-GitHub-Delivery": "" }), {}), null);
  assert.equal(
    deliveryIdOf(new Headers({ "X-GitHub-Delivery": "", "X-Webhook-Id": "w" }), null),
    "x-webhook-id:w",
  );
});

Deno.test("deliveryIdOf() caps ids at 200 characters", () => {
  const id = deliveryIdOf(new Headers({ "X-Delivery-Id": "x".repeat(500) }), {});
  assert.equal(id?.length, MAX_DELIVERY_ID_LENGTH);
  assert.ok(id?.startsWith("x-delivery-id:xxx"));
});

Deno.test("deliveryIdOf() keys Sentry webhooks on the payload, not Request-ID", async (t) => {
  await t.step("error: the event id, the same across retries", () => {
    const body = {
      action: "created",
      installation: INSTALLATION,
      data: { error: { event_id: "d5db6d3a2a6b4cd8a1b2c3d4e5f60718", issue_id: "4011" } },
      actor: ACTOR,
    };
    const first = deliveryIdOf(sentry("error"), body);
    assert.equal(first, "sentry:error:d5db6d3a2a6b4cd8a1b2c3d4e5f60718");
    assert.equal(deliveryIdOf(sentry("error", "ffffffffffffffffffffffffffffffff"), body), first);
  });
  await t.step("event_alert: the event id and the rule", () => {
    const body = (rule: string) => ({
      action: "triggered",
      installation: INSTALLATION,
      data: { event: { event_id: "9f3c2b1a", issue_id: "4011" }, triggered_rule: rule },
      actor: ACTOR,
    });
    assert.equal(
      deliveryIdOf(sentry("event_alert"), body("Notify pylon")),
      "sentry:event_alert:9f3c2b1a:Notify pylon",
    );
    assert.notEqual(
      deliveryIdOf(sentry("event_alert"), body("Page on-call")),
      deliveryIdOf(sentry("event_alert"), body("Notify pylon")),
    );
  });
  await t.step("issue created: the issue id", () => {
    const body = {
      action: "created",
      installation: INSTALLATION,
      data: { issue: { id: "4011", shortId: "WEB-1Z", status: "unresolved" } },
      actor: ACTOR,
    };
    assert.equal(deliveryIdOf(sentry("issue"), body), "sentry:issue:created:4011");
  });
  await t.step("issue resolved: id, action and a payload fingerprint", () => {
    const resolved = (lastSeen: string) => ({
      action: "resolved",
      installation: INSTALLATION,
      data: { issue: { id: 4011, status: "resolved", lastSeen } },
      actor: ACTOR,
    });
    const first = deliveryIdOf(sentry("issue"), resolved("2026-07-01T10:00:00Z"));
    assert.match(first ?? "", /^sentry:issue:resolved:4011:[0-9a-f]{16}$/);
    // A retry re-sends the same data: same key, whatever order the keys arrive in.
    const reordered = {
      actor: ACTOR,
      data: { issue: { lastSeen: "2026-07-01T10:00:00Z", status: "resolved", id: 4011 } },
      installation: INSTALLATION,
      action: "resolved",
    };
    assert.equal(deliveryIdOf(sentry("issue", "another-request"), reordered), first);
    // Resolved again after a regression: a new delivery.
    assert.notEqual(deliveryIdOf(sentry("issue"), resolved("2026-07-09T08:00:00Z")), first);
  });
  await t.step("comment and metric_alert", () => {
    const comment = {
      action: "updated",
      installation: INSTALLATION,
      data: { comment_id: "1234", issue_id: 4011, comment: "typo fixed" },
      actor: ACTOR,
    };
    assert.match(deliveryIdOf(sentry("comment"), comment) ?? "", /^sentry:comment:updated:1234:/);
    const metric = {
      action: "critical",
      installation: INSTALLATION,
      data: { metric_alert: { id: "88", status: 20 }, description_text: "p95 > 2s" },
      actor: ACTOR,
    };
    assert.match(
      deliveryIdOf(sentry("metric_alert"), metric) ?? "",
      /^sentry:metric_alert:critical:88:/,
    );
  });
  await t.step("no usable body: fall through to other headers", () => {
    assert.equal(deliveryIdOf(sentry("error"), "not json"), null);
    assert.equal(deliveryIdOf(sentry("error"), { action: "created", data: {} }), null);
    const proxied = sentry("error");
    proxied.set("X-Request-Id", "proxy-1");
    assert.equal(deliveryIdOf(proxied, null), "x-request-id:proxy-1");
  });
  await t.step("a proxy's X-Request-Id does not hide the Sentry key", () => {
    const headers = sentry("error");
    headers.set("X-Request-Id", "proxy-1");
    const body = { action: "created", data: { error: { event_id: "e1" } } };
    assert.equal(deliveryIdOf(headers, body), "sentry:error:e1");
  });
});

Deno.test("deliveryIdOf() uses Slack's event_id and Stripe's event id", () => {
  const slack = new Headers({
    "X-Slack-Signature": `v0=${"a".repeat(64)}`,
    "X-Slack-Request-Timestamp": "1531420618",
    "X-Slack-Retry-Num": "1",
    "X-Slack-Retry-Reason": "http_timeout",
  });
  assert.equal(
    deliveryIdOf(slack, { type: "event_callback", event_id: "Ev08MFMKH6J", event: {} }),
    "slack:Ev08MFMKH6J",
  );
  assert.equal(deliveryIdOf(slack, { type: "url_verification", challenge: "x" }), null);
  const stripe = new Headers({ "Stripe-Signature": `t=1,v1=${"a".repeat(64)}` });
  assert.equal(
    deliveryIdOf(stripe, { id: "evt_1NG8Du2eZvKYlo2CUI79vXWy", object: "event" }),
    "stripe:evt_1NG8Du2eZvKYlo2CUI79vXWy",
  );
  assert.equal(deliveryIdOf(stripe, { id: "ch_1", object: "charge" }), null);
});

Deno.test("payloadDigest() ignores key order and spacing but not values", async () => {
  const { payloadDigest } = await import("../../src/daemon/delivery.ts");
  const a = await payloadDigest(JSON.parse('{"a":1,"b":{"c":[1,2],"d":"x"}}'));
  const b = await payloadDigest(JSON.parse('{ "b": { "d": "x", "c": [1, 2] }, "a": 1 }'));
  const c = await payloadDigest(JSON.parse('{"a":1,"b":{"c":[2,1],"d":"x"}}'));
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(a, b);
  assert.notEqual(a, c);
});
