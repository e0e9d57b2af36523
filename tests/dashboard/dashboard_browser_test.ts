/// <reference lib="dom" />
/// <reference lib="deno.ns" />
/**
 * The dashboard in a real headless Chromium against a real daemon on loopback: login through a
 * one-time link (which works once), live job rows and log lines, approve and kill from the page,
 * hostile payloads and results rendered inert, no page or API call without the session, a
 * cross-site form post refused, and logout.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Browser, Page } from "puppeteer-core";
import { eventually, type TestDaemon } from "../_helpers/daemon.ts";
import {
  browserMissing,
  closeBrowser,
  launchBrowser,
  loggedInPage,
  loginLink,
  sendWebhook,
  startDashboardDaemon,
  type SteeredRunner,
} from "./_browser.ts";

const missing = browserMissing();
if (missing) {
  // deno-lint-ignore no-console
  console.warn(
    `dashboard browser tests skipped: ${missing}; PYLON_REQUIRE_BROWSER=1 fails instead`,
  );
}

/** The text of a job's status badge on its page. */
async function badge(page: Page): Promise<string> {
  return await page.$eval("h1 .badge", (e) => e.textContent ?? "");
}

/** Waits (reloads allowed) until the job page's badge reads `status`. */
async function waitForStatus(page: Page, status: string): Promise<void> {
  await page.waitForFunction(
    (s) => document.querySelector("h1 .badge")?.textContent?.startsWith(s) === true,
    { timeout: 10_000 },
    status,
  );
}

