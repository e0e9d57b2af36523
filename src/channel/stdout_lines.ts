/**
 * What the daemon's output already showed of each job: the agent's lines, which the runner
 * prints as they come (`[pylon id8] line`). The runner's output passes through
 * {@linkcode StreamedLines.record} so the `stdout` channel, which prints the job's result at the
 * end, can leave out what the reader has just seen.
 *
 * Agents that print JSON carry their text inside it: Claude Code's `--output-format json` prints
 * one `{"type":"result","result":"…"}` line, and `stream-json` adds `{"type":"assistant",
 * "message":{"content":[{"type":"text","text":"…"}]}}` lines. Such a line is recorded as the text
 * it carries, so a result the reader has already been shown inside it is not printed a second
 * time (design note: the channel cannot keep the runner from printing the JSON; it can keep
 * itself from repeating it).
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
  readonly #jobs = new Map<string, { lines: string[]; chars: number; json: boolean }>();

  /** Notes one line printed for `jobId` (as printed, prefix included). */
  record(jobId: string, line: string): void {
    let job = this.#jobs.get(jobId);
    if (job) this.#jobs.delete(jobId); // re-inserted: the most recent last
    job ??= { lines: [], chars: 0, json: false };
    this.#jobs.set(jobId, job);
    const raw = line.replace(PREFIX_REGEXP, "");
    const shown = shownText(raw);
    if (shown[0] !== raw) job.json = true;
    for (const text of shown) {
      job.lines.push(text);
      job.chars += text.length;
    }
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

  /** Whether some of `jobId`'s text was printed inside an agent's JSON line. */
  carriedInJson(jobId: string): boolean {
    return this.#jobs.get(jobId)?.json ?? false;
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

/**
 * The text a printed line shows: the text an agent's JSON line carries (see the module note),
 * else the line itself.
 */
export function shownText(line: string): string[] {
  if (!line.startsWith("{") || !line.trimEnd().endsWith("}")) return [line];
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return [line];
  }
  const carried = agentText(value);
  return carried.length > 0 ? carried.flatMap((t) => t.split("\n")) : [line];
}

/** The texts of a Claude Code JSON line (`result`, or an assistant message's text blocks). */
function agentText(value: unknown): string[] {
  if (!isObject(value)) return [];
  if (value.type === "result" && typeof value.result === "string") return [value.result];
  if (value.type !== "assistant" || !isObject(value.message)) return [];
  const content = value.message.content;
  if (!Array.isArray(content)) return [];
  return content.filter((c) => isObject(c) && c.type === "text" && typeof c.text === "string")
    .map((c) => (c as { text: string }).text);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function meaningful(lines: readonly string[]): string[] {
  return lines.map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
}
