/**
 * Tool approval in the control API (issue 14 §4):
 *
 * - `GET /jobs/<id>/tool-calls`: the job's calls that wait, oldest first (404 unknown job);
 * - `POST /jobs/<id>/tool-calls/<call>/allow` (body `{"for_job": true}` allows the same rule for
 *   the rest of the job) and `.../deny`: 200 `{call_id, decision, by, via}`, 404 unknown job or
 *   call, 409 `{error, decision, by}` when it was decided already.
 *
 * Who decided: `via` is `api`, or `cli` when the CLI says so (`x-pylon-via: cli`), or `dashboard`
 * when the dashboard says so and the request was authenticated by its session cookie
 * (`c.get("authVia") === "cookie"`; a bearer token cannot claim to be the dashboard).
 *
 * @module
 */

import { Hono } from "hono";
import { JobNotFoundError, type StoreRegistry } from "../../store/mod.ts";
import {
  type DecisionSource,
  type ToolApprovals,
  toolCallToJson,
  type ToolDecision,
} from "../../tools/mod.ts";
import { readBody } from "./body.ts";
import { reject } from "./webhook.ts";

/** What the routes need. */
export interface ToolCallRoutesDeps {
  stores: StoreRegistry;
  approvals: ToolApprovals;
}

/** The routes, to mount under `/api`. */
export function createToolCallRoutes(deps: ToolCallRoutesDeps): Hono {
  const app = new Hono();

  app.get("/jobs/:id/tool-calls", async function listToolCalls(c) {
    const job = await deps.stores.findJob(c.req.param("id"));
    if (!["1", "true", "yes"].includes(c.req.query("all") ?? "")) {
      return c.json(deps.approvals.pending(job.id).map(toolCallToJson));
    }
    // `?all=1`: every call of the job, decided ones with who decided what, from where and why.
    const calls = await deps.stores.get(job.pylon)!.toolCalls(job.id);
    return c.json(calls.map((call) => ({
      "call_id": call.callId,
      tool: call.tool,
      rule: call.rule,
      digest: call.digest,
      summary: call.summary,
      "requested_at": call.requestedAt.toISOString(),
      "expires_at": call.expiresAt.toISOString(),
      decision: call.decision,
      by: call.decidedBy,
      via: call.decidedVia,
      "decided_at": call.decidedAt?.toISOString() ?? null,
      reason: call.reason,
    })));
  });

  for (const action of ["allow", "deny"] as const) {
    app.post(`/jobs/:id/tool-calls/:call/${action}`, async function decideToolCall(c) {
      const job = await deps.stores.findJob(c.req.param("id"));
      const callId = c.req.param("call");
      let forJob = false;
      if (action === "allow") {
        const body = await readBody(c.req.raw, { max: 4096, timeoutMs: 10_000 });
        if (!body.ok) return reject(400, "body is larger than 4 KiB or did not arrive in time");
        const text = new TextDecoder().decode(body.bytes).trim();
        if (text !== "") {
          let data: unknown;
          try {
            data = JSON.parse(text);
          } catch {
            return reject(400, 'body is not valid JSON; send {"for_job": true} or nothing');
          }
          forJob = typeof data === "object" && data !== null &&
            (data as Record<string, unknown>).for_job === true;
        }
      }
      const decision: ToolDecision = action === "deny"
        ? "deny"
        : forJob
        ? "allow_for_job"
        : "allow";
      const source = sourceOf(
        c.req.header("x-pylon-via"),
        (c as unknown as { get(key: string): unknown }).get("authVia"),
      );
      const answer = await deps.approvals.decide(job.id, callId, decision, source);
      if (answer.ok) {
        return c.json({
          "call_id": callId,
          decision: answer.decided.decision,
          by: answer.decided.source.by,
          via: answer.decided.source.via,
        });
      }
      if (answer.code === "already_decided") {
        return c.json({
          error: answer.reason,
          decision: answer.decided.decision,
          by: answer.decided.source.by,
        }, 409);
      }
      return reject(answer.code === "not_found" ? 404 : 403, answer.reason);
    });
  }

  app.onError(function toolCallError(err, c) {
    if (err instanceof JobNotFoundError) return c.json({ error: err.message }, 404);
    throw err;
  });
  return app;
}

/** Who decides through the API (see the module doc). */
export function sourceOf(header: string | undefined, authVia: unknown): DecisionSource {
  const claimed = header?.trim().toLowerCase();
  if (claimed === "dashboard" && authVia === "cookie") return { by: "dashboard", via: "dashboard" };
  if (claimed === "cli") return { by: "cli", via: "cli" };
  return { by: "api", via: "api" };
}
