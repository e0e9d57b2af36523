/**
 * What a pylon's chat is told about its budgets (issue 14 §3): once per budget window when jobs
 * are held ("⏸️ Budget reached … 2 jobs held"), and once per window when 80 % of a cap is used.
 * Figures come from the stored jobs (the same `usageSince` the dispatcher's check reads), never
 * from a counter kept in memory.
 *
 * Design note: "once per window" is remembered in one small JSON file in the daemon's data
 * folder (`data/budget_notices.json`): `{ "<scope>|<cap>|<window start>|<held|80>|<channel>":
 * "<window end>" }`, written atomically (temp file + rename) after the notice was posted, and
 * pruned of windows that ended. A file, not a table, because the daemon-wide budget spans every
 * pylon's `jobs.db` (no one database owns it), the record is about what a chat was told rather
 * than about a job, and losing it (deleted by hand) costs at most one repeated notice. The
 * channel's key is part of the record, so two pylons posting to one chat share a notice about
 * the daemon-wide budget, and a chat that was down gets its notice when it is back.
 *
 * @module
 */

import { dirname } from "node:path";
import type { Channel, Destination } from "../channel/channel.ts";
import { isReporter } from "../channel/channel.ts";
import type { Budget } from "../config/mod.ts";
import type { ActivePylon } from "../daemon/pylon_table.ts";
import { shortId } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import { type BudgetWindow, budgetWindow } from "../queue/budget.ts";
import {
  formatUsd,
  type Job,
  type JobStore,
  type StoreRegistry,
  totalTokens,
} from "../store/mod.ts";

/** One cap of a budget: what its current window has spent. */
export interface CapUse {
  cap: "daily_usd" | "monthly_usd" | "daily_tokens";
  limit: number;
  /** What finished jobs spent in the window (dollars or tokens). */
  spent: number;
  window: BudgetWindow;
  timezone: string;
}

/** Whose budget: one pylon's, or all pylons' together (`budget` in config.yaml). */
export type BudgetScope = { pylon: string } | { all: true };

/** The share of a cap at which the chat is warned once per window. */
export const WARN_SHARE = 0.8;

/** What {@linkcode BudgetNotices} needs. */
export interface BudgetNoticesDeps {
  stores: StoreRegistry;
  pylonOf(name: string): ActivePylon | undefined;
  channelsFor(pylon: ActivePylon): Destination[];
  globalBudget?: (() => Budget | undefined) | undefined;
  /** The record of notices posted; undefined: kept in memory only (tests of other parts). */
  file?: string | undefined;
  clock: { now(): Date };
  log: Logger;
}

/** Posts budget notices to the chats of the pylons whose jobs are held or spend. */
export class BudgetNotices {
  readonly #d: BudgetNoticesDeps;
  #chain: Promise<void> = Promise.resolve();
  #memory: Record<string, string> | undefined;

  constructor(deps: BudgetNoticesDeps) {
    this.#d = deps;
  }

