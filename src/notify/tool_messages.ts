/**
 * The chat texts of tool approvals (issue 14 §4): the request posted in the job's thread with
 * Allow / Deny / Allow for this job, and what it is edited into once decided or timed out.
 * Markdown; each channel converts and escapes it. Pure.
 *
 * Nothing here is trusted: the tool name and rule come from the agent's hook (checked by the
 * daemon), and the summary is the agent's input, already redacted. Names and rules go in code
 * spans whose fence is longer than any run of backticks inside, so they cannot open formatting
 * or links; the summary is Markdown as the contract says, and is cut to a length chats show.
 *
 * @module
 */

import { type ToolCallDecided, type ToolCallRequest, type ToolDecision } from "../tools/types.ts";
import type { ActionKind } from "../channel/channel.ts";
import { formatDuration } from "../config/mod.ts";

/** The longest summary shown (characters); the CLI and the API show the whole input. */
export const SUMMARY_MAX_CHARS = 1500;

/** The decision a tool button stands for. */
export const DECISION_OF: Readonly<Partial<Record<ActionKind, ToolDecision>>> = {
  "tool_allow": "allow",
  "tool_deny": "deny",
  "tool_allow_job": "allow_for_job",
};

/** `text` in a code span that nothing inside can close. */
export function codeSpan(text: string): string {
  const line = text.replace(/\s+/g, " ").trim() || " ";
  const longest = Math.max(0, ...[...line.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = line.startsWith("`") || line.endsWith("`") ? " " : "";
  return `${fence}${pad}${line}${pad}${fence}`;
}

/** The body of a request: tool, input summary, matched rule, and when it expires. */
function requestBody(request: ToolCallRequest): string {
  let summary = request.summary.trim() || "_(no input)_";
  if (summary.length > SUMMARY_MAX_CHARS) {
    summary = summary.slice(0, SUMMARY_MAX_CHARS) + "\n…_(cut; `pylon jobs` shows all of it)_";
    // An unclosed fence would swallow the rest of the message.
    if ((summary.match(/^\s*```/gm) ?? []).length % 2 === 1) summary += "\n```";
  }
  return [
    `🔐 **Approval needed**: the agent wants to run ${codeSpan(request.tool)}`,
    "",
    summary,
    "",
    `Rule: ${codeSpan(request.rule)} · call ${codeSpan(request.callId)}`,
  ].join("\n");
}

/** The message asking to decide a call. */
export function toolRequestText(request: ToolCallRequest, now: Date, jobUrl: string | null) {
  const left = Math.max(0, request.expiresAt.getTime() - now.getTime());
  const expiry = `Denied automatically in ${formatDuration(left)} ` +
    `(${request.expiresAt.toISOString().slice(11, 16)} UTC) without an answer.`;
  return [requestBody(request), expiry, ...(jobUrl ? [`[Open job](${jobUrl})`] : [])].join("\n");
}

/** The request's message once decided: the same body, and who decided (no buttons). */
export function toolDecidedText(decided: ToolCallDecided, jobUrl: string | null): string {
  return [
    requestBody(decided.request),
    decisionText(decided),
    ...(jobUrl ? [`[Open job](${jobUrl})`] : []),
  ].join("\n");
}

/** "✅ Allowed by @ada (telegram)", "⏱️ Timed out: denied", … */
export function decisionText(
  decided: Pick<ToolCallDecided, "decision" | "source" | "reason">,
): string {
  const { decision, source } = decided;
  if (source.via === "timeout") {
    // pylon's own denials: approve_timeout ran out, or the job stopped (its deadline, a kill, the
    // agent's end) while the call still waited, which is not "no one answered in time".
    return decided.reason === "the job ended"
      ? "⏹️ **Closed**: the job ended before anyone answered, so it was denied."
      : "⏱️ **Timed out**: no one answered in time, so it was denied.";
  }
  const by = ` by ${source.by} (${source.via})`;
  switch (decision) {
    case "allow":
      return `✅ **Allowed**${by}.`;
    case "allow_for_job":
      return `✅ **Allowed for this job**${by}.`;
    case "deny":
      return `🚫 **Denied**${by}.`;
  }
}
