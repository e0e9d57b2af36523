import assert from "node:assert/strict";
import { jobsCommand, timeAgo } from "../../src/cli/commands/jobs.ts";
import type { ParsedArgs } from "../../src/cli/command.ts";
import { PylonError, UsageError } from "../../src/errors.ts";
import {
  createStoreRegistry,
  type JobPatch,
  type JobUsage,
  type StoreRegistry,
} from "../../src/store/mod.ts";
import { createTestContext, type TestContext, writePylon } from "../_helpers/cli.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";

const NOW = new Date("2026-11-24T10:00:00Z");
const MIN = 60_000;

function args(positionals: string[] = [], values: ParsedArgs["values"] = {}): ParsedArgs {
  return { positionals, values };
}

type Step = ["running" | "completed" | "failed", number, JobPatch?];

function usage(costUsd: number | null, costBasis: "api" | "oauth", tokens = 1000): JobUsage {
  return {
    costUsd,
    costBasis,
    inputTokens: tokens,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    numTurns: 3,
    durationApiMs: 1000,
    models: ["claude-sonnet-4-5"],
  };
}

/** Stores whose clock the test sets before each write. */
function storesAt(ctx: TestContext): { stores: StoreRegistry; at(agoMs: number): void } {
  let now = NOW;
  const stores = createStoreRegistry(ctx.paths, { clock: { now: () => now } });
  return { stores, at: (agoMs) => void (now = new Date(NOW.getTime() - agoMs)) };
}

/** Inserts a job created `agoMs` before NOW, then moves it through `steps` ([status, agoMs]). */
async function addJob(
  { stores, at }: ReturnType<typeof storesAt>,
  pylon: string,
  id: string,
  agoMs: number,
  steps: Step[] = [],
): Promise<void> {
  const store = await stores.open(pylon);
  at(agoMs);
  await store.insert({
    id,
    pylon,
    status: "queued",
    trigger: "webhook",
    payload: {},
    headers: {},
    deliveryId: `d-${id}`,
  });
  let from: "queued" | "running" = "queued";
  for (const [to, stepAgo, patch] of steps) {
    at(stepAgo);
    assert.ok(await store.transition(id, from, to, patch), `cannot move ${id} to ${to}`);
    from = "running";
  }
}

async function setup(): Promise<TestContext> {
  const ctx = await createTestContext({ now: NOW });
  await writePylon(ctx, "alpha", "trigger:\n  type: webhook\n");
  await writePylon(ctx, "beta", "trigger:\n  type: webhook\n");
  await writePylon(ctx, "empty", "trigger:\n  type: webhook\n");
  const s = storesAt(ctx);
  await addJob(s, "alpha", "aaaa0001-0000-4000-8000-000000000001", 3 * 60 * MIN, [
    ["running", 3 * 60 * MIN - MIN],
    ["completed", 3 * 60 * MIN - MIN - 94_000, { usage: usage(0.4219, "api") }],
  ]);
  await addJob(s, "beta", "bbbb0001-0000-4000-8000-000000000002", 5 * MIN, [
    ["running", 2 * MIN],
  ]);
  await addJob(s, "alpha", "aaaa0002-0000-4000-8000-000000000003", 10_000);
  await addJob(s, "beta", "bbbb0002-0000-4000-8000-000000000004", 2 * 86_400_000, [
    ["running", 2 * 86_400_000 - 1000],
    ["failed", 2 * 86_400_000 - 6000, {
      usage: usage(1.5, "oauth"),
      error: "npm test failed: 2 of 9 tests\n  at calc_test.ts:4",
    }],
  ]);
  await s.stores.closeAll();
  return ctx;
}

Deno.test("jobs lists every pylon's jobs newest first with age, duration, cost and why they failed", async () => {
  await using ctx = await setup();
  assert.equal(await jobsCommand.run(args(), ctx), 0);
  assert.equal(
    ctx.stdout(),
    [
      "ID        PYLON  STATUS     TRIGGERED    DURATION    COST",
      "aaaa0002  alpha  queued     just now     --          -",
      "bbbb0001  beta   running    5 min ago    running 2m  -",
      "aaaa0001  alpha  completed  3 hours ago  1m34s       $0.42",
      "bbbb0002  beta   failed     2 days ago   5s          ~$1.50",
      "~ what the tokens would cost at API prices (auth: oauth; not what was paid)",
      // Why a job failed, which the table has no room for: its error's first line.
      "",
      "Why they ended (pylon logs <id> for the rest):",
      "  bbbb0002 failed: npm test failed: 2 of 9 tests",
      "",
    ].join("\n"),
  );
  // Reading created no database for the pylon that has none.
  await assert.rejects(Deno.stat(ctx.paths.pylonDb("empty")), Deno.errors.NotFound);
});

Deno.test("jobs <name> --status --limit filters and limits", async () => {
  await using ctx = await setup();
  await jobsCommand.run(args(["beta"], { status: "running,failed", limit: "1" }), ctx);
  assert.match(ctx.stdout(), /^ID +PYLON/);
  const lines = ctx.stdout().trim().split("\n");
  assert.deepEqual(lines.slice(1, -1).map((l) => l.slice(0, 8)), ["bbbb0001"]);
  assert.equal(
    lines.at(-1),
    "Older jobs: pylon jobs beta --status running,failed --limit 1 " +
      "--before bbbb0001-0000-4000-8000-000000000002",
  );
});

Deno.test("jobs --limit counts across pylons and --before pages on", async () => {
  await using ctx = await setup();
  const page = async (values: ParsedArgs["values"]) => {
    const before = ctx.stdout().length;
    await jobsCommand.run(args([], { ...values, json: true }), ctx);
    return JSON.parse(ctx.stdout().slice(before)).map((j: { id: string }) => j.id.slice(0, 8));
  };
  assert.deepEqual(await page({ limit: "2" }), ["aaaa0002", "bbbb0001"]);
  assert.deepEqual(await page({ limit: "2", before: "bbbb0001" }), ["aaaa0001", "bbbb0002"]);
  assert.deepEqual(await page({ limit: "2", before: "bbbb0002" }), []);
});

