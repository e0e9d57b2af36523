/**
 * The daemon's side of the gateway (issue 19): which running job a request is for and how to
 * relay it (upstream, real credential), the budgets each request is checked against, and what
 * happens with counted usage (stored with the job as it runs, published on the event stream) and
 * with a job over its budget (ended with the reason).
 *
 * Budgets mid-run: a job's `agent.max_cost_usd` against its own counted cost; the pylon's and all
 * pylons' day and month windows against the usage of the jobs that finished in the window plus
 * what the gateway has counted for the jobs still running. Reservations (the dispatcher's
 * estimate of a job before it starts) are not counted here: once a job runs, its real spend is.
 *
 * @module
 */

import { formatUsd } from "../store/usage.ts";
import { budgetWindow, RUN_ANYWAY } from "../queue/budget.ts";
import type { Budget } from "../config/budget.ts";
import type { ResolvedAgent, ResolvedPylon } from "../config/resolve.ts";
import type { Job, JobStore, JobUsage } from "../store/types.ts";
import type { StoreRegistry } from "../store/registry.ts";
import { oauthFiles } from "../runner/oauth.ts";
import type { CountedUsage, GatewayLedger } from "./ledger.ts";
import type { UpstreamCredential } from "./relay.ts";
import { gatewayEnabled } from "./policy.ts";

/** How many jobs the ledger holds before ended ones are swept out without a budget check. */
const LEDGER_SWEEP = 64;

/** The Messages API's own address. */
export const ANTHROPIC_UPSTREAM = "https://api.anthropic.com";

/** Where the gateway relays a pylon's requests: its `agent.env.ANTHROPIC_BASE_URL`, else `fallback`. */
export function upstreamOf(agent: ResolvedAgent, fallback: string): string {
  const own = agent.env.ANTHROPIC_BASE_URL?.trim();
  return own && /^https?:\/\//.test(own) ? own : fallback;
}

/** The real credential of a pylon's agent, or why there is none (naming the fix). */
export async function credentialOf(
  pylon: ResolvedPylon,
  home: string | undefined,
): Promise<UpstreamCredential | { refused: string }> {
  const agent = pylon.agent;
  const file = `pylons/${pylon.name}/pylon.yaml`;
  if (agent.auth === "api_key") {
    if (!agent.apiKey) {
      return {
        refused: `${file}: agent.auth is api_key but ${agent.apiKeyVar} is not set; ` +
          `set it in the pylon's .env or agent.api_key`,
      };
    }
    return { kind: "api_key", key: agent.apiKey };
  }
  if (agent.auth === "oauth") {
    const files = await oauthFiles(agent.oauthPath ?? "~/.claude", home);
    const token = files.oauthCredentials
      ? await Deno.readTextFile(files.oauthCredentials).then(
        (text) => (JSON.parse(text)?.claudeAiOauth?.accessToken as unknown) ?? null,
        () => null,
      )
      : null;
    if (typeof token !== "string" || token === "") {
      return {
        refused: `config.yaml: defaults.agent.claude.oauth_path has no Claude login ` +
          `(.credentials.json with an access token); run claude /login on the daemon's host`,
      };
    }
    return { kind: "oauth", accessToken: token };
  }
  return {
    refused: `${file}: agent.auth is none, so pylon holds no model credential for this job; ` +
      `set agent.auth: api_key (or oauth), or agent.gateway: false`,
  };
}

/** What {@linkcode gatewayJobs} reads and calls. */
export interface GatewayJobsDeps {
  stores: StoreRegistry;
  pylonOf(name: string): ResolvedPylon | undefined;
  globalBudget(): Budget | undefined;
  ledger: GatewayLedger;
  clock: { now(): Date };
  /** The daemon's `HOME` (for `~/.claude`). */
  home: string | undefined;
  /** The upstream of pylons that name none. @default {ANTHROPIC_UPSTREAM} */
  upstream?: string | undefined;
  /** Ends a running job with `reason`. */
  kill(jobId: string, reason: string): void;
  /** A job's row changed (the event stream). */
  changed(job: Job): void;
}

/** The running job `jobId` and its store, or null. */
async function runningJob(
  stores: StoreRegistry,
  pylonOfJob: Map<string, string>,
  jobId: string,
): Promise<{ job: Job; store: JobStore } | null> {
  let pylon = pylonOfJob.get(jobId);
  if (pylon === undefined) {
    const job = await stores.findJob(jobId).catch(() => null);
    if (!job || job.id !== jobId) return null;
    pylon = job.pylon;
    pylonOfJob.set(jobId, pylon);
    if (pylonOfJob.size > 10_000) pylonOfJob.delete(pylonOfJob.keys().next().value!);
  }
  const store = stores.get(pylon);
  const job = await store?.get(jobId);
  return store && job && job.status === "running" ? { job, store } : null;
}

/** The job usage (store shape) of the gateway's counts. */
export function jobUsageOf(counted: CountedUsage, auth: string | undefined): JobUsage {
  return {
    costUsd: counted.unpriced && counted.costUsd === 0 ? null : counted.costUsd,
    costBasis: auth === "oauth" ? "oauth" : "api",
    inputTokens: counted.inputTokens,
    outputTokens: counted.outputTokens,
    cacheReadTokens: counted.cacheReadTokens,
    cacheCreationTokens: counted.cacheCreationTokens,
    numTurns: counted.reports,
    durationApiMs: null,
    models: [...counted.models],
  };
}

