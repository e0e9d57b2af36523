/**
 * The event stream and the dashboard attacked the way a stranger (or a logged-out browser)
 * would: thousands of event streams must not stop the daemon answering webhooks (nor
 * `pylon logs -f` printing), a stream opened with a dashboard session ends when the session
 * does (revoke-all, logout), a payload nested too deep to indent does not break its job's page,
 * and strangers guessing login codes from many addresses do not lock the operator out.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogsCommand } from "../../src/cli/commands/logs.ts";
import { parseCommandArgs } from "../../src/cli/main.ts";
import { createDashboardRoutes } from "../../src/daemon/dashboard/routes.ts";
import { SessionStore } from "../../src/daemon/dashboard/sessions.ts";
import { createLogger } from "../../src/log/mod.ts";
import { createTestContext } from "../_helpers/cli.ts";
import { eventually, startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";
import { loginLink, sendWebhook, steeredRunner } from "../dashboard/_browser.ts";

const HOOKS = "name: hooks\ntrigger:\n  type: webhook\n  path: /hooks\nagent:\n  prompt: p\n";

/** A daemon with one webhook pylon and a steered runner; `config` is its config.yaml. */
async function start(config = ""): Promise<TestDaemon> {
  const root = await Deno.makeTempDir({ prefix: "pylon-sec-events-" });
  await writeHome(root, {
    "pylons/hooks/pylon.yaml": HOOKS,
    ...(config ? { "config.yaml": config } : {}),
  });
  let jobsDir = join(root, "jobs");
  const daemon = await startTestDaemon(root, { runner: steeredRunner(() => jobsDir) });
  jobsDir = daemon.paths.jobsDir;
  return daemon;
}

/** Logs in through a one-time link: the cookie header and the page's CSRF token. */
async function login(daemon: TestDaemon): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(await loginLink(daemon), { redirect: "manual" });
  await res.body?.cancel();
  const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  const page = await (await fetch(`${daemon.url}/dashboard/`, { headers: { cookie } })).text();
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)![1]! };
}

/** Reads a stream until it ends; throws if it is still open after `ms`. */
async function ended(reader: ReadableStreamDefaultReader<Uint8Array>, ms = 10_000) {
  const deadline = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`the stream is still open after ${ms} ms`)), ms)
  );
  let text = "";
  while (true) {
    const { done, value } = await Promise.race([reader.read(), deadline]);
    if (done) return text;
    text += new TextDecoder().decode(value);
  }
}

Deno.test("event streams cannot take every connection: webhooks are still answered", async () => {
  // 16 connections: a quarter (4) may be event streams. The probe held 10,000 streams against
  // the default 4,096 connections, and every webhook after them waited in the kernel's backlog.
  const daemon = await start("server:\n  max_connections: 16\n");
  const port = Number(new URL(daemon.url).port);
  const conns: Deno.TcpConn[] = [];
  try {
    const request = new TextEncoder().encode(
      `GET /api/events?kinds=job HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Authorization: Bearer ${daemon.token}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    for (let i = 0; i < 40; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      await conn.write(request);
    }
    const res = await fetch(`${daemon.url}/hooks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ n: 1 }),
      signal: AbortSignal.timeout(20_000),
    });
    assert.equal(res.status, 202, await res.text());
    const health = await fetch(`${daemon.url}/healthz`, { signal: AbortSignal.timeout(20_000) });
    assert.equal(health.status, 200);
    await health.body?.cancel();
    // Four streams were served; the others were told to come back later (and, idle then,
    // made room for the webhook).
    const statuses: string[] = [];
    for (const conn of conns) {
      const buf = new Uint8Array(64);
      const n = await Promise.race([
        conn.read(buf).catch(() => null),
        new Promise<null>((r) => setTimeout(() => r(null), 2000)),
      ]);
      statuses.push(n ? new TextDecoder().decode(buf.subarray(0, n)).split("\r\n")[0]! : "none");
    }
    assert.equal(statuses.filter((s) => s.includes(" 200")).length, 4, statuses.join(" | "));
    assert.ok(statuses.filter((s) => s.includes(" 429")).length >= 30, statuses.join(" | "));
    assert.ok(daemon.logs.some((l) => l.includes("event=events.streams_full")));
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed by the daemon */ }
    }
    await daemon.stop();
  }
});

