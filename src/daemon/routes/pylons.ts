/**
 * `GET /api/pylons`: every pylon the daemon knows of, with its trigger (path, or cron schedule,
 * zone and next run), the URL to register with a sender, and its job counts by status. Read-only;
 * the dashboards extend it.
 *
 * @module
 */

import type { JobStatus } from "../../config/mod.ts";
import { describeCron, nextRuns } from "../../cron/mod.ts";
import type { StoreRegistry } from "../../store/mod.ts";
import type { ActivePylon, PylonTable } from "../pylon_table.ts";

/** What the pylons listing needs. */
export interface PylonsDeps {
  table: PylonTable;
  stores: StoreRegistry;
  /** Every pylon folder's name (active, disabled or not loadable). @default {the active ones} */
  pylonNames?(): Promise<string[]>;
  /** Source of "now" for the next cron run. @default {the system clock} */
  clock?: { now(): Date };
}

/** How a pylon stands in the daemon. */
export type PylonState = "active" | "disabled" | "not_loaded";

/** One pylon as `GET /api/pylons` shows it. */
export interface PylonSummary {
  name: string;
  /** False only for a pylon with `disabled: true` (or one the daemon was not started with). */
  enabled: boolean;
  state: PylonState;
  /** Null when the pylon is not loaded (its file is not read for this answer). */
  trigger: TriggerSummary | null;
  "webhook_url": string | null;
  jobs: Record<JobStatus, number> | null;
}

/** A pylon's trigger: the webhook path, or the cron schedule with its zone and next run. */
export type TriggerSummary =
  | { type: "webhook"; path: string | null }
  | {
    type: "cron";
    cron: string;
    description: string | null;
    timezone: string;
    "next_run": string | null;
  };

/** Every known pylon in name order. */
export async function listPylons(deps: PylonsDeps): Promise<PylonSummary[]> {
  const names = new Set([...await deps.pylonNames?.() ?? [], ...deps.table.names()]);
  const now = deps.clock?.now() ?? new Date();
  const out: PylonSummary[] = [];
  for (const name of [...names].sort()) {
    const active = deps.table.get(name);
    const state: PylonState = active
      ? "active"
      : deps.table.isBlocked(name)
      ? "not_loaded"
      : "disabled";
    const store = deps.stores.get(name);
    out.push({
      name,
      enabled: state !== "disabled",
      state,
      trigger: active ? triggerSummary(active, now) : null,
      "webhook_url": active?.resolved.webhookUrl ?? null,
      jobs: store ? await store.countByStatus() : null,
    });
  }
  return out;
}

function triggerSummary(pylon: ActivePylon, now: Date): TriggerSummary {
  const trigger = pylon.resolved.config.trigger;
  if (trigger.type !== "cron" || trigger.cron === undefined) {
    return { type: "webhook", path: trigger.path ?? null };
  }
  const timezone = pylon.resolved.timezone;
  const [next] = nextRuns(trigger.cron, { timezone, from: now, count: 1 });
  let description: string | null = null;
  try {
    description = describeCron(trigger.cron);
  } catch {
    // a schedule that loaded has a description; none is better than a failed listing
  }
  return {
    type: "cron",
    cron: trigger.cron,
    description,
    timezone,
    "next_run": next?.toISOString() ?? null,
  };
}
