/**
 * The model API gateway's routes (issue 19): `/agent/v1/jobs/<id>/model/anthropic/*`, relayed
 * to the job's upstream (`https://api.anthropic.com` unless the pylon's `agent.env` names
 * another `ANTHROPIC_BASE_URL`) with the real key or OAuth token swapped in.
 *
 * The agent authenticates with its job's channel token, sent as its API key (`x-api-key`, what
 * `ANTHROPIC_API_KEY` makes Claude Code send) or as `Authorization: Bearer` (OAuth-style
 * clients): the same per-job token as the rest of `/agent/v1`, worthless outside pylon and
 * revoked when the job ends. A wrong token gets the Messages API's 401 shape.
 *
 * Before each request the job's and its pylon's budgets are checked against what has been spent,
 * the gateway's own running counts included: over one, the agent gets a 400 in the API's error
 * shape (Claude Code stops on it, as on "credit balance too low") and the job is ended with the
 * reason. Mounted before the channel's other routes (`app.ts`), which want `Authorization`.
 *
 * @module
 */

import { Hono } from "hono";
import { verifyJobToken } from "../../agent_channel/mod.ts";
import {
  apiError,
  type CountedUsage,
  type GatewayLedger,
  type RelayLimits,
  relayRequest,
  type UpstreamCredential,
} from "../../gateway/mod.ts";
import type { Logger } from "../../log/mod.ts";
import { shortId } from "../../errors.ts";

/** Where and how the gateway relays one running job's requests. */
export interface GatewayJob {
  pylon: string;
  /** The upstream's base URL, e.g. `https://api.anthropic.com`. */
  upstream: string;
  credential: UpstreamCredential;
}

/** What the gateway routes need. */
export interface GatewayRoutesDeps {
  /** `$PYLON_HOME/jobs`. */
  jobsDir: string;
  clock: { now(): Date };
  log: Logger;
  ledger: GatewayLedger;
  /** The running job's relay settings, or why it gets none (the agent reads the message). */
  jobOf(jobId: string): Promise<GatewayJob | { refused: string }>;
  /** Why the job may not call the model now (a budget reached), or undefined. */
  budgetBlock(
    jobId: string,
    pylon: string,
    counted: CountedUsage | null,
  ): Promise<string | undefined>;
  /** The job's counted usage grew (store it with the job, publish it). */
  onUsage?(jobId: string, pylon: string, total: CountedUsage): void;
  /** The gateway refused the job for its budget: end it with `reason`. */
  onOverBudget?(jobId: string, reason: string): void;
  limits?: Partial<RelayLimits> | undefined;
  /** @default {globalThis.fetch} */
  fetch?: typeof fetch | undefined;
}

/** The provider paths under `jobs/<id>/model/`. */
const PROVIDERS = ["anthropic"] as const;

/** The agent's job token, from `x-api-key` or `Authorization: Bearer`. */
function tokenOf(headers: Headers): string {
  const key = headers.get("x-api-key")?.trim();
  if (key) return key;
  const auth = headers.get("authorization") ?? "";
  return auth.startsWith("Bearer ") ? auth.slice(7).trim() : "";
}

/** Builds the gateway's routes, to mount at `/agent/v1`. */
export function createGatewayRoutes(deps: GatewayRoutesDeps): Hono {
  const app = new Hono();
  for (const provider of PROVIDERS) {
    app.all(`/jobs/:id/model/${provider}/*`, async function gateway(c) {
      const jobId = c.req.param("id");
      const req = c.req.raw;
      const checked = await verifyJobToken(
        deps.jobsDir,
        jobId,
        tokenOf(req.headers),
        deps.clock.now().getTime(),
      );
      if (!checked.ok) {
        deps.log.warn("gateway.refused", { job: shortId(jobId.slice(0, 64)), why: checked.why });
        await req.body?.cancel().catch(() => {});
        return apiError(401, "authentication_error", "missing, wrong or expired job token");
      }
      const job = await deps.jobOf(jobId);
      if ("refused" in job) {
        await req.body?.cancel().catch(() => {});
        return apiError(403, "permission_error", job.refused);
      }
      const counted = await deps.ledger.of(jobId, job.pylon);
      const blocked = await deps.budgetBlock(jobId, job.pylon, counted);
      if (blocked) {
        await req.body?.cancel().catch(() => {});
        deps.log.warn("gateway.over_budget", { job: shortId(jobId), reason: blocked });
        deps.onOverBudget?.(jobId, blocked);
        return apiError(400, "invalid_request_error", `pylon: ${blocked}`);
      }
      const url = new URL(req.url);
      const prefix = `/jobs/${jobId}/model/${provider}`;
      const at = url.pathname.indexOf(prefix);
      const path = url.pathname.slice(at + prefix.length) + url.search;
      return await relayRequest(req, {
        upstream: job.upstream,
        path,
        credential: job.credential,
        limits: deps.limits,
        fetch: deps.fetch,
        onUsage: (delta) => {
          const total = deps.ledger.add(jobId, job.pylon, delta);
          deps.onUsage?.(jobId, job.pylon, total);
        },
      });
    });
  }
  return app;
}
