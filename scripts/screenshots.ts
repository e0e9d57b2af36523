// deno-lint-ignore-file no-console
/**
 * Takes the README's dashboard screenshots: runs a daemon on a temp `PYLON_HOME` with a few
 * example pylons and a scripted runner (no Docker, no agent), opens the pages in headless
 * Chromium and writes `docs/dashboard-pylons.png`, `docs/dashboard-jobs.png`,
 * `docs/dashboard-job.png` and `docs/dashboard-needs-you.png`; then runs `pylon nexus` in an
 * 80×24 tmux window beside the same daemon and writes its screen to `docs/nexus.txt` (the
 * README's terminal capture). Run by hand (not in CI) after changing how either looks:
 *
 *   deno run --allow-net --allow-read --allow-write --allow-env --allow-sys --allow-run scripts/screenshots.ts
 *
 * `--dashboard-only` leaves `docs/nexus.txt` alone. The jobs cover the statuses a user meets:
 * completed with costs, failed, killed, awaiting approval, held over a pylon's budget, running,
 * and running while a tool call waits for approval.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { createPylonPaths } from "../src/config/mod.ts";
import { runDaemon } from "../src/daemon/mod.ts";
import { createLogger } from "../src/log/mod.ts";
import type { JobRunner, RunOutcome } from "../src/queue/mod.ts";
import { approvalFolders, type ApprovalWatch } from "../src/runner/mod.ts";
import type { Job } from "../src/store/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
/** The permission flags of `deno task pylon` (those the compiled binary has). */
const PYLON_FLAGS =
  (JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks.pylon as string)
    .split(/\s+/)
    .filter((a) => a.startsWith("--allow-"));

const PYLONS: Record<string, string> = {
  "sentry-triage":
    "name: sentry-triage\ntrigger:\n  type: webhook\n  path: /hooks/sentry\nagent:\n  prompt: Triage {{ .body.title }}\n",
  "nightly-deps":
    'name: nightly-deps\ntrigger:\n  type: cron\n  cron: "0 3 * * *"\n  timezone: Europe/Berlin\nagent:\n  prompt: Update dependencies\n',
  "pr-review":
    "name: pr-review\ntrigger:\n  type: webhook\n  path: /hooks/github\nagent:\n  prompt: Review {{ .body.pull_request.title }}\nchannel:\n  approval: true\n",
  "release-bot": [
    "name: release-bot",
    "trigger:\n  type: webhook\n  path: /hooks/release",
    "agent:\n  prompt: Prepare release {{ .body.version }}",
    '  approve_tools: ["Bash(git push:*)"]',
  ].join("\n") + "\n",
  "docs-writer": [
    "name: docs-writer",
    "trigger:\n  type: webhook\n  path: /hooks/docs",
    "agent:\n  prompt: Document {{ .body.title }}",
    "budget:\n  daily_usd: 0.10",
  ].join("\n") + "\n",
};

const LOG = [
  "\x1b[2m--- pylon job started ---\x1b[0m",
  "\x1b[36m▸ Read\x1b[0m src/api/orders.ts",
  '\x1b[36m▸ Grep\x1b[0m "TypeError: Cannot read properties of undefined"',
  "Found the failing path: \x1b[1morders.total\x1b[0m is undefined for empty carts.",
  "\x1b[36m▸ Edit\x1b[0m src/api/orders.ts (+4 −1)",
  "\x1b[36m▸ Bash\x1b[0m deno test tests/api/orders_test.ts",
  "\x1b[31mFAILED\x1b[0m orders_test.ts > empty cart total \x1b[2m(before the fix)\x1b[0m",
  "\x1b[32mok\x1b[0m | 14 passed | 0 failed (1s)",
  "\x1b[33mnote:\x1b[0m opened a pull request with the fix",
];

/** Tool events the scripted agent reports (`jobs/<id>/out/events.ndjson`). */
const TOOLS = [
  { tool: "Read", summary: "src/api/orders.ts" },
  { tool: "Grep", summary: '"TypeError: Cannot read properties of undefined"' },
  { tool: "Edit", summary: "src/api/orders.ts (+4 −1)" },
  { tool: "Bash", summary: "deno test tests/api/orders_test.ts" },
];

const RESULT = `## Empty carts crash the order total

**Cause:** \`orders.total\` reads \`items[0].price\` before checking that the cart has items.

**Fix:** return \`0\` for an empty cart (src/api/orders.ts), with a test.

- 14 tests pass
- Pull request: https://github.com/example/shop/pull/42
`;

/** What each scripted job does: how long it runs, how it ends, what it cost. */
interface Script {
  seconds: number;
  status?: "completed" | "failed";
  cost: number;
  turns: number;
  /** Asks to run this Bash command (an `approve_tools` rule) and waits for the decision. */
  tool?: string;
  /** Keeps running until the script ends. */
  hold?: boolean;
}

