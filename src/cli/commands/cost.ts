/**
 * `pylon cost [name] [--since 7d] [--by pylon|day] [--json]`: what the agents reported they
 * used (dollars, tokens, turns), summed by pylon or by day (UTC). Reads the pylons' `jobs.db`
 * files directly (read-only beside a running daemon), so it works whether or not the daemon runs.
 *
 * @module
 */

import { parseDuration } from "../../config/mod.ts";
import { UsageError } from "../../errors.ts";
import {
  formatTokens,
  formatUsd,
  type JobUsage,
  sumUsage,
  totalTokens,
  type UsageRecord,
} from "../../store/mod.ts";
import type { Command } from "../command.ts";
import { openStoresForPylon } from "../job_stores.ts";
import { table } from "../shared.ts";

const DEFAULT_SINCE = "7d";
const DAY_MS = 86_400_000;
const SINCE_DAYS_REGEXP = /^(\d+)\s*([dw])$/;
const SINCE_DATE_REGEXP = /^\d{4}-\d{2}-\d{2}$/;

export const costCommand: Command = {
  name: "cost",
  summary: "Report what the agents cost: dollars, tokens and turns by pylon or by day",
  usage: "cost [name] [--since 7d] [--by pylon|day] [--json]",
  description: "Sums the cost and usage the agents reported for the jobs that finished since " +
    "then.\nReads the job databases directly, whether or not the daemon runs. Under " +
    "`auth: oauth`\nthe dollars are what the tokens would cost at API prices (marked ~), not " +
    "what the\nsubscription costs. Jobs pruned by retention are no longer counted.",
  options: {
    since: {
      type: "string",
      description:
        `How far back: 7d, 2w, 12h, a date (2026-11-01) or "all" (default ${DEFAULT_SINCE})`,
      valueName: "WHEN",
    },
    by: {
      type: "string",
      description: "Group by pylon (default) or by day (UTC)",
      valueName: "pylon|day",
    },
    json: { type: "boolean", description: "Print a JSON object" },
  },
  positionals: { min: 0, max: 1, completion: "pylon" },
  async run(args, ctx) {
    const now = ctx.clock.now();
    const sinceText = String(args.values.since ?? DEFAULT_SINCE).trim();
    const since = parseSince(sinceText, now);
    const by = parseBy(args.values.by);
    const name = args.positionals[0];
    await using open = await openStoresForPylon(ctx, name);
    const records: UsageRecord[] = [];
    for (const pylon of open.pylons) {
      records.push(...await open.stores.get(pylon)!.usageSince(since));
    }
    const groups = groupUsage(records, by);
    const total = sumUsage(records.map((r) => r.usage));
    if (args.values.json) {
      ctx.io.out(
        JSON.stringify(
          {
            since: since?.toISOString() ?? null,
            until: now.toISOString(),
            by,
            groups: groups.map((g) => ({ [by]: g.key, ...reportJson(g.jobs, g.usage) })),
            total: reportJson(records.length, total),
          },
          null,
          2,
        ) + "\n",
      );
      return 0;
    }
    const period = since ? `since ${since.toISOString().slice(0, 16).replace("T", " ")} UTC` : "";
    if (records.length === 0) {
      ctx.io.out(`No job reported its cost or usage${period ? " " + period : ""}.\n`);
      return 0;
    }
    const header = [by === "day" ? "DAY (UTC)" : "PYLON", "JOBS", "COST", "INPUT", "OUTPUT"];
    header.push("CACHE READ", "CACHE WRITE", "TURNS");
    const rows = groups.map((g) => row(g.key, g.jobs, g.usage));
    rows.push(row("total", records.length, total));
    ctx.io.out(table(header, rows));
    if (records.some((r) => r.usage.costBasis === "oauth" && r.usage.costUsd !== null)) {
      ctx.io.out(
        "~ includes what a subscription's tokens would cost at API prices (auth: oauth)\n",
      );
    }
    if (period) ctx.io.out(`Jobs finished ${period}; --since for another period.\n`);
    return 0;
  },
};

/** One group of a report: its key (a pylon, or a day as YYYY-MM-DD) and its sum. */
interface Group {
  key: string;
  jobs: number;
  usage: JobUsage | null;
}

/** `records` summed by pylon (sorted by name) or by UTC day (oldest first). */
export function groupUsage(records: readonly UsageRecord[], by: "pylon" | "day"): Group[] {
  const buckets = new Map<string, UsageRecord[]>();
  for (const r of records) {
    const key = by === "day" ? r.at.toISOString().slice(0, 10) : r.pylon;
    let bucket = buckets.get(key);
    if (!bucket) buckets.set(key, bucket = []);
    bucket.push(r);
  }
  return [...buckets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map((
    [key, list],
  ) => ({ key, jobs: list.length, usage: sumUsage(list.map((r) => r.usage)) }));
}

function row(key: string, jobs: number, usage: JobUsage | null): string[] {
  const tokens = (n: number | null | undefined) => (n == null ? "-" : formatTokens(n));
  const cost = usage?.costUsd == null
    ? "-"
    : `${usage.costBasis === "oauth" ? "~" : ""}${formatUsd(usage.costUsd)}`;
  return [
    key,
    String(jobs),
    cost,
    tokens(usage?.inputTokens),
    tokens(usage?.outputTokens),
    tokens(usage?.cacheReadTokens),
    tokens(usage?.cacheCreationTokens),
    usage?.numTurns == null ? "-" : String(usage.numTurns),
  ];
}

function reportJson(jobs: number, usage: JobUsage | null): Record<string, unknown> {
  return {
    jobs,
    cost_usd: usage?.costUsd ?? 0,
    cost_basis: usage?.costUsd == null ? null : usage.costBasis,
    input_tokens: usage?.inputTokens ?? 0,
    output_tokens: usage?.outputTokens ?? 0,
    cache_read_input_tokens: usage?.cacheReadTokens ?? 0,
    cache_creation_input_tokens: usage?.cacheCreationTokens ?? 0,
    total_tokens: totalTokens(usage) ?? 0,
    num_turns: usage?.numTurns ?? 0,
  };
}

/**
 * `--since` as the first moment counted: `7d`, `2w`, a Go duration (`12h`), a date
 * (`2026-11-01`, UTC midnight) or `all` (null). @throws {UsageError}
 */
export function parseSince(text: string, now: Date): Date | null {
  if (text === "all") return null;
  const days = SINCE_DAYS_REGEXP.exec(text);
  let ms: number | null = null;
  if (days) ms = Number(days[1]) * (days[2] === "w" ? 7 : 1) * DAY_MS;
  else if (SINCE_DATE_REGEXP.test(text)) {
    const date = new Date(`${text}T00:00:00Z`);
    if (!Number.isNaN(date.getTime())) return date;
  } else ms = parseDuration(text);
  if (ms === null || !Number.isFinite(ms)) {
    throw new UsageError(`Invalid --since "${text}": not a period or a date`, {
      hint: "for example: --since 7d, --since 12h, --since 2026-11-01 or --since all",
    });
  }
  return new Date(now.getTime() - ms);
}

function parseBy(value: unknown): "pylon" | "day" {
  const by = value === undefined ? "pylon" : String(value).trim().toLowerCase();
  if (by === "pylon" || by === "day") return by;
  throw new UsageError(`Invalid --by "${by}": reports group by pylon or by day`, {
    hint: "use --by pylon or --by day",
  });
}
