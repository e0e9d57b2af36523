import assert from "node:assert/strict";
import { costCommand, parseSince } from "../../src/cli/commands/cost.ts";
import type { ParsedArgs } from "../../src/cli/command.ts";
import { UsageError } from "../../src/errors.ts";
import { createDaemonMetrics } from "../../src/daemon/daemon_metrics.ts";
import { createStoreRegistry, type JobUsage } from "../../src/store/mod.ts";
import { createTestContext, type TestContext, writePylon } from "../_helpers/cli.ts";

const NOW = new Date("2026-11-24T10:00:00Z");
const DAY = 86_400_000;

function args(positionals: string[] = [], values: ParsedArgs["values"] = {}): ParsedArgs {
  return { positionals, values };
}

function usage(costUsd: number | null, costBasis: "api" | "oauth", input: number): JobUsage {
  return {
    costUsd,
    costBasis,
    inputTokens: input,
    outputTokens: 100,
    cacheReadTokens: 1000,
    cacheCreationTokens: 10,
    numTurns: 2,
    durationApiMs: 500,
    models: ["claude-sonnet-4-5"],
  };
}

/** alpha: $0.50 today and $1.25 three days ago; beta: ~$2 (oauth) 10 days ago, and a job without usage. */
async function setup(): Promise<TestContext> {
  const ctx = await createTestContext({ now: NOW });
  await writePylon(ctx, "alpha", "trigger:\n  type: webhook\n");
  await writePylon(ctx, "beta", "trigger:\n  type: webhook\n");
  let now = NOW;
  const stores = createStoreRegistry(ctx.paths, { clock: { now: () => now } });
  const add = async (pylon: string, n: number, agoMs: number, u: JobUsage | null) => {
    now = new Date(NOW.getTime() - agoMs);
    const store = await stores.open(pylon);
    const id = `${pylon === "alpha" ? "aaaa" : "bbbb"}000${n}-0000-4000-8000-00000000000${n}`;
    await store.insert({
      id,
      pylon,
      status: "queued",
      trigger: "webhook",
      payload: {},
      headers: {},
    });
    await store.transition(id, "queued", "running");
    await store.transition(id, "running", "completed", u ? { usage: u } : {});
  };
  await add("alpha", 1, 3600_000, usage(0.5, "api", 1000));
  await add("alpha", 2, 3 * DAY, usage(1.25, "api", 2000));
  await add("beta", 3, 10 * DAY, usage(2, "oauth", 5000));
  await add("beta", 4, 3600_000, null);
  await stores.closeAll();
  return ctx;
}

Deno.test("cost sums the last 7 days by pylon, whether or not the daemon runs", async () => {
  await using ctx = await setup();
  assert.equal(await costCommand.run(args(), ctx), 0);
  assert.equal(
    ctx.stdout(),
    [
      "PYLON  JOBS  COST   INPUT  OUTPUT  CACHE READ  CACHE WRITE  TURNS",
      "alpha  2     $1.75  3.0k   200     2.0k        20           4",
      "total  2     $1.75  3.0k   200     2.0k        20           4",
      "Jobs finished since 2026-11-17 10:00 UTC; --since for another period.",
      "",
    ].join("\n"),
  );
});

Deno.test("cost --since all --by day marks API-price figures of oauth", async () => {
  await using ctx = await setup();
  assert.equal(await costCommand.run(args([], { since: "all", by: "day" }), ctx), 0);
  const lines = ctx.stdout().trim().split("\n");
  assert.deepEqual(lines.map((l) => l.split(/\s+/).slice(0, 3).join(" ")), [
    "DAY (UTC) JOBS",
    "2026-11-14 1 ~$2.00",
    "2026-11-21 1 $1.25",
    "2026-11-24 1 $0.50",
    "total 3 ~$3.75",
    "~ includes what",
  ]);
});

Deno.test("cost --json gives groups and the total; one pylon by name", async () => {
  await using ctx = await setup();
  assert.equal(await costCommand.run(args(["beta"], { since: "30d", json: true }), ctx), 0);
  const report = JSON.parse(ctx.stdout());
  assert.equal(report.by, "pylon");
  assert.equal(report.since, "2026-10-25T10:00:00.000Z");
  assert.deepEqual(report.groups, [{
    pylon: "beta",
    jobs: 1,
    cost_usd: 2,
    cost_basis: "oauth",
    input_tokens: 5000,
    output_tokens: 100,
    cache_read_input_tokens: 1000,
    cache_creation_input_tokens: 10,
    total_tokens: 6110,
    num_turns: 2,
  }]);
  assert.equal(report.total.cost_usd, 2);
});

Deno.test("cost rejects a bad --since or --by", async () => {
  await using ctx = await setup();
  await assert.rejects(costCommand.run(args([], { since: "yesterday" }), ctx), UsageError);
  await assert.rejects(costCommand.run(args([], { by: "model" }), ctx), /--by "model"/);
  assert.equal(parseSince("2w", NOW)?.toISOString(), "2026-11-10T10:00:00.000Z");
  assert.equal(parseSince("12h", NOW)?.toISOString(), "2026-11-23T22:00:00.000Z");
  assert.equal(parseSince("2026-11-01", NOW)?.toISOString(), "2026-11-01T00:00:00.000Z");
  assert.equal(parseSince("all", NOW), null);
});

Deno.test("/metrics sums cost and tokens from the stored jobs, across restarts", async () => {
  await using ctx = await setup();
  for (let run = 0; run < 2; run++) {
    // A new registry is what a restarted daemon opens.
    const stores = createStoreRegistry(ctx.paths);
    try {
      await stores.open("alpha");
      await stores.open("beta");
      const metrics = createDaemonMetrics({
        stores,
        dispatcher: { runningCount: 0 } as never,
        table: { names: () => [] } as never,
        config: { docker: { max_concurrent: 1 } } as never,
      });
      const { body } = await metrics.render();
      assert.match(body, /^# TYPE pylon_cost_usd_total gauge$/m);
      assert.match(body, /^pylon_cost_usd_total\{pylon="alpha"\} 1\.75$/m);
      assert.match(body, /^pylon_cost_usd_total\{pylon="beta"\} 2$/m);
      assert.match(body, /^pylon_tokens_total\{pylon="alpha",kind="input"\} 3000$/m);
      assert.match(body, /^pylon_tokens_total\{pylon="alpha",kind="cache_read"\} 2000$/m);
      assert.match(body, /^pylon_tokens_total\{pylon="beta",kind="cache_creation"\} 10$/m);
    } finally {
      await stores.closeAll();
    }
  }
});
