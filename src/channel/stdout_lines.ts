/**
 * What the daemon's output already showed of each job: the agent's lines, which the runner
 * prints as they come (`[pylon id8] line`). The runner's output passes through
 * {@linkcode StreamedLines.record} so the `stdout` channel, which prints the job's result at the
 * end, can leave out what the reader has just seen.
 *
 * @module
 */

/** The most characters of output kept per job (its end). */
const MAX_CHARS_PER_JOB = 256 * 1024;
/** The most jobs kept; beyond, the job recorded least recently is forgotten. */
const MAX_JOBS = 32;
/** The prefix the runner puts before each line: `[pylon id8] `. */
const PREFIX_REGEXP = /^\[[^\]\n]*\] /;

/** The recent output lines of each job, without their `[pylon id8] ` prefix. */
export class StreamedLines {
  readonly #jobs = new Map<string, { lines: string[]; chars: number }>();

  /** Notes one line printed for `jobId` (as printed, prefix included). */
  record(jobId: string, line: string): void {
    let job = this.#jobs.get(jobId);
    if (job) this.#jobs.delete(jobId); // re-inserted: the most recent last
    job ??= { lines: [], chars: 0 };
    this.#jobs.set(jobId, job);
    const text = line.replace(PREFIX_REGEXP, "");
    job.lines.push(text);
    job.chars += text.length;
    while (job.chars > MAX_CHARS_PER_JOB && job.lines.length > 1) {
      job.chars -= job.lines.shift()!.length;
    }
    for (const oldest of this.#jobs.keys()) {
      if (this.#jobs.size <= MAX_JOBS) break;
      this.#jobs.delete(oldest);
    }
  }

  /** The end of what was printed for `jobId` (empty when nothing, or forgotten). */
  tail(jobId: string): readonly string[] {
    return this.#jobs.get(jobId)?.lines ?? [];
  }

  /** Drops a finished job's lines. */
  forget(jobId: string): void {
    this.#jobs.delete(jobId);
  }
}

/**
 * Whether every non-blank line of `text` was printed, in order and one after the other, among
 * `printed` (blank lines and trailing spaces aside): then printing `text` again adds nothing.
 */
export function alreadyPrinted(text: string, printed: readonly string[]): boolean {
  const want = meaningful(text.split("\n"));
  if (want.length === 0) return true;
  const have = meaningful(printed.flatMap((l) => l.split("\n")));
  for (let start = have.length - want.length; start >= 0; start--) {
    if (want.every((line, i) => have[start + i] === line)) return true;
  }
  return false;
}

function meaningful(lines: readonly string[]): string[] {
  return lines.map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
}
