/**
 * Cost and usage of jobs: sums (a conversation, a report) and the short texts users read them
 * in ("$0.42 · 18 turns"). Pure, except {@linkcode conversationUsage}, which reads the store.
 *
 * @module
 */

import type { Job, JobStore, JobUsage } from "./types.ts";

/** The longest chain of follow-ups {@linkcode conversationUsage} walks up. */
export const CONVERSATION_MAX = 200;

/** All four kinds of tokens of `usage` together; null when it reported none. */
export function totalTokens(usage: JobUsage | null): number | null {
  if (!usage) return null;
  const kinds = [
    usage.inputTokens,
    usage.outputTokens,
    usage.cacheReadTokens,
    usage.cacheCreationTokens,
  ];
  if (kinds.every((n) => n === null)) return null;
  return kinds.reduce<number>((sum, n) => sum + (n ?? 0), 0);
}

/**
 * The sum of several jobs' usage; null when none reported any. A figure is null only when no
 * job reported it; the cost basis is `oauth` as soon as one dollar figure is an API-price
 * estimate of a subscription's tokens.
 */
export function sumUsage(usages: readonly (JobUsage | null)[]): JobUsage | null {
  const present = usages.filter((u): u is JobUsage => u !== null);
  if (present.length === 0) return null;
  const add = (pick: (u: JobUsage) => number | null) => {
    const values = present.map(pick).filter((n): n is number => n !== null);
    return values.length ? values.reduce((a, b) => a + b, 0) : null;
  };
  const cost = add((u) => u.costUsd);
  return {
    costUsd: cost === null ? null : Math.round(cost * 1e6) / 1e6,
    costBasis: present.some((u) => u.costBasis === "oauth")
      ? "oauth"
      : present.some((u) => u.costBasis === "api")
      ? "api"
      : null,
    inputTokens: add((u) => u.inputTokens),
    outputTokens: add((u) => u.outputTokens),
    cacheReadTokens: add((u) => u.cacheReadTokens),
    cacheCreationTokens: add((u) => u.cacheCreationTokens),
    numTurns: add((u) => u.numTurns),
    durationApiMs: add((u) => u.durationApiMs),
    models: [...new Set(present.flatMap((u) => u.models))],
  };
}

/** Dollars to two decimals, or to four below one cent ("$0.42", "$0.0031"). */
export function formatUsd(usd: number): string {
  if (usd > 0 && usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

/**
 * The cost of `usage` as users read it: "$0.42", or "$0.42 at API prices" when a subscription
 * (`auth: oauth`) ran it and the figure is not what was paid; null without a dollar figure.
 */
export function costText(usage: JobUsage | null): string | null {
  if (usage?.costUsd == null) return null;
  const usd = formatUsd(usage.costUsd);
  return usage.costBasis === "oauth" ? `${usd} at API prices` : usd;
}

/** A token count in short ("950", "12.3k", "4.1M"). */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/**
 * The parts of a finished job's footer about what it used: its cost (or its tokens when the
 * agent reported no dollars), its turns, and for a follow-up its conversation's total.
 */
export function usageParts(
  usage: JobUsage | null,
  conversation?: JobUsage | null,
): string[] {
  const parts: string[] = [];
  const cost = costText(usage);
  const tokens = totalTokens(usage);
  if (cost) parts.push(cost);
  else if (tokens !== null) parts.push(`${formatTokens(tokens)} tokens`);
  if (usage?.numTurns != null) {
    parts.push(`${usage.numTurns} turn${usage.numTurns === 1 ? "" : "s"}`);
  }
  if (conversation) {
    const total = costText(conversation) ??
      (totalTokens(conversation) === null
        ? null
        : `${formatTokens(totalTokens(conversation)!)} tokens`);
    if (total) parts.push(`conversation ${total}`);
  }
  return parts;
}

/**
 * The usage of the conversation `job` belongs to: the job and every job it follows up (or
 * retries), up its `parentId` chain; null for a job without a parent (its own usage says it
 * all) or when none reported any.
 */
export async function conversationUsage(store: JobStore, job: Job): Promise<JobUsage | null> {
  if (!job.parentId) return null;
  const usages = [job.usage];
  const seen = new Set([job.id]);
  let parentId: string | null = job.parentId;
  while (parentId && !seen.has(parentId) && seen.size < CONVERSATION_MAX) {
    seen.add(parentId);
    const parent: Job | null = await store.get(parentId);
    if (!parent) break;
    usages.push(parent.usage);
    parentId = parent.parentId;
  }
  return sumUsage(usages);
}