Deno.test("jobs answers as GET /api/jobs does, read-only beside a running daemon", async () => {
  await using ctx = await createTestContext();
  const hook = (path: string) =>
    `name: ${
      path === "/a" ? "alpha" : "beta"
    }\ntrigger:\n  type: webhook\n  path: ${path}\nagent:\n  prompt: p\nworkspace:\n  type: none\n`;
  await writePylon(ctx, "alpha", hook("/a"));
  await writePylon(ctx, "beta", hook("/b"));
  const d = await startTestDaemon(ctx.paths.root); // no runner: jobs stay queued
  try {
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`${d.url}/${i % 3 ? "a" : "b"}`, { method: "POST", body: "{}" });
      assert.equal(res.status, 202, `${await res.text()}\n${d.logs.join("\n")}`);
    }
    for (const query of [{ limit: "3" }, { limit: "4" }, { limit: "2", status: "queued" }]) {
      let before: string | undefined;
      for (let n = 0; n < 5; n++) {
        const params = new URLSearchParams({ ...query, ...(before ? { before } : {}) });
        const res = await d.api(`/api/jobs?${params}`);
        const api = (await res.json()).map((j: { id: string }) => j.id);
        const from = ctx.stdout().length;
        const values = { ...query, json: true, ...(before ? { before } : {}) };
        assert.equal(await jobsCommand.run(args([], values), ctx), 0);
        const cli = JSON.parse(ctx.stdout().slice(from)).map((j: { id: string }) => j.id);
        assert.deepEqual(cli, api, `page ${n} of ${params}`);
        if (api.length < Number(query.limit)) break;
        assert.match(
          res.headers.get("link") ?? "",
          new RegExp(`before=${api.at(-1)}>; rel="next"`),
        );
        before = api.at(-1);
      }
    }
    const all = await (await d.api("/api/jobs")).json();
    assert.equal(all.length, 7, "the default limit (20) counts across pylons");
  } finally {
    await d.stop();
  }
});

Deno.test("jobs --json prints snake_case objects with ISO times", async () => {
  await using ctx = await setup();
  await jobsCommand.run(args([], { json: true, status: "completed" }), ctx);
  const [job, ...rest] = JSON.parse(ctx.stdout());
  assert.equal(rest.length, 0);
  assert.equal(job.id, "aaaa0001-0000-4000-8000-000000000001");
  assert.equal(job.pylon, "alpha");
  assert.equal(job.status, "completed");
  assert.equal(job.trigger, "webhook");
  assert.equal(job.attempt, 1);
  assert.equal(job.delivery_id, "d-aaaa0001-0000-4000-8000-000000000001");
  assert.equal(job.created_at, "2026-11-24T07:00:00.000Z");
  assert.equal(job.started_at, "2026-11-24T07:01:00.000Z");
  assert.equal(job.finished_at, "2026-11-24T07:02:34.000Z");
  for (const key of ["exit_code", "error", "result"]) assert.ok(key in job, key);
});

Deno.test("jobs says so when there are no jobs, and creates no database", async () => {
  await using ctx = await createTestContext({ now: NOW });
  assert.equal(await jobsCommand.run(args(), ctx), 0);
  assert.match(ctx.stdout(), /^No jobs yet\. /);
  await writePylon(ctx, "quiet", "trigger:\n  type: webhook\n");
  await jobsCommand.run(args(["quiet"]), ctx);
  assert.match(ctx.stdout(), /No jobs yet\.[^]*No jobs yet\./);
  await jobsCommand.run(args([], { json: true }), ctx);
  assert.match(ctx.stdout(), /\[\]\n$/);
  await assert.rejects(Deno.stat(ctx.paths.pylonDb("quiet")), Deno.errors.NotFound);
});

Deno.test("jobs rejects an unknown pylon, status or limit", async (t) => {
  await using ctx = await createTestContext({ now: NOW });
  await t.step("unknown pylon", async () => {
    await assert.rejects(jobsCommand.run(args(["ghost"]), ctx), (e: unknown) => {
      assert.ok(e instanceof PylonError);
      assert.match(e.message, /"ghost"/);
      assert.match(e.hint ?? "", /pylon list/);
      return true;
    });
  });
  await t.step("unknown status, with a suggestion and the list", async () => {
    await assert.rejects(jobsCommand.run(args([], { status: "queud" }), ctx), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /"queud"/);
      assert.match(e.hint ?? "", /did you mean "queued"/);
      assert.match(e.hint ?? "", /awaiting_approval, queued, held, running/);
      return true;
    });
  });
  await t.step("bad limit", async () => {
    for (const limit of ["0", "-1", "ten", "1.5"]) {
      await assert.rejects(jobsCommand.run(args([], { limit }), ctx), UsageError);
    }
  });
});

Deno.test("timeAgo() speaks in minutes, hours and days", () => {
  const at = (ms: number) => timeAgo(new Date(NOW.getTime() - ms), NOW);
  assert.equal(at(-5_000), "just now");
  assert.equal(at(59_000), "just now");
  assert.equal(at(60_000), "1 min ago");
  assert.equal(at(59 * MIN), "59 min ago");
  assert.equal(at(60 * MIN), "1 hour ago");
  assert.equal(at(23 * 60 * MIN), "23 hours ago");
  assert.equal(at(24 * 60 * MIN), "1 day ago");
  assert.equal(at(400 * 86_400_000), "2025-10-20");
});
