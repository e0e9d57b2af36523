/**
 * The texts pylon posts about a job (Markdown; each channel converts it). Pure.
 *
 * @module
 */

import { formatDuration } from "../config/mod.ts";
import { shortId } from "../errors.ts";
import { type Job, type JobUsage, usageParts } from "../store/mod.ts";
import { CHAT_COMMANDS } from "../channel/channel.ts";
import { RUN_ANYWAY } from "../queue/budget.ts";

/** The line shown under an approval once decided. */
export function decisionLine(action: "investigate" | "ignore", who: string | undefined): string {
  const by = who ? ` by ${who}` : "";
  return action === "investigate" ? `✅ Approved${by}: the agent is queued.` : `🚫 Dismissed${by}.`;
}

/** A held job's head message: its usual text, why it waits, and what Run anyway does. */
export function heldLine(head: string, job: Job, url: string | null): string {
  return `${head}\n\n⏸️ **Held**: ${job.error ?? "over budget"}. It starts when the budget ` +
    `has room again; **Run anyway** starts it now.${url ? `\n[Open job](${url})` : ""}`;
}

/**
 * The line that replaces "Held" once the job left `held`, from its history's reason: Run anyway
 * by a person ("approved: runs once over budget · by @ada via telegram"), `pylon approve`, or
 * the budget's new window.
 */
export function releasedLine(reason: string | null): string {
  if (reason?.startsWith(RUN_ANYWAY)) {
    const by = / · by (.+) via (\S+)$/.exec(reason);
    return by
      ? `▶️ Released by ${by[1]} (Run anyway, ${by[2]}): the agent runs once over budget.`
      : "▶️ Released with `pylon approve`: the agent runs once over budget.";
  }
  return "▶️ Released: the budget has room again.";
}

/** The footer link of a job's final message, when `server.public_url` is set. */
export function jobLink(job: Job, url: string | null): string {
  return url ? `\n\n[Job ${shortId(job.id)}](${url})` : "";
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
