/**
 * Tool approval while the agent runs (issue 14 §4), the daemon side: the service that watches
 * running jobs' requests and decides them, the agent channel's transport of the hook's requests
 * and decisions when jobs have no host mounts (issue 18), and the shapes the places people
 * decide from share.
 *
 * @module
 */

export { asToolApprovalListener, ToolApprovalService } from "./service.ts";
export type { ToolApprovalServiceDeps } from "./service.ts";
export { toolCallToJson } from "./json.ts";
export { submitToolCall, waitForChannelDecision } from "./channel_calls.ts";
export type { ChannelDecision, SubmitOutcome } from "./channel_calls.ts";
export { CALL_ID_REGEXP, MAX_REQUEST_BYTES } from "./request_file.ts";
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
