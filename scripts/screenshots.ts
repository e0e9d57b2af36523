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
 * @module
 */

import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { createPylonPaths } from "../src/config/mod.ts";
import { runDaemon } from "../src/daemon/mod.ts";
import { createLogger } from "../src/log/mod.ts";
import type { JobRunner, RunOutcome } from "../src/queue/mod.ts";

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
    'name: nightly-deps\ntrigger:\n  type: cron\n  cron: "0 3 * * *"\nagent:\n  prompt: Update dependencies\n',
  "pr-review":
    "name: pr-review\ntrigger:\n  type: webhook\n  path: /hooks/github\nagent:\n  prompt: Review {{ .body.pull_request.title }}\nchannel:\n  approval: true\n",
};

const LOG = [
  "\x1b[2m--- pylon job started ---\x1b[0m",
  "\x1b[36m▸ Read\x1b[0m src/api/orders.ts",
  '\x1b[36m▸ Grep\x1b[0m "TypeError: Cannot read properties of undefined"',
  "Found the failing path: \x1b[1morders.total\x1b[0m is undefined for empty carts.",
  "\x1b[36m▸ Edit\x1b[0m src/api/orders.ts (+4 −1)",
  "\x1b[36m▸ Bash\x1b[0m deno test tests/api/orders_test.ts",
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

async function main(): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "pylon-shots-" });
  for (const [name, yaml] of Object.entries(PYLONS)) {
    await Deno.mkdir(join(root, "pylons", name), { recursive: true });
    await Deno.writeTextFile(join(root, "pylons", name, "pylon.yaml"), yaml);
  }
  const paths = createPylonPaths(root);
  const release = new Map<string, () => void>();
  const runner: JobRunner = {
    async run(job, _pylon, ctx): Promise<RunOutcome> {
      await ctx.update({ prompt: `Triage this Sentry issue: ${JSON.stringify(job.payload)}` });
      await Deno.mkdir(paths.jobsDir, { recursive: true });
      const log = join(paths.jobsDir, `${job.id}.log`);
      for (const line of LOG) await Deno.writeTextFile(log, line + "\n", { append: true });
      const out = join(paths.jobsDir, job.id, "out");
      await Deno.mkdir(out, { recursive: true });
      await Deno.writeTextFile(
        join(out, "events.ndjson"),
        TOOLS.map((t) => JSON.stringify(t) + "\n").join(""),
      );
      await new Promise<void>((resolve) => release.set(job.id, resolve));
      return {
        status: "completed",
        exitCode: 0,
        result: RESULT,
        usage: {
          costUsd: 0.0842,
          costBasis: "api",
          inputTokens: 18_240,
          outputTokens: 2_310,
          cacheReadTokens: 51_000,
          cacheCreationTokens: 0,
          numTurns: 9,
          durationApiMs: 41_000,
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
    for (const title of ["TypeError in checkout", "Timeout in /orders", "Null user in profile"]) {
      jobs.push(await hook("/hooks/sentry", { title }));
      await new Promise((r) => setTimeout(r, 300));
      release.get(jobs.at(-1)!)?.();
    }
    await hook("/hooks/github", { pull_request: { title: "Add coupons" } });
    const running = await hook("/hooks/sentry", { title: "Slow search" });
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
    const screen = await nexusScreen(root).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      console.log("tmux is not installed: docs/nexus.txt is left as it was");
      return undefined;
    });
    if (screen) {
      await Deno.writeTextFile(join(ROOT, "docs", "nexus.txt"), screen);
      console.log("docs/nexus.txt (paste it into the README's Terminal dashboard section)");
    }
    release.get(running)?.();
  } finally {
    await browser.close();
    stop.abort();
    await done;
    await Deno.remove(root, { recursive: true });
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
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
