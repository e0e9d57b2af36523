/**
 * `pylon jobs [name] [--status S] [--limit N] [--json]`: recent jobs, read straight from the
 * pylons' `jobs.db` files (read-only while the daemon runs), so it works whether or not the
 * daemon runs. It never creates a database: pylons without a `jobs.db` simply have no jobs yet.
 *
 * @module
 */

import { closest, formatDuration, JOB_STATUSES, type JobStatus } from "../../config/mod.ts";
import { formatTokens, formatUsd, jobToJson, totalTokens } from "../../store/mod.ts";
import { loadGlobalConfig, loadPylon, resolvePylon } from "../../config/mod.ts";
import { type Redactor, redactorFor } from "../../log/mod.ts";
import type { CommandContext } from "../command.ts";
import { shortId, UsageError } from "../../errors.ts";
import type { Job } from "../../store/mod.ts";
import { openStoresForPylon } from "../job_stores.ts";
import type { Command } from "../command.ts";
import { table } from "../shared.ts";
import { waitingToJson } from "../../store/mod.ts";

const DEFAULT_LIMIT = 20;

export const jobsCommand: Command = {
  name: "jobs",
  summary: "List recent jobs of every pylon, or of one",
  usage: "jobs [name] [--status STATUS] [--limit N] [--before ID] [--json]",
  description: "Newest first across pylons. Reads the job databases directly, whether or not the " +
    "daemon runs,\nand answers as `GET /api/jobs` does.\n" +
    `Statuses: ${JOB_STATUSES.join(", ")}.`,
  options: {
    status: {
      type: "string",
      description: "Only jobs in this status (comma-separated for several)",
      valueName: "STATUS",
    },
    limit: {
      type: "string",
      short: "n",
      description: `At most this many jobs in all (default ${DEFAULT_LIMIT})`,
      valueName: "N",
    },
    before: {
      type: "string",
      description: "Only jobs older than this one (the last ID of the previous page)",
      valueName: "ID",
    },
    json: { type: "boolean", description: "Print a JSON array" },
  },
  positionals: { min: 0, max: 1, completion: "pylon" },
  async run(args, ctx) {
    const statuses = parseStatuses(args.values.status);
    const limit = parseLimit(args.values.limit);
    const name = args.positionals[0];
    await using open = await openStoresForPylon(ctx, name);
    const before = args.values.before === undefined
      ? undefined
      : String(args.values.before).trim() || undefined;
    // The same query as `GET /api/jobs`: `limit` in all, newest first, `before` pages on.
    const jobs = open.pylons.length === 0
      ? []
      : await open.stores.listAcross({ pylon: name, status: statuses, limit, before });

    if (args.values.json) {
      const redactors = await pylonRedactors(ctx, [...new Set(jobs.map((j) => j.pylon))]);
      const json = jobs.map((j) => jobToJson(j, { redactor: redactors.get(j.pylon) }));
      ctx.io.out(JSON.stringify(json, null, 2) + "\n");
      return 0;
    }
    if (jobs.length === 0) {
      ctx.io.out(emptyMessage(statuses, name));
      return 0;
    }
    const now = ctx.clock.now();
    const rows = jobs.map((j) => [
      shortId(j.id),
      j.pylon,
      statusCell(j),
      timeAgo(j.createdAt, now),
      durationCell(j, now),
      costCell(j),
    ]);
    ctx.io.out(table(["ID", "PYLON", "STATUS", "TRIGGERED", "DURATION", "COST"], rows));
    if (jobs.some((j) => j.usage?.costBasis === "oauth" && j.usage.costUsd !== null)) {
      ctx.io.out("~ what the tokens would cost at API prices (auth: oauth; not what was paid)\n");
    }
    ctx.io.out(failureNotes(jobs));
    if (jobs.length === limit) {
      const more = [
        name,
        statuses ? `--status ${statuses.join(",")}` : undefined,
        limit !== DEFAULT_LIMIT ? `--limit ${limit}` : undefined,
        `--before ${jobs.at(-1)!.id}`,
      ];
      ctx.io.out(`Older jobs: pylon jobs ${more.filter(Boolean).join(" ")}\n`);
    }
    return 0;
  },
};

/** The most failures {@linkcode failureNotes} explains under the table. */
const MAX_FAILURE_NOTES = 5;

/**
 * Why the newest failed or timed-out jobs of the list ended, one line each (the table has no
 * room for it, and a newcomer's first job often fails before printing anything).
 */
export function failureNotes(jobs: readonly Job[]): string {
  const failed = jobs.filter((j) => (j.status === "failed" || j.status === "timed_out") && j.error);
  if (failed.length === 0) return "";
  const lines = failed.slice(0, MAX_FAILURE_NOTES).map((j) => {
    const why = j.error!.trim().split("\n")[0]!;
    return `  ${shortId(j.id)} ${j.status}: ${why.length > 160 ? `${why.slice(0, 159)}…` : why}\n`;
  });
  return `\nWhy they ended (pylon logs <id> for the rest):\n${lines.join("")}`;
}

