/**
 * The `stdout` channel: one readable account of each job in the daemon's output, for local use
 * and for logs collected by journald. Every line starts `[pylon id8] `, like the agent's own
 * output lines that the runner prints as they come:
 *
 * ```
 * [triage 1a2b3c4d] ▶ New webhook job: ZeroDivisionError
 * [triage 1a2b3c4d] ⚙ Agent started.
 * [triage 1a2b3c4d] <the agent's output, streamed by the runner>
 * [triage 1a2b3c4d] • Bash: npm test
 * [triage 1a2b3c4d] ✅ Completed in 42s. The result is the output above.
 * ```
 *
 * The final line leaves out result text the output already showed ({@linkcode StreamedLines}),
 * also inside an agent's JSON line (Claude Code's `{"type":"result","result":"…"}`), and prints
 * a failed job's error and result plainly. Not interactive: approval happens with
 * `pylon approve|ignore <job>`.
 *
 * @module
 */

import { formatDuration } from "../config/mod.ts";
import { shortId } from "../errors.ts";
import { isTerminalStatus, type Job, usageParts } from "../store/mod.ts";
import type { JobReport, Reporter, ReportState } from "./channel.ts";
import { alreadyPrinted, StreamedLines } from "./stdout_lines.ts";

/** Unfinished jobs whose last reported status is remembered (far more than ever run at once). */
const MAX_REMEMBERED = 10_000;

/** Options of {@linkcode StdoutChannel}. */
export interface StdoutChannelOptions {
  /** What the runner printed of each job; without one, results are always printed. */
  streamed?: StreamedLines | undefined;
}

/**
 * Prints an account of each job as lines through `write`, which gets the lines of one turn of
 * the event loop at once, joined by newlines (no newline after the last).
 */
export class StdoutChannel implements Reporter {
  readonly kind = "stdout";
  readonly key = "stdout";
  /**
   * Lines on stdout are a live account, not a record to replay: keeping what was printed in the
   * job's row cost an UPDATE per status per job, as much as the job's INSERT (issue 17).
   */
  readonly ephemeral = true;
  readonly #write: (line: string) => void;
  readonly #streamed: StreamedLines;
  /**
   * Lines printed in this turn of the event loop, written in one piece once its microtasks are
   * done: a group commit accepts dozens of webhooks in one turn, and a write per job's line was
   * up to 6 % of the daemon's CPU under load (issue 17).
   */
  #pending: string[] = [];
  /** Why the last lines could not be written, thrown by the next `report()`. */
  #failed: unknown;
  /** The tool events printed of each running job (the last ones read). */
  readonly #events = new Map<string, readonly string[]>();
  /** The last status reported of each unfinished job (bounded). */
  readonly #reported = new Map<string, string>();

  constructor(write: (line: string) => void, options: StdoutChannelOptions = {}) {
    this.#write = write;
    this.#streamed = options.streamed ?? new StreamedLines();
  }

