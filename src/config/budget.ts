/**
 * Spending caps (issue 14 §3): `budget` in `pylon.yaml` (per pylon), `defaults.budget` in
 * `config.yaml` (the per-pylon default, field by field) and `budget` at the top of `config.yaml`
 * (all pylons together). Shapes and resolution only; what was spent is `queue/budget.ts`.
 *
 * @module
 */

import { z } from "zod";

/** `budget` as written in either file. */
export const budgetSchema = z.strictObject({
  "daily_usd": z.number().positive().optional(),
  "monthly_usd": z.number().positive().optional(),
  "daily_tokens": z.int().min(1).optional(),
  /** IANA zone the day and month windows follow; default: the pylon's (or the daemon's) zone. */
  timezone: z.string().refine(isZone, {
    message: "is not an IANA time zone; use a name like Europe/Berlin or UTC",
  }).optional(),
});

export type BudgetConfig = z.output<typeof budgetSchema>;

/** A budget after resolution; at least one cap is set. */
export interface Budget {
  dailyUsd: number | undefined;
  monthlyUsd: number | undefined;
  dailyTokens: number | undefined;
  timezone: string;
}

/**
 * The caps of `own` over those of `defaults` (field by field), in `own`'s zone, else the
 * defaults', else `fallbackZone`; undefined when no cap is set.
 */
export function resolveBudget(
  own: BudgetConfig | undefined,
  defaults: BudgetConfig | undefined,
  fallbackZone: string,
): Budget | undefined {
  const o = own ?? {}, d = defaults ?? {};
  const budget: Budget = {
    dailyUsd: o.daily_usd ?? d.daily_usd,
    monthlyUsd: o.monthly_usd ?? d.monthly_usd,
    dailyTokens: o.daily_tokens ?? d.daily_tokens,
    timezone: o.timezone ?? d.timezone ?? fallbackZone,
  };
  const capped = budget.dailyUsd !== undefined || budget.monthlyUsd !== undefined ||
    budget.dailyTokens !== undefined;
  return capped ? budget : undefined;
}

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