  /** A job changed: a held one may owe a "budget reached", a finished one an "80 %". */
  changed(job: Job): void {
    const held = job.status === "held";
    const spent = job.usage !== null && (job.usage.costUsd !== null || totalTokens(job.usage));
    if (!held && !spent) return;
    this.#chain = this.#chain.then(() => held ? this.#held(job) : this.#spent(job)).catch((e) =>
      this.#d.log.warn("budget.notice_failed", {
        pylon: job.pylon,
        job: shortId(job.id),
        error: e instanceof Error ? e.message : String(e),
      })
    );
  }

  /** Waits for the notices in flight. */
  settled(): Promise<void> {
    return this.#chain;
  }

  async #held(job: Job): Promise<void> {
    const pylon = this.#d.pylonOf(job.pylon);
    if (!pylon) return;
    const { scope, budget, cap } = this.#blocking(job, pylon);
    if (!budget) return;
    const stores = this.#storesOf(scope);
    const uses = await capUses(budget, stores, this.#d.clock.now());
    const use = uses.find((u) => u.cap === cap) ??
      uses.toSorted((a, b) => b.spent / b.limit - a.spent / a.limit)[0];
    if (!use) return;
    const held = (await Promise.all(stores.map((s) => s.list({ status: "held", limit: 1000 }))))
      .flat().length;
    await this.#post(pylon, `${scopeKey(scope)}|${use.cap}|held`, use, heldText(scope, use, held));
  }

  async #spent(job: Job): Promise<void> {
    const pylon = this.#d.pylonOf(job.pylon);
    if (!pylon) return;
    const now = this.#d.clock.now();
    const global = this.#d.globalBudget?.();
    const scopes: [BudgetScope, Budget | undefined][] = [
      [{ pylon: pylon.name }, pylon.resolved.budget],
      [{ all: true }, global],
    ];
    for (const [scope, budget] of scopes) {
      if (!budget) continue;
      for (const use of await capUses(budget, this.#storesOf(scope), now)) {
        if (use.spent < use.limit * WARN_SHARE) continue;
        await this.#post(pylon, `${scopeKey(scope)}|${use.cap}|80`, use, warnText(scope, use));
      }
    }
  }

  /** The budget (and cap) named by a held job's reason: the pylon's, or all pylons'. */
  #blocking(job: Job, pylon: ActivePylon) {
    const match = /^(all pylons' )?(daily token budget|daily budget|monthly budget) of /.exec(
      job.error ?? "",
    );
    const all = match ? match[1] !== undefined : !pylon.resolved.budget;
    const cap: CapUse["cap"] | undefined = match
      ? ({
        "daily token budget": "daily_tokens",
        "daily budget": "daily_usd",
        "monthly budget": "monthly_usd",
      } as const)[match[2] as "daily budget"]
      : undefined;
    const scope: BudgetScope = all ? { all: true } : { pylon: pylon.name };
    const budget = all ? this.#d.globalBudget?.() : pylon.resolved.budget;
    return { scope, budget, cap };
  }

  #storesOf(scope: BudgetScope): JobStore[] {
    const { stores } = this.#d;
    const names = "pylon" in scope ? [scope.pylon] : stores.names();
    return names.map((n) => stores.get(n)).filter((s) => s !== undefined);
  }

  /** Posts `text` once per window to each chat channel of `pylon` (remembered in the file). */
  async #post(pylon: ActivePylon, what: string, use: CapUse, text: string): Promise<void> {
    const sent = await this.#load();
    let changed = false;
    for (const channel of this.#d.channelsFor(pylon)) {
      if (isReporter(channel) || !channel.interactive) continue;
      const key = `${what}|${use.window.start.toISOString()}|${(channel as Channel).key}`;
      if (sent[key]) continue;
      try {
        await channel.post(null, text);
      } catch (e) {
        this.#d.log.warn("budget.notice_failed", {
          pylon: pylon.name,
          channel: channel.kind,
          error: e instanceof Error ? e.message : String(e),
          note: "posted with the next change of a job",
        });
        continue;
      }
      sent[key] = use.window.end.toISOString();
      changed = true;
      this.#d.log.info("budget.notice", { pylon: pylon.name, notice: what, channel: channel.kind });
    }
    if (changed) await this.#save(sent);
  }

  async #load(): Promise<Record<string, string>> {
    if (this.#memory) return this.#memory;
    let record: Record<string, string> = {};
    if (this.#d.file) {
      try {
        const parsed = JSON.parse(await Deno.readTextFile(this.#d.file));
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
          record = Object.fromEntries(
            Object.entries(parsed).filter(([, v]) => typeof v === "string"),
          ) as Record<string, string>;
        }
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) {
          this.#d.log.warn("budget.notices_unreadable", {
            file: this.#d.file,
            error: e instanceof Error ? e.message : String(e),
            note: "a notice of this window may be repeated",
          });
        }
      }
    }
    const now = this.#d.clock.now().getTime();
    this.#memory = Object.fromEntries(
      Object.entries(record).filter(([, end]) => Date.parse(end) > now),
    );
    return this.#memory;
  }

  async #save(sent: Record<string, string>): Promise<void> {
    const file = this.#d.file;
    if (!file) return;
    const now = this.#d.clock.now().getTime();
    for (const [key, end] of Object.entries(sent)) if (Date.parse(end) <= now) delete sent[key];
    await Deno.mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(sent, null, 2) + "\n", { mode: 0o600 });
    await Deno.rename(tmp, file);
  }
}

