/// <reference lib="dom" />
/// <reference lib="deno.ns" />
/**
 * A dashboard page opened while every event-stream slot is taken (the daemon answers its
 * stream 429) goes live by itself once a slot frees: a browser's EventSource gives up for good
 * on an answer that is not a stream, so the page opens a new one, from the last event it saw.
 */

import { join } from "node:path";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import {
  browserMissing,
  closeBrowser,
  launchBrowser,
  loggedInPage,
  sendWebhook,
  steeredRunner,
} from "./_browser.ts";

const missing = browserMissing();
if (missing) {
  // deno-lint-ignore no-console
  console.warn(
    `dashboard reconnect test skipped: ${missing}; PYLON_REQUIRE_BROWSER=1 fails instead`,
  );
}

Deno.test({
  name: "a jobs page refused an event stream goes live once a slot is free, without a reload",
  ignore: missing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "pylon-dash-reconnect-" });
    await writeHome(root, {
      "pylons/hooks/pylon.yaml":
        "name: hooks\ntrigger:\n  type: webhook\n  path: /hooks\nagent:\n  prompt: p\n",
      // 4 connections: one of them may be an event stream.
      "config.yaml": "server:\n  max_connections: 4\n",
    });
    let jobsDir = join(root, "jobs");
    const daemon = await startTestDaemon(root, { runner: steeredRunner(() => jobsDir) });
    jobsDir = daemon.paths.jobsDir;
    const held = new AbortController();
    const browser = await launchBrowser();
    try {
      // Someone else holds the only stream slot.
      const stream = await daemon.api("/api/events?kinds=job", { signal: held.signal });
      if (stream.status !== 200) throw new Error(`holding the stream: ${stream.status}`);
      const page = await loggedInPage(browser, daemon);
      await page.goto(`${daemon.url}/dashboard/jobs`);
      await page.waitForFunction(() =>
        document.getElementById("live")?.textContent === "reconnecting"
      );
      await page.evaluate(() => (window as unknown as { stayed: number }).stayed = 1);

      held.abort();
      await stream.body?.cancel().catch(() => {});
      await page.waitForFunction(
        () => document.getElementById("live")?.textContent === "live",
        { timeout: 20_000 },
      );
      const id = await sendWebhook(daemon, "/hooks", { n: 1 });
      await page.waitForSelector(`tr[data-job-id="${id}"]`);
      // The row came through the stream: the page was never reloaded.
      await page.waitForFunction(() => (window as unknown as { stayed?: number }).stayed === 1);
    } finally {
      held.abort();
      await closeBrowser(browser);
      await daemon.stop();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
