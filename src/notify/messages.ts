/**
 * The texts pylon posts about a job (Markdown; each channel converts it). Pure.
 *
 * @module
 */

import { formatDuration } from "../config/mod.ts";
import { shortId } from "../errors.ts";
import { type Job, type JobUsage, usageParts } from "../store/mod.ts";
import { CHAT_COMMANDS } from "../channel/channel.ts";

/** The line shown under an approval once decided. */
export function decisionLine(action: "investigate" | "ignore", who: string | undefined): string {
  const by = who ? ` by ${who}` : "";
  return action === "investigate" ? `✅ Approved${by}: the agent is queued.` : `🚫 Dismissed${by}.`;
}

/** The notice posted when the agent starts. */
export function startedText(job: Job, agent: string): string {
  const attempt = job.attempt > 1 ? `, attempt ${job.attempt}` : "";
  const kind = job.trigger === "follow-up" ? "Follow-up" : "Agent";
  return `⚙️ ${kind} started (${agent}${attempt}).`;
}

/** The status message while the agent works: its latest tool events. */
export function progressText(job: Job, agent: string, events: string[]): string {
  if (events.length === 0) return startedText(job, agent);
  return `${startedText(job, agent)}\n\n${events.map((e) => `• ${e}`).join("\n")}`;
}

/**
 * The final message of a job: "✅ **Done** in 3m · $0.42 · 18 turns." and the result; a
 * follow-up's also gives its conversation's total (`conversation`, see `conversationUsage`).
 */
export function finishedText(job: Job, conversation?: JobUsage | null): string {
  const used = usageParts(job.usage, conversation);
  const took =
    (job.startedAt && job.finishedAt
      ? ` in ${formatDuration(job.finishedAt.getTime() - job.startedAt.getTime())}`
      : "") +
    (used.length ? ` · ${used.join(" · ")}` : "") +
    (job.repeats > 1 ? ` (event seen ${job.repeats}×)` : "");
  switch (job.status) {
    case "completed":
      return `✅ **Done**${took}.\n\n${job.result?.trim() || "_The agent returned no text._"}`;
    case "failed":
      return `❌ **Failed**${took}${job.exitCode ? ` (exit code ${job.exitCode})` : ""}.\n\n${
        fence(job.error ?? "no reason was recorded")
      }`;
    case "timed_out":
      return `⏱️ **Timed out**${took}: ${job.error ?? "the agent ran past its timeout"}.`;
    case "killed":
      return job.error && job.error !== "killed by request"
        ? `🛑 **Stopped**${took}: ${job.error}.`
        : `🛑 **Killed**${took}.`;
    case "dismissed":
      return job.error ? `🚫 Dismissed: ${job.error}.` : "🚫 Dismissed.";
    default:
      return `Job ${shortId(job.id)} is ${job.status}.`;
  }
}

function fence(text: string): string {
  return "```\n" + text.replaceAll("```", "'''").trimEnd() + "\n```";
}

/** The answer to `help`. */
export function helpText(): string {
  return [
    "**Commands** (write them in a job's thread):",
    ...CHAT_COMMANDS.map((c) => `• \`${c.command}\`: ${c.description}`),
    "",
    "Any other message in a finished job's thread asks its agent a follow-up question.",
  ].join("\n");
}

/** The answer to `status` / `agents`. */
export function runningText(jobs: Job[], now: Date): string {
  if (jobs.length === 0) return "No agent is running.";
  return [
    `**${jobs.length} running:**`,
    ...jobs.map((j) =>
      `• ${j.pylon} \`${shortId(j.id)}\` for ${
        formatDuration(now.getTime() - (j.startedAt ?? j.createdAt).getTime())
      }`
    ),
  ].join("\n");
}