/** What each cap of `budget` has spent in its current window, from the stored jobs. */
export async function capUses(
  budget: Budget,
  stores: readonly JobStore[],
  now: Date,
): Promise<CapUse[]> {
  const day = budgetWindow(now, budget.timezone, "day");
  const month = budgetWindow(now, budget.timezone, "month");
  const since = budget.monthlyUsd !== undefined ? month.start : day.start;
  const records = (await Promise.all(stores.map((s) => s.usageSince(since)))).flat();
  const inDay = records.filter((r) => r.at >= day.start);
  const uses: CapUse[] = [];
  const tz = budget.timezone;
  if (budget.dailyUsd !== undefined) {
    const spent = inDay.reduce((n, r) => n + (r.usage.costUsd ?? 0), 0);
    uses.push({ cap: "daily_usd", limit: budget.dailyUsd, spent, window: day, timezone: tz });
  }
  if (budget.monthlyUsd !== undefined) {
    const spent = records.reduce((n, r) => n + (r.usage.costUsd ?? 0), 0);
    uses.push({ cap: "monthly_usd", limit: budget.monthlyUsd, spent, window: month, timezone: tz });
  }
  if (budget.dailyTokens !== undefined) {
    const spent = inDay.reduce((n, r) => n + (totalTokens(r.usage) ?? 0), 0);
    uses.push({ cap: "daily_tokens", limit: budget.dailyTokens, spent, window: day, timezone: tz });
  }
  return uses;
}

/** "today's $20.00 budget", "this month's $500.00 budget", "today's 2000000-token budget". */
export function capName(use: Pick<CapUse, "cap" | "limit">): string {
  switch (use.cap) {
    case "daily_usd":
      return `today's ${formatUsd(use.limit)} budget`;
    case "monthly_usd":
      return `this month's ${formatUsd(use.limit)} budget`;
    case "daily_tokens":
      return `today's ${use.limit}-token budget`;
  }
}

/** "$16.40" or "1500 tokens". */
function amount(use: CapUse, n: number): string {
  return use.cap === "daily_tokens" ? `${Math.round(n)} tokens` : formatUsd(n);
}

/** "6 Dec 2026, 00:00 (Europe/Berlin)". */
export function resetText(use: Pick<CapUse, "window" | "timezone">): string {
  const when = new Intl.DateTimeFormat("en-GB", {
    timeZone: use.timezone,
    dateStyle: "medium",
    timeStyle: "short",
  }).format(use.window.end);
  return `${when} (${use.timezone})`;
}

function scopeText(scope: BudgetScope): string {
  return "pylon" in scope ? `pylon **${scope.pylon}**` : "all pylons together";
}

function scopeKey(scope: BudgetScope): string {
  return "pylon" in scope ? `pylon:${scope.pylon}` : "all";
}

/** The notice of a window whose cap holds jobs. */
export function heldText(scope: BudgetScope, use: CapUse, held: number): string {
  const jobs = `${held} job${held === 1 ? " is" : "s are"} held`;
  return [
    `⏸️ **Budget reached**: ${capName(use)} (${scopeText(scope)}) is used up, ` +
    `${amount(use, use.spent)} of ${amount(use, use.limit)} spent.`,
    `${jobs} until it resets on ${resetText(use)}. **Run anyway** on a job's message ` +
    "(or `pylon approve <job>`) starts one now.",
  ].join("\n");
}

/** The notice of a window at 80 % of its cap. */
export function warnText(scope: BudgetScope, use: CapUse): string {
  const share = Math.floor((use.spent / use.limit) * 100);
  return `⚠️ **${share} % of ${capName(use)} used** (${scopeText(scope)}): ` +
    `${amount(use, use.spent)} of ${amount(use, use.limit)}; it resets on ${resetText(use)}.`;
}