Deno.test("pylon logs -f still prints a job's log when every event stream is taken", async () => {
  await using ctx = await createTestContext();
  // 4 connections: one event stream, held below by someone else.
  await writeHome(ctx.paths.root, {
    "pylons/hooks/pylon.yaml": HOOKS,
    "config.yaml": "server:\n  max_connections: 4\n",
  });
  const runner = steeredRunner(() => ctx.paths.jobsDir);
  const daemon = await startTestDaemon(ctx.paths.root, { runner });
  const held = new AbortController();
  try {
    const id = await sendWebhook(daemon, "/hooks", { n: 1 });
    await eventually(() => Promise.resolve(runner.running.has(id)));
    await runner.say(id, "the line to see");
    runner.finish(id, "done");
    await eventually(async () =>
      (await (await daemon.api(`/api/jobs/${id}`)).json()).status === "completed"
    );
    const stream = await daemon.api("/api/events?kinds=job", { signal: held.signal });
    assert.equal(stream.status, 200);
    const full = await daemon.api(`/api/events?job=${id}`);
    assert.equal(full.status, 429);
    await full.body?.cancel();

    const logs = createLogsCommand({
      docker: () => {
        throw new Error("a finished job's log is in its file");
      },
    });
    const code = await logs.run(parseCommandArgs(logs, [id.slice(0, 8), "-f"]), ctx);
    assert.equal(code, 0, ctx.stderr());
    assert.match(ctx.stdout(), /the line to see/);
  } finally {
    held.abort();
    await daemon.stop();
  }
});

Deno.test("a stream opened with a dashboard session ends when the session ends", async () => {
  const daemon = await start();
  try {
    const open = async (cookie: string) => {
      const res = await fetch(`${daemon.url}/api/events?kinds=job`, { headers: { cookie } });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      assert.match(first, /retry:/);
      return reader;
    };
    const kept = await login(daemon);
    const keptStream = await open(kept.cookie);

    // Logout ends the browser's own open stream (a second tab's, say).
    const a = await login(daemon);
    const aStream = await open(a.cookie);
    const out = await fetch(`${daemon.url}/dashboard/logout`, {
      method: "POST",
      headers: {
        cookie: a.cookie,
        origin: daemon.url,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: `_csrf=${encodeURIComponent(a.csrf)}`,
      redirect: "manual",
    });
    await out.body?.cancel();
    assert.ok(out.status < 400, `logout answered ${out.status}`);
    await ended(aStream);

    // `pylon dashboard --revoke-all` ends a stolen session's open stream, and every other one.
    const b = await login(daemon);
    const bStream = await open(b.cookie);
    const id = await sendWebhook(daemon, "/hooks", { n: 1 });
    let keptSeen = "";
    while (!keptSeen.includes(id)) {
      keptSeen += new TextDecoder().decode((await keptStream.read()).value);
    }
    const revoked = await daemon.api("/api/dashboard/sessions/revoke-all", { method: "POST" });
    assert.equal(revoked.status, 200);
    await revoked.body?.cancel();
    await ended(bStream);
    await ended(keptStream);
    const again = await fetch(`${daemon.url}/api/events?kinds=job`, {
      headers: { cookie: b.cookie },
    });
    assert.equal(again.status, 401);
    await again.body?.cancel();
  } finally {
    await daemon.stop();
  }
});

Deno.test("a payload nested too deep to indent still shows its job's page", async () => {
  const daemon = await start();
  try {
    // Indenting overflows the stack long before the compact form does; 600 KB (under
    // server.max_body) holds 100,000 levels.
    const body = '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000);
    const res = await fetch(`${daemon.url}/hooks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 202);
    const { job_id: id } = await res.json() as { job_id: string };
    const { cookie } = await login(daemon);
    const page = await fetch(`${daemon.url}/dashboard/jobs/${id}`, { headers: { cookie } });
    const html = await page.text();
    assert.equal(page.status, 200, html.slice(0, 200));
    assert.match(html, /Payload \(\d+ characters\)/);
    assert.match(html, /\{&quot;a&quot;:\{&quot;a&quot;:/);
  } finally {
    await daemon.stop();
  }
});

Deno.test("guesses from many addresses do not lock the operator's login link out", async () => {
  const sessions = new SessionStore();
  const logs: string[] = [];
  const app = createDashboardRoutes({
    sessions,
    fetchApp: () => Promise.reject(new Error("login needs no API call")),
    log: createLogger({ write: (l) => logs.push(l), level: "debug" }),
    loginLimits: { perKey: 3, overall: 6 },
  });
  const login = (code: string, address: string) =>
    app.request(`/dashboard/login?code=${code}`, {}, { remoteAddr: { hostname: address } });
  const guess = "g".repeat(43);
  // Three strangers use up everyone's limit (6), and keep guessing.
  const strangers: number[] = [];
  for (let round = 0; round < 4; round++) {
    for (const address of ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) {
      strangers.push((await login(guess, address)).status);
    }
  }
  assert.deepEqual(strangers.filter((s) => s === 401).length, 6);
  assert.ok(strangers.slice(6).every((s) => s === 429), strangers.join(" "));
  // The operator's real link still logs in; a wrong one from the operator is limited.
  const { code } = await sessions.mintCode();
  const ok = await login(code, "127.0.0.1");
  assert.equal(ok.status, 303);
  assert.match(ok.headers.get("set-cookie") ?? "", /pylon_session=/);
  assert.equal((await login(guess, "127.0.0.1")).status, 429);
  // A stranger over its own limit gets nothing, even with a real code (it cannot have one).
  const second = (await sessions.mintCode()).code;
  assert.equal((await login(second, "203.0.113.1")).status, 429);
});