/** The gateway routes' job lookups, budget checks and usage hooks, over the daemon's parts. */
export function gatewayJobs(deps: GatewayJobsDeps) {
  const pylonOfJob = new Map<string, string>();
  /** Running jobs a person let run once over budget: the budget windows do not stop them. */
  const approvedOver = new Set<string>();
  const writes = new Map<string, Promise<void>>();

  /** What the jobs still running have counted, of one pylon or all; forgets ended jobs. */
  async function liveSpend(pylon: string | undefined): Promise<{ usd: number; tokens: number }> {
    const spend = { usd: 0, tokens: 0 };
    for (const entry of deps.ledger.entries()) {
      const store = deps.stores.get(entry.pylon);
      const job = await store?.get(entry.jobId);
      if (!job || job.status !== "running") {
        deps.ledger.forget(entry.jobId);
        continue;
      }
      if (pylon !== undefined && entry.pylon !== pylon) continue;
      const u = entry.usage;
      spend.usd += u.costUsd;
      spend.tokens += u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheCreationTokens;
    }
    return spend;
  }

  async function windowBlock(
    budget: Budget,
    stores: readonly JobStore[],
    pylon: string | undefined,
    label: string,
  ): Promise<string | undefined> {
    const now = deps.clock.now();
    const day = budgetWindow(now, budget.timezone, "day");
    const month = budgetWindow(now, budget.timezone, "month");
    const since = budget.monthlyUsd !== undefined ? month.start : day.start;
    const records = (await Promise.all(stores.map((s) => s.usageSince(since)))).flat();
    const live = await liveSpend(pylon);
    const inDay = records.filter((r) => r.at >= day.start);
    const usd = (rs: typeof records) => rs.reduce((n, r) => n + (r.usage.costUsd ?? 0), 0);
    if (budget.dailyUsd !== undefined && usd(inDay) + live.usd >= budget.dailyUsd) {
      return `${label}daily budget of ${formatUsd(budget.dailyUsd)} reached: ` +
        `${formatUsd(usd(inDay) + live.usd)} spent`;
    }
    if (budget.monthlyUsd !== undefined && usd(records) + live.usd >= budget.monthlyUsd) {
      return `${label}monthly budget of ${formatUsd(budget.monthlyUsd)} reached: ` +
        `${formatUsd(usd(records) + live.usd)} spent`;
    }
    if (budget.dailyTokens !== undefined) {
      const tokens = inDay.reduce(
        (n, r) =>
          n + (r.usage.inputTokens ?? 0) + (r.usage.outputTokens ?? 0) +
          (r.usage.cacheReadTokens ?? 0) + (r.usage.cacheCreationTokens ?? 0),
        0,
      ) + live.tokens;
      if (tokens >= budget.dailyTokens) {
        return `${label}daily token budget of ${budget.dailyTokens} tokens reached: ` +
          `${tokens} tokens spent`;
      }
    }
    return undefined;
  }

  return {
    async jobOf(jobId: string) {
      const found = await runningJob(deps.stores, pylonOfJob, jobId);
      if (!found) {
        approvedOver.delete(jobId);
        deps.ledger.forget(jobId);
        return { refused: "this job is not running" };
      }
      if (found.job.error === RUN_ANYWAY) approvedOver.add(jobId);
      const pylon = deps.pylonOf(found.job.pylon);
      if (!pylon) return { refused: `pylon ${found.job.pylon} is not loaded` };
      if (!gatewayEnabled(pylon.agent)) {
        return {
          refused: `pylons/${pylon.name}/pylon.yaml: the model gateway is off for this pylon ` +
            `(agent.gateway: false)`,
        };
      }
      const credential = await credentialOf(pylon, deps.home);
      if ("refused" in credential) return credential;
      return {
        pylon: pylon.name,
        upstream: upstreamOf(pylon.agent, deps.upstream ?? ANTHROPIC_UPSTREAM),
        credential,
      };
    },

    async budgetBlock(jobId: string, pylonName: string, counted: CountedUsage | null) {
      const pylon = deps.pylonOf(pylonName);
      const cap = pylon?.agent.settings.maxCostUsd;
      if (cap !== undefined && counted && counted.costUsd >= cap) {
        return `the job's budget of ${formatUsd(cap)} (agent.max_cost_usd) reached: ` +
          `${formatUsd(counted.costUsd)} spent`;
      }
      // "Run anyway" (approved while held) runs once whatever the windows say; its own cap holds.
      if (approvedOver.has(jobId)) return undefined;
      const own = pylon?.budget;
      const store = deps.stores.get(pylonName);
      if (own && store) {
        const reason = await windowBlock(own, [store], pylonName, "");
        if (reason) return reason;
      }
      const global = deps.globalBudget();
      // Ended jobs leave the ledger as budgets are checked; without any, now and then.
      if (!own && !global && deps.ledger.entries().length > LEDGER_SWEEP) {
        await liveSpend(undefined);
      }
      if (global) {
        // Finished jobs of every open store count.
        const stores = deps.stores.names().map((name) => deps.stores.get(name))
          .filter((s): s is JobStore => s !== undefined);
        const reason = await windowBlock(global, stores, undefined, "all pylons' ");
        if (reason) return reason;
      }
      return undefined;
    },

    onUsage(jobId: string, pylonName: string, total: CountedUsage) {
      const store = deps.stores.get(pylonName);
      if (!store) return;
      const auth = deps.pylonOf(pylonName)?.agent.auth;
      const previous = writes.get(jobId) ?? Promise.resolve();
      const next = previous.then(async () => {
        const job = await store.update(jobId, { usage: jobUsageOf(total, auth) });
        if (job) deps.changed(job);
      }).catch(() => {});
      writes.set(jobId, next);
      void next.then(() => {
        if (writes.get(jobId) === next) writes.delete(jobId);
      });
    },

    onOverBudget(jobId: string, reason: string) {
      deps.kill(jobId, reason);
    },
  };
}