Deno.test({
  name: "dashboard in Chromium: login, live updates, actions, escaping and access control",
  ignore: missing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { daemon, runner, root } = await startDashboardDaemon();
    const browser = await launchBrowser();
    try {
      await steps(t, daemon, runner, browser);
    } finally {
      await closeBrowser(browser);
      await daemon.stop();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});

async function steps(
  t: Deno.TestContext,
  daemon: TestDaemon,
  runner: SteeredRunner,
  browser: Browser,
): Promise<void> {
  const page = await loggedInPage(browser, daemon);

  await t.step("the one-time link logs in and lands on the pylons page", async () => {
    assert.equal(new URL(page.url()).pathname, "/dashboard/");
    assert.equal(await page.$eval("h1", (e) => e.textContent), "Pylons");
    const names = await page.$$eval(
      "[data-pylon-card]",
      (els) => els.map((e) => e.getAttribute("data-pylon-card")),
    );
    assert.deepEqual(names, ["gated", "hooks", "nightly"]);
    const cookies = await page.browserContext().cookies();
    const session = cookies.find((c) => c.name === "pylon_session");
    assert.ok(session?.httpOnly, "the session cookie is HttpOnly");
    assert.equal(session.sameSite, "Lax");
    assert.equal(await page.evaluate(() => document.cookie), "", "scripts cannot read it");
  });

  await t.step("a used code does not log in again", async () => {
    const link = await loginLink(daemon);
    const first = await fetch(link, { redirect: "manual" });
    await first.body?.cancel();
    assert.equal(first.status, 303);
    const context = await browser.createBrowserContext();
    const other = await context.newPage();
    const res = await other.goto(link);
    assert.equal(res?.status(), 401);
    assert.match(await other.$eval("h1", (e) => e.textContent ?? ""), /does not work/);
    const again = await other.goto(`${daemon.url}/dashboard/jobs`);
    assert.equal(again?.status(), 401);
    await context.close();
  });

  let liveJob = "";
  await t.step("a webhook job appears on the jobs page without a reload", async () => {
    await page.goto(`${daemon.url}/dashboard/jobs`);
    await page.waitForFunction(() => document.getElementById("live")?.textContent === "live");
    await page.evaluate(() => (window as unknown as { stayed: number }).stayed = 1);
    liveJob = await sendWebhook(daemon, "/hooks", { title: "first" });
    await page.waitForSelector(`tr[data-job-id="${liveJob}"]`);
    await page.waitForFunction(
      (id) =>
        document.querySelector(`tr[data-job-id="${id}"] [data-col=status]`)?.textContent ===
          "running",
      {},
      liveJob,
    );
    assert.equal(await page.evaluate(() => (window as unknown as { stayed?: number }).stayed), 1);
  });

  await t.step("its log lines stream onto its page, colours kept", async () => {
    await page.click(`tr[data-job-id="${liveJob}"] a.mono`);
    await page.waitForSelector("#log");
    assert.equal(await badge(page), "running");
    await eventually(() => Promise.resolve(runner.running.has(liveJob)));
    await runner.say(liveJob, "step \x1b[31mone\x1b[0m <done>");
    await page.waitForFunction(() =>
      document.getElementById("log")?.textContent?.includes("one <done>")
    );
    assert.equal(await page.$eval("#log .a-f1", (e) => e.textContent), "one");
    await runner.say(liveJob, "step two\x1b]0;evil title\x07!");
    await page.waitForFunction(() =>
      document.getElementById("log")?.textContent?.includes("step two!")
    );
    assert.notEqual(await page.title(), "evil title");
    // Tool events the agent writes show as they happen, as text.
    const out = join(daemon.paths.jobsDir, liveJob, "out");
    await Deno.mkdir(out, { recursive: true });
    await Deno.writeTextFile(
      join(out, "events.ndjson"),
      JSON.stringify({ tool: "Bash", summary: "deno test" }) + "\n" +
        JSON.stringify({ tool: "<img src=x onerror=alert(1)>", summary: "\x1b]0;t\x07ok" }) + "\n",
    );
    await page.waitForFunction(() => document.querySelectorAll("#tools li").length === 2);
    assert.deepEqual(
      await page.$$eval("#tools li", (lis) => lis.map((li) => li.textContent?.trim())),
      ["Bash deno test", "<img src=x onerror=alert(1)> ok"],
    );
    assert.equal(await page.$("#tools img"), null);
    // Opened afterwards, the page shows each once (the stream's replay adds nothing).
    await page.reload();
    await page.waitForFunction(() => document.getElementById("live")?.textContent === "live");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await page.$$("#tools li")).length, 2);
    runner.finish(liveJob, "## All good\n\nSee [the docs](https://example.com/docs).");
    await waitForStatus(page, "completed");
    assert.equal(await page.$eval("#result h2", (e) => e.textContent), "All good");
    assert.equal(
      await page.$eval("#result a", (e) => e.getAttribute("rel")),
      "noopener noreferrer nofollow",
    );
  });

  await t.step("approving a job from needs-you lets it run", async () => {
    const id = await sendWebhook(daemon, "/gated", { title: "needs a yes" });
    await page.goto(`${daemon.url}/dashboard/needs-you`);
    const item = `[data-needs-job="${id}"]`;
    await page.waitForSelector(item);
    assert.deepEqual(
      await page.$$eval(`${item} button[data-action]`, (bs) => bs.map((b) => b.textContent)),
      ["Approve", "Ignore", "Cancel"],
    );
    await Promise.all([
      page.waitForNavigation(),
      page.click(`${item} button[data-action="approve"]`),
    ]);
    assert.equal(new URL(page.url()).pathname, "/dashboard/needs-you");
    assert.equal(await page.$(item), null, "an approved job no longer waits");
    await page.goto(`${daemon.url}/dashboard/jobs/${id}`);
    await waitForStatus(page, "running");
    runner.finish(id, "approved and done");
    await waitForStatus(page, "completed");
    assert.match(await page.$eval("#result", (e) => e.textContent ?? ""), /approved and done/);
  });

  await t.step("with scripts off, the buttons still work (forms)", async () => {
    const id = await sendWebhook(daemon, "/gated", { title: "no js" });
    const plain = await loggedInPage(browser, daemon);
    await plain.setJavaScriptEnabled(false);
    await plain.goto(`${daemon.url}/dashboard/jobs/${id}`);
    assert.equal(await badge(plain), "awaiting_approval");
    await Promise.all([plain.waitForNavigation(), plain.click('button[data-action="ignore"]')]);
    assert.equal(await badge(plain), "dismissed");
    assert.match(await plain.$eval(".notice", (e) => e.textContent ?? ""), /Done \(ignore\)/);
    await plain.browserContext().close();
  });

  await t.step("killing a running job from its page", async () => {
    const id = await sendWebhook(daemon, "/hooks", { title: "long" });
    await eventually(() => Promise.resolve(runner.running.has(id)));
    await page.goto(`${daemon.url}/dashboard/jobs/${id}`);
    page.once("dialog", (d) => void d.accept());
    await Promise.all([page.waitForNavigation(), page.click('button[data-action="kill"]')]);
    await waitForStatus(page, "killed");
    // Killed before its agent reported a session: nothing to resume, so no box to ask in.
    assert.equal(await page.$("textarea[name=message]"), null);
    assert.match(
      await page.$eval("[data-no-follow-up]", (e) => e.textContent ?? ""),
      /no session to resume/,
    );

    // Retry on the killed job's page runs it again as a new job, shown at once.
    await Promise.all([page.waitForNavigation(), page.click('button[data-action="retry"]')]);
    const retried = new URL(page.url()).pathname.split("/").pop()!;
    assert.notEqual(retried, id);
    await eventually(() => Promise.resolve(runner.running.has(retried)));
    const job = await (await daemon.api(`/api/jobs/${retried}`)).json();
    assert.equal(job.trigger, "retry");
    assert.equal(job.parent_id, id);
    runner.finish(retried, "retried and done");
    await waitForStatus(page, "completed");
  });

  await t.step("Run now starts a job with the payload typed in", async () => {
    await page.goto(`${daemon.url}/dashboard/`);
    const card = '[data-pylon-card="hooks"]';
    await page.click(`${card} details summary`);
    // Not JSON: said at once, on the page, with what was typed kept.
    const payload = `${card} textarea[name=payload]`;
    await page.type(payload, '{"title": by hand}');
    await page.click(`${card} details button`);
    assert.equal(new URL(page.url()).pathname, "/dashboard/");
    assert.equal(
      await page.$eval(payload, (e) => (e as HTMLTextAreaElement).value),
      '{"title": by hand}',
    );
    assert.match(
      await page.$eval(payload, (e) => (e as HTMLTextAreaElement).validationMessage),
      /not valid JSON/,
    );
    await page.$eval(payload, (e) => (e as HTMLTextAreaElement).value = "");
    await page.type(payload, '{"title": "by hand"}');
    await Promise.all([page.waitForNavigation(), page.click(`${card} details button`)]);
    assert.match(new URL(page.url()).pathname, /^\/dashboard\/jobs\/[0-9a-f-]{36}$/);
    const id = new URL(page.url()).pathname.split("/").pop()!;
    await eventually(() => Promise.resolve(runner.running.has(id)));
    const job = await (await daemon.api(`/api/jobs/${id}`)).json();
    assert.equal(job.trigger, "manual");
    assert.deepEqual(job.payload, { title: "by hand" });
    runner.finish(id, "manual run done");
    await waitForStatus(page, "completed");
  });

  await t.step("a job links to its pull request; a javascript: URL is not a link", async () => {
    const pr = "https://github.com/acme/shop/pull/7";
    const id = await sendWebhook(daemon, "/hooks", {
      title: "review",
      "pull_request": { "html_url": pr },
      issue: { "html_url": "javascript:alert(1)" },
    });
    await page.goto(`${daemon.url}/dashboard/jobs/${id}`);
    const links = await page.$$eval(
      "dd a[rel]",
      (as) => as.map((a) => ({ href: a.getAttribute("href"), rel: a.getAttribute("rel") })),
    );
    assert.deepEqual(links.filter((l) => l.href?.includes("github")), [{
      href: pr,
      rel: "noopener noreferrer",
    }]);
    assert.equal(await page.$("a[href^='javascript']"), null);
    await eventually(() => Promise.resolve(runner.running.has(id)));
    runner.finish(id, "reviewed");
  });

  await t.step(
    "jobs filter by trigger kind and text; a cron pylon counts down in its zone",
    async () => {
      await page.goto(`${daemon.url}/dashboard/jobs`);
      await page.select("form.filters select[name=trigger]", "manual");
      await Promise.all([page.waitForNavigation(), page.click("form.filters button[type=submit]")]);
      const manual = await page.$$eval(
        "tr[data-job-id] td:nth-child(4)",
        (tds) => tds.map((td) => td.textContent?.trim()),
      );
      assert.ok(
        manual.length >= 1 && manual.every((t) => t === "manual"),
        String(manual),
      );
      // Text matches ids, pylons, results and errors: the result of the Run now job above.
      await page.goto(`${daemon.url}/dashboard/jobs?q=${encodeURIComponent("MANUAL run done")}`);
      const found = await page.$$eval(
        "tr[data-job-id] td:nth-child(4)",
        (tds) => tds.map((td) => td.textContent?.trim()),
      );
      assert.deepEqual(found, ["manual"]);

      await page.goto(`${daemon.url}/dashboard/pylons/nightly`);
      const next = await page.$eval("time[datetime]", (e) => e.textContent ?? "");
      assert.match(next, /^\w{3} \d{1,2} \w{3}, 03:00 UTC$/);
      const first = await page.$eval("[data-countdown]", (e) => e.textContent ?? "");
      assert.match(first, /^in \d+(h \d+m|m \d+s|s)$/);

      // Disable, then enable: the file says so, and the daemon stops, then resumes, serving it.
      const card = '[data-pylon-card="nightly"]';
      await Promise.all([page.waitForNavigation(), page.click(`${card} .actions button`)]);
      assert.match(await page.$eval(`${card} .badge`, (e) => e.textContent ?? ""), /disabled/);
      const yaml = await Deno.readTextFile(daemon.paths.pylonConfig("nightly"));
      assert.match(yaml, /^disabled: true$/m);
      await Promise.all([page.waitForNavigation(), page.click(`${card} .actions button`)]);
      assert.match(await page.$eval(`${card} .badge`, (e) => e.textContent ?? ""), /active/);
    },
  );

  await t.step("a follow-up asked on the page runs and shows as a conversation", async () => {
    await page.goto(`${daemon.url}/dashboard/jobs/${liveJob}`);
    await page.type("textarea[name=message]", "And the <other> file?");
    await Promise.all([page.waitForNavigation(), page.click("form[action$=follow-up] button")]);
    const id = new URL(page.url()).pathname.split("/").pop()!;
    assert.notEqual(id, liveJob);
    await eventually(() => Promise.resolve(runner.running.has(id)));
    runner.finish(id, "The **other** file is fine.");
    await waitForStatus(page, "completed");
    await page.goto(`${daemon.url}/dashboard/jobs/${liveJob}`);
    const conv = await page.$eval(".conv", (e) => e.textContent ?? "");
    assert.match(conv, /And the <other> file\?/);
    assert.match(conv, /The other file is fine\./);
  });

  await t.step("a tool call is allowed from needs-you and denied from the job page", async () => {
    const id = await sendWebhook(daemon, "/hooks", { title: "tools" });
    await eventually(() => Promise.resolve(runner.running.has(id)));
    const command = `ls -la <img src=x onerror="window.pwned='tool'"> **not bold**`;
    const allowed = await runner.askTool(id, "c1", "Bash", { command });
    const pending = async (call: string) => {
      const list = await (await daemon.api(`/api/jobs/${id}/tool-calls`)).json();
      return Array.isArray(list) && list.some((c: { call_id: string }) => c.call_id === call);
    };
    await eventually(() => pending("c1"));
    await page.goto(`${daemon.url}/dashboard/needs-you`);
    const call = '[data-call-id="c1"]';
    assert.match(await page.$eval(call, (e) => e.textContent ?? ""), /Bash/);
    // The summary is Markdown, shown rendered: the command in a code block, inert.
    assert.equal(await page.$eval(`${call} pre code`, (e) => e.textContent?.trim()), command);
    const shown = await page.$eval(call, (e) => e.textContent ?? "");
    assert.ok(!shown.includes("```") && !shown.includes("**Bash**"), shown);
    assert.equal(await page.$$eval(`${call} img`, (l) => l.length), 0);
    assert.equal(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned), undefined);
    await Promise.all([page.waitForNavigation(), page.click(`${call} button[data-action=allow]`)]);
    assert.match(await page.$eval(".notice", (e) => e.textContent ?? ""), /allowed/);
    assert.equal(JSON.parse(await Deno.readTextFile(allowed)).decision, "allow");
    await daemon.waitForLog(/event=tool_approval.decided .*call=c1 .*via=dashboard/);

    const denied = await runner.askTool(id, "c2", "Bash", { command: "rm -rf /" });
    await eventually(() => pending("c2"));
    await page.goto(`${daemon.url}/dashboard/jobs/${id}`);
    await Promise.all([
      page.waitForNavigation(),
      page.click('[data-call-id="c2"] button[data-action=deny]'),
    ]);
    assert.equal(JSON.parse(await Deno.readTextFile(denied)).decision, "deny");
    runner.finish(id, "tools done");
  });

  await t.step("hostile payloads and results render inert", async () => {
    const evil = {
      title: '<script>window.pwned = "payload"</script>',
      link: "javascript:window.pwned='href'",
      html: "<img src=x onerror=\"window.pwned='img'\">",
    };
    const id = await sendWebhook(daemon, "/hooks", evil);
    await eventually(() => Promise.resolve(runner.running.has(id)));
    await runner.say(id, '<script>window.pwned="log"</script><img src=x onerror="window.pwned=1">');
    runner.finish(
      id,
      [
        "# Result <script>window.pwned='md'</script>",
        "",
        "[click](javascript:window.pwned='link') [also](JAVA\tSCRIPT:window.pwned=2)",
        '<a href="javascript:window.pwned=3">raw link</a>',
        "<img src=x onerror=\"window.pwned='mdimg'\">",
        "![pic](javascript:window.pwned=4)",
        '<iframe src="javascript:window.pwned=5"></iframe>',
      ].join("\n"),
    );
    await eventually(async () => {
      const res = await daemon.api(`/api/jobs/${id}`);
      return (await res.json()).status === "completed";
    });
    await page.goto(`${daemon.url}/dashboard/jobs/${id}`);
    await page.waitForFunction(() => document.getElementById("live")?.textContent === "live");
    await page.click("details summary"); // open the payload
    const found = await page.evaluate(() => ({
      pwned: (window as unknown as { pwned?: unknown }).pwned,
      jsLinks: [...document.querySelectorAll("[href],[src]")].filter((e) =>
        /^\s*javascript:/i.test(e.getAttribute("href") ?? e.getAttribute("src") ?? "")
      ).length,
      scripts: document.querySelectorAll("main script").length,
      handlers: [...document.querySelectorAll("main *")].filter((e) =>
        [...e.attributes].some((a) =>
          a.name.startsWith("on")
        )
      ).length,
      iframes: document.querySelectorAll("iframe").length,
      payload: document.getElementById("payload")?.textContent ?? "",
      result: document.getElementById("result")?.textContent ?? "",
    }));
    assert.equal(found.pwned, undefined, "no script ran");
    assert.equal(found.jsLinks, 0, "no javascript: link or source");
    assert.equal(found.scripts, 0);
    assert.equal(found.handlers, 0);
    assert.equal(found.iframes, 0);
    assert.match(found.payload, /<script>window\.pwned = \\"payload\\"<\/script>/, "shown as text");
    assert.match(found.result, /<script>window.pwned='md'<\/script>/, "shown as text");
  });

  await t.step("a pylon is deleted from its page only after typing its name", async () => {
    const folder = daemon.paths.pylonDir("nightly");
    await page.goto(`${daemon.url}/dashboard/pylons/nightly`);
    await page.click(".danger-zone summary");
    await page.type(".danger-zone input[name=confirm]", "nightl");
    await Promise.all([page.waitForNavigation(), page.click(".danger-zone button")]);
    assert.match(await page.$eval(".notice", (e) => e.textContent ?? ""), /type the pylon's name/);
    assert.ok((await Deno.stat(folder)).isDirectory, "a wrong name deletes nothing");

    await page.click(".danger-zone summary");
    await page.type(".danger-zone input[name=confirm]", "nightly");
    await Promise.all([page.waitForNavigation(), page.click(".danger-zone button")]);
    assert.equal(new URL(page.url()).pathname, "/dashboard/");
    assert.match(await page.$eval(".notice", (e) => e.textContent ?? ""), /Pylon nightly deleted/);
    assert.equal(await page.$('[data-pylon-card="nightly"]'), null);
    await assert.rejects(() => Deno.stat(folder), Deno.errors.NotFound);
  });

  await t.step("no page or API call works without the session", async () => {
    const context = await browser.createBrowserContext();
    const stranger = await context.newPage();
    for (
      const path of [
        "/dashboard/",
        "/dashboard/jobs",
        `/dashboard/jobs/${liveJob}`,
        "/dashboard/needs-you",
      ]
    ) {
      const res = await stranger.goto(daemon.url + path);
      assert.equal(res?.status(), 401, path);
      assert.doesNotMatch(await stranger.content(), new RegExp(liveJob.slice(0, 8)), path);
    }
    const api = await stranger.evaluate(async (id) => {
      const list = await fetch("/api/jobs");
      const kill = await fetch(`/api/jobs/${id}/retry`, { method: "POST" });
      const events = await fetch("/api/events");
      return [list.status, kill.status, events.status];
    }, liveJob);
    assert.deepEqual(api, [401, 401, 401]);
    await context.close();
  });

  await t.step("a cross-site form post is refused", async () => {
    const id = await sendWebhook(daemon, "/hooks", { title: "victim" });
    await eventually(() => Promise.resolve(runner.running.has(id)));
    const { url: evilUrl, close } = serveEvilSite(daemon.url, id);
    try {
      for (const target of ["form-api", "form-dashboard"]) {
        const res = await page.goto(`${evilUrl}/${target}`);
        assert.ok(res);
        await page.waitForFunction(() => document.body?.textContent?.includes("error") ?? false);
        assert.equal(new URL(page.url()).origin, daemon.url);
        assert.match(await page.content(), /cross-site request is not accepted/);
      }
      const job = await (await daemon.api(`/api/jobs/${id}`)).json();
      assert.equal(job.status, "running", "the job was not killed");
      const fetched = await page.goto(`${evilUrl}/fetch`);
      assert.ok(fetched);
      await page.waitForFunction(() => document.title.startsWith("done"));
      assert.equal(await page.title(), "done 0", "a cross-origin fetch gets nothing back");
    } finally {
      await close();
      runner.finish(id, "fine");
    }
  });

  await t.step("jobs filter by pylon and status and page on, keeping the filters", async () => {
    const waiting: string[] = [];
    for (let i = 0; i < 27; i++) waiting.push(await sendWebhook(daemon, "/gated", { n: i }));
    await sendWebhook(daemon, "/hooks", { title: "not gated" }).then((id) =>
      eventually(() => Promise.resolve(runner.running.has(id))).then(() => runner.finish(id, "x"))
    );
    await page.goto(`${daemon.url}/dashboard/jobs`);
    await page.select("form.filters select[name=pylon]", "gated");
    await page.select("form.filters select[name=status]", "awaiting_approval");
    await Promise.all([page.waitForNavigation(), page.click("form.filters button[type=submit]")]);
    const rows = () =>
      page.$$eval("tr[data-job-id]", (trs) =>
        trs.map((tr) => ({
          id: tr.getAttribute("data-job-id"),
          pylon: tr.querySelector("td:nth-child(2)")?.textContent?.trim(),
          status: tr.querySelector("[data-col=status]")?.textContent?.trim(),
        })));
    const first = await rows();
    assert.equal(first.length, 25, "25 a page");
    assert.deepEqual(first.map((r) => r.id), waiting.slice(2).reverse(), "newest first");
    assert.ok(first.every((r) => r.pylon === "gated" && r.status === "awaiting_approval"));
    await Promise.all([page.waitForNavigation(), page.click(".pager a[rel=next]")]);
    const query = new URL(page.url()).searchParams;
    assert.equal(query.get("pylon"), "gated");
    assert.equal(query.get("status"), "awaiting_approval");
    assert.deepEqual((await rows()).map((r) => r.id), [waiting[1], waiting[0]]);
    assert.equal(await page.$(".pager a[rel=next]"), null, "no page after the last");
    await Promise.all([page.waitForNavigation(), page.click(".pager a:not([rel])")]);
    assert.deepEqual((await rows()).map((r) => r.id), waiting.slice(2).reverse());
  });

  await t.step("logging out ends the session", async () => {
    await page.goto(`${daemon.url}/dashboard/`);
    await Promise.all([page.waitForNavigation(), page.click("header form button")]);
    const res = await page.goto(`${daemon.url}/dashboard/jobs`);
    assert.equal(res?.status(), 401);
  });
}

/** Another origin (loopback, another port: same site, so Lax cookies go along) with attacks. */
function serveEvilSite(daemon: string, job: string): { url: string; close(): Promise<void> } {
  const form = (action: string) =>
    `<!doctype html><body><form id="f" method="post" action="${action}">` +
    `<input name="job" value="${job}"><input name="_csrf" value="guess"></form>` +
    `<script>document.getElementById("f").submit()</script></body>`;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    const html = (body: string) => new Response(body, { headers: { "content-type": "text/html" } });
    if (path === "/form-api") return html(form(`${daemon}/api/jobs/${job}/kill`));
    if (path === "/form-dashboard") return html(form(`${daemon}/dashboard/act/kill`));
    return html(
      `<!doctype html><script>fetch("${daemon}/api/jobs", {credentials: "include"})` +
        `.then(r => r.text()).then(t => document.title = "done " + t.length)` +
        `.catch(() => document.title = "done 0")</script>`,
    );
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}
