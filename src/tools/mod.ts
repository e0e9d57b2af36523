/**
 * Tool approval while the agent runs (issue 14 §4), the daemon side: the service that watches
 * running jobs' requests and decides them, and the shapes the places people decide from share.
 *
 * @module
 */

export { asToolApprovalListener, ToolApprovalService } from "./service.ts";
export type { ToolApprovalServiceDeps } from "./service.ts";
export { toolCallToJson } from "./json.ts";
export { TOOL_DECISIONS } from "./types.ts";
export type {
  DecideFailure,
  DecisionSource,
  DecisionVia,
  ToolApprovalListener,
  ToolApprovals,
  ToolCallDecided,
  ToolCallRequest,
  ToolDecision,
} from "./types.ts";
