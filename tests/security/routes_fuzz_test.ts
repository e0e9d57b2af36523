/**
 * No input produces a 5xx (issue 12, item 16): odd query strings and ids on the control API,
 * JSON nested far deeper than any sender nests it, odd paths, methods and huge headers on the
 * webhook routes, all against a real daemon on loopback.
 */

import assert from "node:assert/strict";
import { startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";

/** A deterministic pseudo-random source, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function deepObject(depth: number, leaf: unknown = 1): string {
  return '{"a":'.repeat(depth) + JSON.stringify(leaf) + "}".repeat(depth);
}

function deepArray(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

const PYLONS = {
  "pylons/plain/pylon.yaml":
    "name: plain\ntrigger:\n  type: webhook\n  path: /plain\nagent:\n  prompt: hi\n",
  "pylons/tmpl/pylon.yaml": [
    "name: tmpl",
    "trigger:",
    "  type: webhook",
    "  path: /tmpl",
    "  when: '{{ toJson .body }}{{ .body }}'",
    "  dedupe: '{{ .body }}'",
    "  supersede: '{{ toJson .body.data }}'",
    "agent:",
    "  prompt: '{{ .body }}'",
    "channel:",
    "  topic: '{{ .body.data }}'",
    "  message: '{{ toJson .body }}'",
    "",
  ].join("\n"),
};

/** Sends `init` to `path` and fails on any 5xx, naming the request. */
async function expectNo5xx(d: TestDaemon, label: string, path: string, init: RequestInit = {}) {
  let res: Response;
  try {
    res = await d.api(path, init);
  } catch (e) {
    // A request the client itself refuses to send (an invalid header) is no finding.
    if (e instanceof TypeError && /header|URL/i.test(e.message)) return;
    throw new Error(`${label}: ${path}: ${e}`);
  }
  const text = await res.text();
  assert.ok(
    res.status < 500,
    `${label}: ${res.status} ${text.slice(0, 300)} ← ${init.method ?? "GET"} ${path.slice(0, 100)}`,
  );
}

Deno.test("no request to the daemon's routes answers 5xx", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "pylon-fuzz-" });
  await writeHome(root, PYLONS);
  const daemon = await startTestDaemon(root);
  try {
    await t.step("odd query strings on GET /api/jobs", async () => {
      const queries = [
        "status=",
        "status=queued,",
        "status=,",
        "status=,,,queued,,",
        "status=%00",
        "status=QUEUED",
        "status=queued&status=failed",
        "status=" + "x".repeat(5000),
        "limit=",
        "limit=abc",
        "limit=-1",
        "limit=1e400",
        "limit=0x10",
        "limit=%20",
        "pylon=",
        "pylon=%2F..%2F..",
        "pylon=" + "p".repeat(5000),
        "=&&=&status",
        "status=%zz",
        "%",
        "pylon=plain&status=running,queued&limit=1000",
      ];
      for (const q of queries) await expectNo5xx(daemon, "query", `/api/jobs?${q}`);
    });
    await t.step("odd ids and names on the control API", async () => {
      const ids = [
        "%00",
        "%zz",
        "%",
        "..",
        "%2e%2e",
        "x".repeat(8000),
        "ü",
        "a%2Fb",
        "*",
        "' OR 1=1 --",
      ];
      for (const id of ids) {
        await expectNo5xx(daemon, "id", `/api/jobs/${id}`);
        for (const action of ["approve", "ignore", "kill", "retry"]) {
          await expectNo5xx(daemon, "id", `/api/jobs/${id}/${action}`, { method: "POST" });
        }
        await expectNo5xx(daemon, "name", `/api/pylons/${id}/trigger`, { method: "POST" });
        await expectNo5xx(daemon, "name", `/api/pylons/${id}?force=1`, { method: "DELETE" });
      }
      for (const body of ["", "null", "[]", "1", "{", deepObject(100_000), deepArray(200_000)]) {
        await expectNo5xx(daemon, "trigger body", "/api/pylons/plain/trigger", {
          method: "POST",
          body,
        });
      }
    });
    await t.step("deep JSON to webhooks, with and without sender headers", async () => {
      const senders: Record<string, string>[] = [
        {},
        { "Sentry-Hook-Resource": "issue" },
        { "Sentry-Hook-Resource": "error" },
        { "Sentry-Hook-Resource": "event_alert" },
        { "Sentry-Hook-Resource": "comment" },
        { "X-Slack-Request-Timestamp": "1" },
        { "Stripe-Signature": "t=1,v1=00" },
        { "X-GitHub-Event": "issue_comment" },
      ];
      const bodies = [
        `{"action":"resolved","data":${deepObject(5000)}}`,
        `{"action":"created","data":${deepObject(100_000)}}`,
        `{"data":{"issue":${deepObject(50_000)}},"action":"resolved"}`,
        `{"type":"event_callback","object":"event","data":${deepArray(200_000)}}`,
        `{"comment":${deepObject(50_000)},"issue":${deepArray(50_000)}}`,
      ];
      for (const headers of senders) {
        for (const body of bodies) {
          for (const path of ["/plain", "/tmpl"]) {
            await expectNo5xx(daemon, `deep ${JSON.stringify(headers)}`, path, {
              method: "POST",
              headers: { "content-type": "application/json", ...headers },
              body,
            });
          }
        }
      }
      const form = new URLSearchParams({ payload: deepObject(50_000) }).toString();
      await expectNo5xx(daemon, "deep form", "/tmpl", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form,
      });
    });
    await t.step("odd paths, methods, bodies and headers", async () => {
      const paths = [
        "/",
        "//plain",
        "/plain/",
        "/plain//",
        "/plain/../plain",
        "/%zz",
        "/%",
        "/%00",
        "/" + "a".repeat(8000),
        "/plain?%zz",
        "/api",
        "/api/",
        "/metrics/x",
        "/healthz/",
      ];
      for (const path of paths) {
        for (const method of ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]) {
          await expectNo5xx(daemon, "path", path, {
            method,
            ...(method === "GET" ? {} : { body: "{}" }),
          });
        }
      }
      const bodies: BodyInit[] = [
        new Uint8Array([0xff, 0xfe, 0x00, 0x7b]),
        "\uFEFF{}",
        '{"a":1e999999}',
        '{"__proto__":{"x":1},"constructor":{"prototype":{}}}',
        '{"a":"\\ud800"}',
        " ".repeat(100_000) + "{}",
      ];
      for (const body of bodies) {
        await expectNo5xx(daemon, "body", "/tmpl", { method: "POST", body });
      }
      const big = "v".repeat(60_000);
      await expectNo5xx(daemon, "huge header", "/plain", {
        method: "POST",
        headers: { "x-huge": big, "content-type": big },
        body: "{}",
      });
      const many: Record<string, string> = {};
      for (let i = 0; i < 500; i++) many[`x-h${i}`] = "v".repeat(100);
      await expectNo5xx(daemon, "many headers", "/tmpl", {
        method: "POST",
        headers: many,
        body: "{}",
      });
      await expectNo5xx(daemon, "odd auth", "/api/jobs", { headers: { authorization: "Bearer " } });
    });
    await t.step("random JSON-ish bodies", async () => {
      const rand = prng(12);
      const atoms = [
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        '"a"',
        '"data"',
        '"action"',
        "1",
        "null",
        "true",
        '"\\u0000"',
        " ",
      ];
      for (let n = 0; n < 150; n++) {
        let body = '{"data":';
        const len = Math.floor(rand() * 200);
        for (let i = 0; i < len; i++) body += atoms[Math.floor(rand() * atoms.length)];
        await expectNo5xx(daemon, `random #${n}`, n % 2 ? "/tmpl" : "/plain", {
          method: "POST",
          headers: n % 3 === 0 ? { "Sentry-Hook-Resource": "issue" } : {},
          body,
        });
      }
    });
    assert.ok(
      !daemon.logs.some((l) => /event=http\.error/.test(l)),
      "an internal error was logged",
    );
  } finally {
    await daemon.stop();
    await Deno.remove(root, { recursive: true });
  }
});
