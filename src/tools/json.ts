/**
 * A waiting tool call as the API shows it (`GET /api/jobs/<id>/tool-calls`, `pylon allow`).
 *
 * @module
 */

import type { ToolCallRequest } from "./types.ts";

/** `{call_id, tool, input, summary, rule, digest, requested_at, expires_at}` (ISO times). */
export function toolCallToJson(request: ToolCallRequest): Record<string, unknown> {
  return {
    "call_id": request.callId,
    tool: request.tool,
    input: request.input,
    summary: request.summary,
    rule: request.rule,
    digest: request.digest,
    "requested_at": request.requestedAt.toISOString(),
    "expires_at": request.expiresAt.toISOString(),
  };
}
