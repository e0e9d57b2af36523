/**
 * Tool approval while an agent runs (issue 14, section 4): the shapes shared by the daemon side
 * (the hook's requests in the job's folders, decisions, timeouts: `src/tools/`) and the places
 * people decide from (chat buttons, the CLI, the API, the dashboard).
 *
 * A request is what the hook inside the container asked; the daemon re-reads and checks it (size,
 * regular file, digest) before it shows or decides anything. A decision names the call id and the
 * digest of the exact input the daemon showed, so the hook allows only the input a person saw.
 *
 * @module
 */

/** What a person (or the timeout) decided about one tool call. */
export type ToolDecision = "allow" | "deny" | "allow_for_job";

/** Every decision, for validation. */
export const TOOL_DECISIONS: readonly ToolDecision[] = ["allow", "deny", "allow_for_job"];

/** Where a decision came from. `timeout` is the daemon itself when `approve_timeout` ran out. */
export type DecisionVia = "cli" | "api" | "telegram" | "slack" | "dashboard" | "timeout";

/** Who decided, and from where; recorded on the job. */
export interface DecisionSource {
  /** A chat display name (`@ada`), a chat user id, `cli`, `api`, … */
  by: string;
  via: DecisionVia;
}

/** One tool call waiting for a person. */
export interface ToolCallRequest {
  jobId: string;
  pylon: string;
  /** Short, unique within the job; safe in URLs and Telegram callback data (≤ 16 chars, [a-z0-9]). */
  callId: string;
  /** The tool's name as the agent calls it: `Bash`, `Edit`, `WebFetch`, `mcp__github__create_pr`. */
  tool: string;
  /** The tool's input as the hook received it (already size-checked), redacted for display. */
  input: unknown;
  /** SHA-256 (hex) of the exact input bytes the hook holds. */
  digest: string;
  /**
   * Markdown for people: the command, the file, a diff summary. Already redacted; channels
   * escape it as they escape any Markdown.
   */
  summary: string;
  /** The `approve_tools` rule that matched, e.g. `Bash(git push:*)`. */
  rule: string;
  requestedAt: Date;
  /** When no answer means deny. */
  expiresAt: Date;
}

/** A decided call, as shown after the fact (the message edited, the webhook event). */
export interface ToolCallDecided {
  request: ToolCallRequest;
  decision: ToolDecision;
  source: DecisionSource;
  decidedAt: Date;
  /**
   * Why, as recorded and as the agent is told: `allowed by @ada`, `no answer within 10m`, `the
   * job ended` (pylon closed a call still waiting when the job stopped).
   */
  reason?: string | undefined;
}

/** Why a decision was not taken. */
export type DecideFailure =
  | { ok: false; code: "not_found"; reason: string }
  | { ok: false; code: "already_decided"; reason: string; decided: ToolCallDecided }
  | { ok: false; code: "not_allowed"; reason: string };

/** The daemon's tool-approval service, as the places people decide from see it. */
export interface ToolApprovals {
  /** The calls waiting now, oldest first; of one job when `jobId` is given. */
  pending(jobId?: string): ToolCallRequest[];
  /** Decides one call. Idempotent: a second decision of a decided call fails `already_decided`. */
  decide(
    jobId: string,
    callId: string,
    decision: ToolDecision,
    source: DecisionSource,
  ): Promise<{ ok: true; decided: ToolCallDecided } | DecideFailure>;
}

/**
 * What the notifier is told, so chat and webhook destinations can show requests and decisions.
 * The tool-approval service calls these; the notifier implements them.
 */
export interface ToolApprovalListener {
  /** A call now waits: post it with Allow / Deny / Allow for this job (chat), send `job.tool_approval` (webhook). */
  requested(request: ToolCallRequest): void;
  /** A call was decided (by a person or the timeout): edit the message, drop its buttons. */
  decided(decided: ToolCallDecided): void;
}