  /** Prints what changed: the header once, then approval, start, and the outcome. */
  report(
    { job, topic, message }: JobReport,
    state: ReportState | undefined,
  ): Promise<ReportState | undefined> {
    if (this.#failed !== undefined) {
      const error = this.#failed;
      this.#failed = undefined;
      return Promise.reject(new Error("Cannot write to stdout", { cause: error }));
    }
    const print = (text: string) => {
      for (const line of text.replace(/\n+$/, "").split("\n")) {
        this.#line(`[${job.pylon} ${shortId(job.id)}] ${line}`);
      }
    };
    const id8 = shortId(job.id);
    const before = typeof state?.status === "string" ? state.status : this.#reported.get(job.id);
    if (before === job.status) return Promise.resolve({ status: job.status });
    this.#remember(job);
    if (!before) {
      const kind = job.trigger === "follow-up" ? "Follow-up question" : `New ${job.trigger} job`;
      print(`▶ ${kind}${topic ? `: ${plain(topic)}` : ""}`);
      if (message) print(plain(message));
    }
    // Statuses can be skipped (a job approved and started at once is reported running).
    const decided = job.status === "dismissed" || job.status === "killed";
    if (before === "awaiting_approval" && !decided) print("Approved.");
    switch (job.status) {
      case "awaiting_approval":
        print(`Waiting for approval: pylon approve ${id8}  |  pylon ignore ${id8}`);
        break;
      case "queued":
        break;
      case "held":
        print(`Held: ${plain(job.error ?? "over budget")}  |  pylon approve ${id8} runs it anyway`);
        break;
      case "running":
        // Reported once the agent's container runs (Dispatcher.preparing): a job whose image,
        // workspace or container fails goes from queued straight to its outcome.
        print(`⚙ Agent started${job.attempt > 1 ? ` (attempt ${job.attempt})` : ""}.`);
        break;
      default:
        print(this.#outcome(job));
        this.#events.delete(job.id);
        this.#streamed.forget(job.id);
    }
    return Promise.resolve({ status: job.status });
  }

  /** Notes `job`'s status as reported; forgets the job once it is finished. */
  #remember(job: Job): void {
    this.#reported.delete(job.id);
    if (isTerminalStatus(job.status)) return;
    this.#reported.set(job.id, job.status);
    // Jobs removed while unfinished (a destroyed pylon) must not grow the map for ever. Cleared
    // whole rather than trimmed: finding a Map's oldest live entry after many deletions walks
    // past every deleted one (3.5 % of the daemon's CPU with 10,000 jobs queued). A job it
    // forgot gets its header printed again at its next status.
    if (this.#reported.size > MAX_REMEMBERED) this.#reported.clear();
  }

  /** Prints the tool events not printed yet, one line each. */
  progress(job: Job, events: readonly string[]): void {
    const shown = this.#events.get(job.id) ?? [];
    for (const event of newEvents(shown, events)) {
      this.#line(`[${job.pylon} ${shortId(job.id)}] • ${event}`);
    }
    this.#events.set(job.id, events);
  }

  /** Queues `line`; the first of a turn schedules the write. */
  #line(line: string): void {
    if (this.#pending.push(line) === 1) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    const lines = this.#pending;
    this.#pending = [];
    try {
      this.#write(lines.join("\n"));
    } catch (e) {
      this.#failed = e;
    }
  }

  /** The footer: status, duration, and what the output did not show yet. */
  #outcome(job: Job): string {
    const used = usageParts(job.usage);
    const took =
      (job.startedAt && job.finishedAt
        ? ` in ${formatDuration(job.finishedAt.getTime() - job.startedAt.getTime())}`
        : "") + (used.length ? ` · ${used.join(" · ")}` : "");
    const seen = job.repeats > 1 ? ` (event seen ${job.repeats}×)` : "";
    const printed = this.#streamed.tail(job.id);
    const result = job.result?.trim() ?? "";
    const resultText = !result
      ? ""
      : alreadyPrinted(result, printed)
      ? this.#streamed.carriedInJson(job.id)
        ? "The result is the output above (the agent's JSON `result`)."
        : "The result is the output above."
      : `Result:\n${result}`;
    switch (job.status) {
      case "completed":
        return `✅ Completed${took}${seen}. ${resultText || "The agent returned no text."}`;
      case "failed": {
        const error = job.error?.trim() || "no reason was recorded";
        const code = job.exitCode ? ` (exit code ${job.exitCode})` : "";
        const shownError = alreadyPrinted(error, printed) && error.includes("\n")
          ? "the error is the output above"
          : error;
        return `❌ Failed${took}${code}${seen}: ${shownError}` +
          (result && result !== error ? `\n${resultText}` : "");
      }
      case "timed_out":
        return `⏱ Timed out${took}${seen}: ${job.error ?? "the agent ran past its timeout"}` +
          (result ? `\n${resultText}` : "");
      case "killed": {
        const why = job.error && job.error !== "killed by request" ? `: ${job.error}` : ".";
        return `🛑 ${why === "." ? "Killed" : "Stopped"}${took}${seen}${why}`;
      }
      case "dismissed":
        return job.error ? `🚫 Dismissed: ${job.error}` : "🚫 Dismissed.";
      default:
        return `Job ${shortId(job.id)} is ${job.status}.`;
    }
  }
}

/**
 * The events at the end of `now` that `before` did not have. Both are the end of one growing
 * list, so `now` continues the longest end of `before` it starts with.
 */
function newEvents(before: readonly string[], now: readonly string[]): readonly string[] {
  for (let drop = 0; drop < before.length; drop++) {
    const kept = before.length - drop;
    if (kept > now.length) continue;
    let same = true;
    for (let i = 0; i < kept && same; i++) same = before[drop + i] === now[i];
    if (same) return now.slice(kept);
  }
  return now;
}

/** Drops the Markdown emphasis a terminal would show literally (`**bold**` → `bold`). */
function plain(text: string): string {
  return text.replace(/\*\*(.+?)\*\*/g, "$1").replace(/__(.+?)__/g, "$1");
}