/**
 * What a job cost: "$0.42", "~$0.42" for a subscription's (`auth: oauth`) API-price figure, its
 * tokens when the agent reported no dollars ("12k tok"), or "-".
 */
export function costCell(job: Job): string {
  const usage = job.usage;
  if (usage?.costUsd != null) {
    return `${usage.costBasis === "oauth" ? "~" : ""}${formatUsd(usage.costUsd)}`;
  }
  const tokens = totalTokens(usage);
  return tokens === null ? "-" : `${formatTokens(tokens)} tok`;
}

function emptyMessage(statuses: JobStatus[] | undefined, name: string | undefined): string {
  if (statuses) {
    const of = name ? ` of pylon "${name}"` : "";
    return `No ${statuses.join(" or ")} jobs${of}. Run \`pylon jobs\` without --status.\n`;
  }
  return "No jobs yet. Jobs appear here once a webhook or schedule fires while " +
    "`pylon start` runs.\n";
}

/** `--status a,b` as statuses; `undefined` when absent. @throws {UsageError} */
function parseStatuses(value: unknown): JobStatus[] | undefined {
  if (value === undefined) return undefined;
  const parts = String(value).split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (parts.length === 0) {
    throw new UsageError("Invalid --status: it is empty", {
      hint: `use one of: ${JOB_STATUSES.join(", ")}`,
    });
  }
  for (const part of parts) {
    if (!(JOB_STATUSES as readonly string[]).includes(part)) {
      const guess = closest(part, JOB_STATUSES);
      throw new UsageError(`Invalid --status "${part}": not a job status`, {
        hint: `${guess ? `did you mean "${guess}"? ` : ""}use one of: ${JOB_STATUSES.join(", ")}`,
      });
    }
  }
  return [...new Set(parts)] as JobStatus[];
}

/** `--limit N` as a positive integer. @throws {UsageError} */
function parseLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const text = String(value).trim();
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`Invalid --limit "${text}": it must be a whole number of at least 1`, {
      hint: `for example: --limit ${DEFAULT_LIMIT}`,
    });
  }
  return n;
}

/** `just now`, `1 min ago`, `3 hours ago`, `2 days ago`, or the date for a year or more. */
export function timeAgo(then: Date, now: Date): string {
  const secs = Math.floor((now.getTime() - then.getTime()) / 1000);
  if (secs < 60) return "just now";
  const mins = Math.floor(secs / 60);
  if (mins < 60) return `${mins} min ago`;
  const hours = Math.floor(mins / 60);
  if (hours < 24) return hours === 1 ? "1 hour ago" : `${hours} hours ago`;
  const days = Math.floor(hours / 24);
  if (days < 365) return days === 1 ? "1 day ago" : `${days} days ago`;
  return then.toISOString().slice(0, 10);
}

/** Finished − started (`1m34s`), `running 2m` while it runs, `--` otherwise. */
function durationCell(job: Job, now: Date): string {
  if (job.status === "running" && job.startedAt) {
    return `running ${roughDuration(now.getTime() - job.startedAt.getTime())}`;
  }
  if (job.startedAt && job.finishedAt) {
    return formatDuration(job.finishedAt.getTime() - job.startedAt.getTime());
  }
  return "--";
}

/** A duration to the minute once past one: `45s`, `2m`, `1h5m`. */
function roughDuration(ms: number): string {
  const secs = Math.max(0, Math.floor(ms / 1000));
  if (secs < 60) return `${secs}s`;
  const mins = Math.floor(secs / 60);
  if (mins < 60) return `${mins}m`;
  return `${Math.floor(mins / 60)}h${mins % 60}m`;
}

/**
 * Each pylon's redactor, as the daemon builds it (issue 12, item 18): results and errors are
 * stored redacted, and this also covers keys and texts a `${VAR}` rendered into. A pylon whose
 * config does not load gets none.
 */
async function pylonRedactors(
  ctx: CommandContext,
  names: string[],
): Promise<Map<string, Redactor>> {
  const out = new Map<string, Redactor>();
  const global = await loadGlobalConfig(ctx.paths, ctx.env).catch(() => undefined);
  if (!global) return out;
  for (const name of names) {
    try {
      const loaded = await loadPylon(ctx.paths, name, global);
      const resolved = resolvePylon(loaded.config, global.config, {
        env: loaded.env,
        systemTimezone: "UTC",
        secrets: loaded.secrets,
      });
      out.set(name, redactorFor(resolved));
    } catch {
      // not loadable now: its stored texts are redacted already
    }
  }
  return out;
}

/** `running (waiting: tool approval)`, `queued (seen 3×)`, or the status. */
function statusCell(job: Job): string {
  const waiting = waitingToJson(job).waiting;
  if (waiting !== null) return `${job.status} (waiting: ${waiting})`;
  return job.repeats > 1 ? `${job.status} (seen ${job.repeats}×)` : job.status;
}
