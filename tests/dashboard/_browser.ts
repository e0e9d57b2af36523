/**
 * A real headless Chromium (Debian's `/usr/bin/chromium`) driven by `puppeteer-core`, one per
 * test file, and a daemon prepared for dashboard tests: pylons, a runner the test steers (log
 * lines on demand, a gate, kill), and a logged-in browser page.
 *
 * Without Chromium the tests skip with a printed reason, unless `PYLON_REQUIRE_BROWSER=1` (CI),
 * where they fail.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import type { JobRunner, RunOutcome } from "../../src/queue/mod.ts";
import { type ApprovalFolders, approvalFolders } from "../../src/runner/approval_files.ts";
import type { Job } from "../../src/store/mod.ts";
import { startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";

/** Where Debian puts Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Why browser tests cannot run here (undefined: they can). Throws when they must run. */
export function browserMissing(): string | undefined {
  let found = false;
  try {
    found = Deno.statSync(CHROMIUM).isFile;
  } catch {
    found = false;
  }
  if (found) return undefined;
  const reason = `${CHROMIUM} is missing (apt-get install chromium)`;
  if (Deno.env.get("PYLON_REQUIRE_BROWSER") === "1") {
    throw new Error(`PYLON_REQUIRE_BROWSER=1 but ${reason}`);
  }
  return reason;
}

/** Starts Chromium headless with a fresh profile and no network beyond what pages ask for. */
export async function launchBrowser(): Promise<Browser & { profile: string }> {
  const profile = await Deno.makeTempDir({ prefix: "pylon-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      `--user-data-dir=${profile}`,
    ],
  });
  return Object.assign(browser, { profile });
}

/** Closes the browser and removes its profile. */
export async function closeBrowser(browser: Browser & { profile: string }): Promise<void> {
  await browser.close();
  await Deno.remove(browser.profile, { recursive: true }).catch(() => {});
}

/** The daemon's tool approval, as a runner sees it. */
interface Approvals {
  watch(job: Job, folders: ApprovalFolders): void;
  unwatch(jobId: string): void;
}

/** A runner the test steers: each job waits for `finish(id)` or a kill, writing lines on demand. */
export interface SteeredRunner extends JobRunner {
  /** Jobs inside `run`, by id. */
  running: Map<string, Job>;
  /** Appends a line to a running job's log. */
  say(id: string, line: string): Promise<void>;
  /** Ends a running job with a result. */
  finish(id: string, result: string): void;
  /** The daemon hands its tool approval over (as it does to the Docker runner). */
  useApprovals(approvals: Approvals): void;
  /**
   * Asks, as the agent's approval hook would, to run `tool(input)` (rules: `Bash`); returns the
   * file the daemon's decision will be in.
   */
  askTool(id: string, callId: string, tool: string, input: unknown): Promise<string>;
}

/** Creates a {@linkcode SteeredRunner} writing logs into `jobsDir()`. */
export function steeredRunner(jobsDir: () => string): SteeredRunner {
  const gates = new Map<string, PromiseWithResolvers<string>>();
  let approvals: Approvals | undefined;
  const runner: SteeredRunner = {
    running: new Map(),
    useApprovals(a) {
      approvals = a;
    },
    async askTool(id, callId, tool, input) {
      const folders = approvalFolders(jobsDir(), id);
      await Deno.mkdir(folders.requests, { recursive: true });
      await Deno.mkdir(folders.decisions, { recursive: true });
      await Deno.writeTextFile(
        join(folders.dir, "config.json"),
        JSON.stringify({ rules: ["Bash"], "timeout_ms": 600_000 }),
      );
      approvals!.watch(runner.running.get(id)!, folders);
      const inputJson = JSON.stringify(input);
      const digest = createHash("sha256").update(inputJson, "utf8").digest("hex");
      await Deno.writeTextFile(
        join(folders.requests, `${callId}.json`),
        JSON.stringify({ "call_id": callId, tool, "input_json": inputJson, digest }),
      );
      return join(folders.decisions, `${callId}.json`);
    },
    async say(id, line) {
      await Deno.writeTextFile(join(jobsDir(), `${id}.log`), line + "\n", { append: true });
    },
    finish(id, result) {
      gates.get(id)?.resolve(result);
    },
    async run(job, _pylon, ctx): Promise<RunOutcome> {
      await Deno.mkdir(jobsDir(), { recursive: true });
      const gate = Promise.withResolvers<string>();
      gates.set(job.id, gate);
      runner.running.set(job.id, job);
      try {
        await runner.say(job.id, `--- job ${job.id.slice(0, 8)} ---`);
        const killed = new Promise<undefined>((resolve) =>
          ctx.signal.addEventListener("abort", () => resolve(undefined), { once: true })
        );
        const result = await Promise.race([gate.promise, killed]);
        if (result === undefined) return { status: "killed", error: "killed by request" };
        return { status: "completed", exitCode: 0, result, sessionId: `session-${job.id}` };
      } finally {
        approvals?.unwatch(job.id);
        runner.running.delete(job.id);
        gates.delete(job.id);
      }
    },
  };
  return runner;
}

/** A daemon with a webhook pylon `hooks`, an approval-gated `gated` and a cron `nightly`. */
export async function startDashboardDaemon(): Promise<
  { daemon: TestDaemon; runner: SteeredRunner; root: string }
> {
  const root = await Deno.makeTempDir({ prefix: "pylon-dash-" });
  await writeHome(root, {
    "pylons/hooks/pylon.yaml":
      "name: hooks\ntrigger:\n  type: webhook\n  path: /hooks\nagent:\n  prompt: look at {{ .body.title }}\n",
    "pylons/gated/pylon.yaml":
      "name: gated\ntrigger:\n  type: webhook\n  path: /gated\nagent:\n  prompt: p\nchannel:\n  approval: true\n",
    "pylons/nightly/pylon.yaml":
      'name: nightly\ntrigger:\n  type: cron\n  cron: "0 3 * * *"\nagent:\n  prompt: p\n',
  });
  let jobsDir = join(root, "jobs");
  const runner = steeredRunner(() => jobsDir);
  const daemon = await startTestDaemon(root, { runner });
  jobsDir = daemon.paths.jobsDir;
  return { daemon, runner, root };
}

/** Mints a one-time login link through the API (as `pylon dashboard` does). */
export async function loginLink(daemon: TestDaemon): Promise<string> {
  const res = await daemon.api("/api/dashboard/login-codes", { method: "POST" });
  if (res.status !== 201) throw new Error(`minting a code: ${res.status} ${await res.text()}`);
  const body = await res.json() as { path: string };
  return daemon.url + body.path;
}

/** A new page in its own browser context (own cookies), logged in through a one-time link. */
export async function loggedInPage(browser: Browser, daemon: TestDaemon): Promise<Page> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await page.goto(await loginLink(daemon));
  return page;
}

/** POSTs a webhook to the daemon; returns the new job's id. */
export async function sendWebhook(
  daemon: TestDaemon,
  path: string,
  body: unknown,
): Promise<string> {
  const res = await fetch(daemon.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await res.json() as { job_id?: string };
  if (!data.job_id) throw new Error(`webhook ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data.job_id;
}