function scriptOf(payload: Record<string, unknown>): Script {
  const title = String(payload.title ?? payload.version ?? "");
  if (title.includes("Slow search")) return { seconds: 0, cost: 0, turns: 0, hold: true };
  if (title.includes("Null user")) return { seconds: 3, status: "failed", cost: 0.0131, turns: 3 };
  if (payload.version) {
    return { seconds: 0, cost: 0, turns: 0, tool: "git push origin v2.4.0", hold: true };
  }
  if (title.includes("Timeout")) return { seconds: 6, cost: 0.1275, turns: 14 };
  if (title.includes("webhooks")) return { seconds: 4, cost: 0.1130, turns: 11 };
  return { seconds: 5, cost: 0.0842, turns: 9 };
}

async function main(): Promise<void> {
  const nexus = !Deno.args.includes("--dashboard-only");
  const root = await Deno.makeTempDir({ prefix: "pylon-shots-" });
  for (const [name, yaml] of Object.entries(PYLONS)) {
    await Deno.mkdir(join(root, "pylons", name), { recursive: true });
    await Deno.writeTextFile(join(root, "pylons", name, "pylon.yaml"), yaml);
  }
  const paths = createPylonPaths(root);
  const release = new Map<string, () => void>();
  let approvals: ApprovalWatch | undefined;
  const runner: JobRunner & { useApprovals(a: ApprovalWatch): void } = {
    useApprovals(a) {
      approvals = a;
    },
    async run(job, _pylon, ctx): Promise<RunOutcome> {
      const payload = job.payload as Record<string, unknown>;
      const script = scriptOf(payload);
      await ctx.update({ prompt: `Triage this Sentry issue: ${JSON.stringify(payload)}` });
      await ctx.started?.();
      await Deno.mkdir(paths.jobsDir, { recursive: true });
      const log = join(paths.jobsDir, `${job.id}.log`);
      const lines = script.status === "failed"
        ? [...LOG.slice(0, 3), "\x1b[31merror:\x1b[0m the Sentry event has no stack trace"]
        : LOG;
      for (const line of lines) await Deno.writeTextFile(log, line + "\n", { append: true });
      const out = join(paths.jobsDir, job.id, "out");
      await Deno.mkdir(out, { recursive: true });
      await Deno.writeTextFile(
        join(out, "events.ndjson"),
        TOOLS.map((t) => JSON.stringify(t) + "\n").join(""),
      );
      if (script.tool) await askTool(paths.jobsDir, job, approvals!, script.tool);
      const ended = new Promise<void>((resolve) => {
        release.set(job.id, resolve);
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      if (!script.hold) setTimeout(() => release.get(job.id)?.(), script.seconds * 1000);
      await ended;
      approvals?.unwatch(job.id);
      if (ctx.signal.aborted) return { status: "killed", error: "killed by request" };
      return {
        status: script.status ?? "completed",
        exitCode: script.status === "failed" ? 1 : 0,
        result: script.status === "failed" ? null : RESULT,
        error: script.status === "failed" ? "agent exited with code 1" : null,
        sessionId: script.status === "failed" ? null : `session-${job.id.slice(0, 8)}`,
        usage: {
          costUsd: script.cost,
          costBasis: "api",
          inputTokens: Math.round(script.cost * 200_000),
          outputTokens: Math.round(script.cost * 27_000),
          cacheReadTokens: 51_000,
          cacheCreationTokens: 0,
          numTurns: script.turns,
          durationApiMs: script.seconds * 800,
          models: ["claude-sonnet-4-5"],
        },
      };
    },
  };
  const stop = new AbortController();
  const listening = Promise.withResolvers<number>();
  const done = runDaemon({
    paths,
    env: { HOME: root, TZ: "UTC" },
    log: createLogger({ write: () => {}, level: "error" }),
    clock: { now: () => new Date() },
    out: () => {},
    host: "127.0.0.1",
    port: 0,
    runner,
    signal: stop.signal,
    onListen: (addr) => listening.resolve(addr.port),
  });
  const url = `http://127.0.0.1:${await listening.promise}`;
  const token = (await Deno.readTextFile(paths.daemonToken)).trim();
  const api = (path: string, init: RequestInit = {}) =>
    fetch(url + path, { ...init, headers: { authorization: `Bearer ${token}` } });
  const hook = async (path: string, body: unknown) =>
    (await (await fetch(url + path, { method: "POST", body: JSON.stringify(body) })).json())
      .job_id as string;
  const statusOf = async (id: string) => (await (await api(`/api/jobs/${id}`)).json()).status;
  const until = async (id: string, wanted: (status: string) => boolean) => {
    for (let i = 0; i < 200 && !wanted(await statusOf(id)); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const profile = await Deno.makeTempDir({ prefix: "pylon-shots-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-sync",
      `--user-data-dir=${profile}`,
    ],
  });
  try {
    const jobs: string[] = [];
    const finished: string[] = [];
    for (const title of ["TypeError in checkout", "Timeout in /orders", "Null user in profile"]) {
      const id = await hook("/hooks/sentry", { title });
      jobs.push(id);
      finished.push(id);
    }
    const docs = await hook("/hooks/docs", { title: "webhooks" });
    finished.push(docs);
    for (const id of finished) await until(id, (s) => !["queued", "running"].includes(s));
    // The docs writer spent its $0.10 for today: the next job waits, held.
    await hook("/hooks/docs", { title: "cron triggers" });
    const killed = await hook("/hooks/sentry", { title: "Slow search" });
    await until(killed, (s) => s === "running");
    (await api(`/api/jobs/${killed}/kill`, { method: "POST" })).body?.cancel();
    await until(killed, (s) => s === "killed");
    await hook("/hooks/github", {
      "pull_request": {
        title: "Add coupons",
        "html_url": "https://github.com/example/shop/pull/43",
      },
    });
    const asking = await hook("/hooks/release", { version: "2.4.0" });
    const running = await hook("/hooks/sentry", { title: "Slow search, again" });
    await until(asking, (s) => s === "running");
    await until(running, (s) => s === "running");
    await new Promise((r) => setTimeout(r, 500));

    const minted = await (await api("/api/dashboard/login-codes", { method: "POST" })).json();
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 860, deviceScaleFactor: 1 });
    await page.goto(url + minted.path);
    const shots: [string, string][] = [
      ["/dashboard/", "dashboard-pylons.png"],
      ["/dashboard/jobs", "dashboard-jobs.png"],
      [`/dashboard/jobs/${jobs[0]}`, "dashboard-job.png"],
      ["/dashboard/needs-you", "dashboard-needs-you.png"],
    ];
    for (const [path, file] of shots) {
      await page.goto(url + path);
      await new Promise((r) => setTimeout(r, 700));
      await page.screenshot({ path: join(ROOT, "docs", file), fullPage: path.includes("/jobs/") });
      console.log(`docs/${file}`);
    }
    const screen = !nexus ? undefined : await nexusScreen(root).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      console.log("tmux is not installed: docs/nexus.txt is left as it was");
      return undefined;
    });
    if (screen) {
      await Deno.writeTextFile(join(ROOT, "docs", "nexus.txt"), screen);
      console.log("docs/nexus.txt (paste it into the README's Terminal dashboard section)");
    }
    for (const end of release.values()) end();
  } finally {
    await browser.close();
    stop.abort();
    await done;
    await Deno.remove(root, { recursive: true });
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** Asks, as the agent's approval hook does, to run `command` with Bash; does not wait. */
async function askTool(
  jobsDir: string,
  job: Job,
  approvals: ApprovalWatch,
  command: string,
): Promise<void> {
  const folders = approvalFolders(jobsDir, job.id);
  await Deno.mkdir(folders.requests, { recursive: true });
  await Deno.mkdir(folders.decisions, { recursive: true });
  await Deno.writeTextFile(
    join(folders.dir, "config.json"),
    JSON.stringify({ rules: ["Bash(git push:*)"], "timeout_ms": 600_000 }),
  );
  approvals.watch(job, folders);
  const inputJson = JSON.stringify({ command });
  const digest = createHash("sha256").update(inputJson, "utf8").digest("hex");
  await Deno.writeTextFile(
    join(folders.requests, "call1.json"),
    JSON.stringify({ "call_id": "call1", tool: "Bash", "input_json": inputJson, digest }),
  );
}

/**
 * `pylon nexus` in an 80×24 tmux window on `root`, with `sentry-triage` selected and its
 * detail focused; returns the screen as text.
 */
async function nexusScreen(root: string): Promise<string> {
  const socket = `pylon-shots-${Deno.pid}`;
  const tmux = async (...args: string[]) => {
    const out = await new Deno.Command("tmux", { args: ["-L", socket, ...args], stdout: "piped" })
      .output();
    return new TextDecoder().decode(out.stdout);
  };
  const main = join(ROOT, "main.ts");
  const command = [
    `PYLON_HOME=${root}`,
    "TZ=UTC",
    "PYLON_UPDATE_URL=http://127.0.0.1:9/",
    Deno.execPath(),
    "run",
    ...PYLON_FLAGS,
    main,
    "nexus",
  ].join(" ");
  await tmux("new-session", "-d", "-s", "shot", "-x", "80", "-y", "24", command);
  const screen = async (pattern: RegExp) => {
    for (let i = 0; i < 200; i++) {
      const text = await tmux("capture-pane", "-p", "-t", "shot");
      if (pattern.test(text)) return text;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nexus never showed ${pattern}`);
  };
  try {
    await screen(/daemon ON/);
    for (const key of ["j", "j", "l"]) await tmux("send-keys", "-t", "shot", key);
    await screen(/sentry-triage\s*\n.*State/);
    await new Promise((r) => setTimeout(r, 500));
    const text = await tmux("capture-pane", "-p", "-t", "shot");
    return text.split("\n").map((l) => l.trimEnd()).join("\n").trimEnd() + "\n";
  } finally {
    await tmux("kill-server");
  }
}

if (import.meta.main) await main();
