/**
 * Feeds the {@linkcode EventHub} from a job's files: the lines of `jobs/<id>.log` (written by
 * the runner's JobLog, already redacted) and of the agent's `jobs/<id>/out/events.ndjson` (tool
 * events), each with the byte offset where it ends. The same reading serves both live following
 * (while the job runs) and replay after a reconnect (from an offset, even after a restart), so
 * live and replayed lines split at the same places and share ids.
 *
 * Reading the files rather than the runner's echo keeps the runner unchanged and gives offsets
 * that mean the same to every daemon: the file is the record.
 *
 * @module
 */

import { join } from "node:path";
import { sanitizeAnsi } from "../log/mod.ts";
import type { Logger, Redactor } from "../log/mod.ts";
import { readAgentFile } from "../runner/mod.ts";
import { isTerminalStatus, type Job, type StoreRegistry } from "../store/mod.ts";
import { type EventHub, fileEventId, type HubEvent, jobEventId, lazyEvent } from "./events.ts";

/** A line longer than this is cut into pieces of this many bytes. */
export const MAX_LINE_BYTES = 64 * 1024;
/** The most of `events.ndjson` read at once (its end). */
const TOOL_READ_BYTES = 1024 * 1024;
/** The longest tool summary sent. */
const TOOL_MAX_CHARS = 300;

/** A line of a file and where it ends (the offset to resume after it). */
export interface FileLine {
  text: string;
  end: number;
}

/**
 * Cuts `bytes` (which start at offset `base` of their file) into lines: at each newline, and
 * every {@linkcode MAX_LINE_BYTES} bytes. Without `final`, an unfinished last line is left for
 * later; `consumed` is the offset after the last line returned.
 */
export function splitLines(
  bytes: Uint8Array,
  base: number,
  final: boolean,
): { lines: FileLine[]; consumed: number } {
  const dec = new TextDecoder();
  const lines: FileLine[] = [];
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(10, start);
    const stop = nl < 0 || nl - start >= MAX_LINE_BYTES
      ? (bytes.length - start >= MAX_LINE_BYTES ? start + MAX_LINE_BYTES : -1)
      : nl + 1;
    if (stop < 0) break;
    const text = dec.decode(bytes.subarray(start, stop)).replace(/\r?\n$/, "");
    lines.push({ text, end: base + stop });
    start = stop;
  }
  if (final && start < bytes.length) {
    lines.push({ text: dec.decode(bytes.subarray(start)), end: base + bytes.length });
    start = bytes.length;
  }
  return { lines, consumed: base + start };
}

/** The lines of `jobs/<id>.log` after `offset` (none when there is no file). */
export async function readLogLines(
  jobsDir: string,
  jobId: string,
  offset: number,
  final: boolean,
): Promise<{ lines: FileLine[]; consumed: number }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(join(jobsDir, `${jobId}.log`), { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { lines: [], consumed: offset };
    throw e;
  }
  try {
    const size = (await file.stat()).size;
    if (size <= offset) return { lines: [], consumed: offset };
    await file.seek(offset, Deno.SeekMode.Start);
    const bytes = new Uint8Array(size - offset);
    let got = 0;
    while (got < bytes.length) {
      const n = await file.read(bytes.subarray(got));
      if (n === null) break;
      got += n;
    }
    return splitLines(bytes.subarray(0, got), offset, final);
  } finally {
    file.close();
  }
}

/**
 * The tool events in the agent's `events.ndjson` after `offset`. The agent owns that file: it
 * is read like result.json (no links, regular files only, capped at its last MiB).
 */
export async function readToolLines(
  jobsDir: string,
  jobId: string,
  offset: number,
): Promise<{ lines: FileLine[]; consumed: number }> {
  const path = join(jobsDir, jobId, "out", "events.ndjson");
  const read = await readAgentFile(path, { maxBytes: TOOL_READ_BYTES, whenLarger: "tail" })
    .catch(() => undefined);
  if (read?.kind !== "read" || read.size <= offset) return { lines: [], consumed: offset };
  const start = read.size - read.bytes.length;
  let from = Math.max(0, offset - start);
  // Beyond the part read: start at the next whole line.
  if (offset < start) from = read.bytes.indexOf(10) + 1;
  if (from <= 0 && offset < start) return { lines: [], consumed: offset };
  return splitLines(read.bytes.subarray(from), start + from, false);
}

/**
 * A tool event's data from one line of `events.ndjson`; undefined for a line that is not one.
 * The agent wrote it and may have put any secret it holds there (a token in a command line):
 * `redactor` (its pylon's) hides them before the text is cut, so no part of one is left.
 */
export function toolData(
  text: string,
  redactor: Redactor,
): { tool: string; summary: string } | undefined {
  try {
    const e = JSON.parse(text) as { tool?: unknown; summary?: unknown };
    if (typeof e.tool !== "string" || !e.tool) return undefined;
    const summary = typeof e.summary === "string" ? e.summary : "";
    const cut = (s: string) => sanitizeAnsi(redactor.redact(s)).slice(0, TOOL_MAX_CHARS);
    return { tool: cut(e.tool), summary: cut(summary) };
  } catch {
    return undefined;
  }
}

/** A log line as an event. */
export function logEvent(job: Pick<Job, "id" | "pylon">, line: FileLine): HubEvent {
  return {
    id: fileEventId("log", job.id, line.end),
    kind: "log",
    job: job.id,
    pylon: job.pylon,
    data: { job: job.id, pylon: job.pylon, offset: line.end, line: sanitizeAnsi(line.text) },
  };
}

/**
 * A tool event line as an event, redacted with `redactor` (undefined when the line is not a tool
 * event).
 */
export function toolEvent(
  job: Pick<Job, "id" | "pylon">,
  line: FileLine,
  redactor: Redactor,
): HubEvent | undefined {
  const data = toolData(line.text, redactor);
  if (!data) return undefined;
  return {
    id: fileEventId("tool", job.id, line.end),
    kind: "tool",
    job: job.id,
    pylon: job.pylon,
    data: { job: job.id, pylon: job.pylon, offset: line.end, ...data },
  };
}

/** A job's state as an event; `view()` builds its API JSON (redacted) when it is first read. */
export function jobEvent(job: Job, view: () => Record<string, unknown>): HubEvent {
  const at = (job.finishedAt ?? job.startedAt ?? job.queuedAt ?? job.createdAt).getTime();
  const id = jobEventId(job.id, job.status, at);
  return lazyEvent({ id, kind: "job", job: job.id, pylon: job.pylon }, jobJsonBytes(job), view);
}

/** More than the JSON of a job's fixed fields and null values takes (`jobToJson`, ~700 bytes). */
const JOB_JSON_FIXED_BYTES = 1024;

/**
 * About how long a job's API JSON is, without building it: the fixed part plus its free-text
 * fields (escapes not counted), for the event ring's bound.
 */
export function jobJsonBytes(job: Job): number {
  let bytes = JOB_JSON_FIXED_BYTES + job.pylon.length;
  for (
    const text of [
      job.deliveryId,
      job.dedupeKey,
      job.supersedeKey,
      job.containerId,
      job.sessionId,
      job.result,
      job.error,
    ]
  ) bytes += text?.length ?? 0;
  for (const model of job.usage?.models ?? []) bytes += model.length + 3;
  return bytes;
}

/** What {@linkcode JobFileFollower} needs. */
export interface JobFileFollowerDeps {
  hub: EventHub;
  jobsDir: string;
  log: Logger;
  /**
   * The job as the API shows it (redacted with its pylon's secrets), built when called: the
   * redaction is chosen now (the pylon may be unloaded before a client reads the event).
   */
  view(job: Job): () => Record<string, unknown>;
  /** The redactor of a pylon's secrets, for the tool events its agents wrote. */
  redactorOf(pylon: string): Redactor;
  /** How often running jobs' files are read. @default {250} */
  intervalMs?: number;
}

interface Followed {
  job: Job;
  log: number;
  tool: number;
  reading?: Promise<void>;
}

/**
 * Publishes job changes and follows the files of running jobs: started by a job entering
 * `running`, ended (after a last read) by its terminal status.
 */
export class JobFileFollower {
  readonly #d: JobFileFollowerDeps;
  readonly #jobs = new Map<string, Followed>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(deps: JobFileFollowerDeps) {
    this.#d = deps;
  }

  /** A job changed (every `onChange` of the daemon passes here). */
  changed(job: Job): void {
    if (this.#closed) return;
    const followed = this.#jobs.get(job.id);
    if (job.status === "running" && !followed) this.#follow(job, 0);
    if (followed) followed.job = job;
    if (isTerminalStatus(job.status) && followed) {
      // The last lines first, then the status: a client that sees the end has the whole log.
      this.#jobs.delete(job.id);
      void this.#read(followed, true).finally(() => this.#publishJob(job));
      this.#stopTimerIfIdle();
      return;
    }
    this.#publishJob(job);
  }

  /** Start-up: follows jobs a previous daemon left running, from the end of their files. */
  async resume(stores: StoreRegistry): Promise<void> {
    for (const name of stores.names()) {
      for (const job of await stores.get(name)!.list({ status: ["running"], limit: 1000 })) {
        const size = await Deno.stat(join(this.#d.jobsDir, `${job.id}.log`))
          .then((s) => s.size, () => 0);
        const tool = (await readToolLines(this.#d.jobsDir, job.id, 0)).consumed;
        this.#follow(job, size, tool);
      }
    }
  }

  /** Stops reading. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#jobs.clear();
  }

  #publishJob(job: Job): void {
    if (!this.#closed) this.#d.hub.publish(jobEvent(job, this.#d.view(job)));
  }

  #follow(job: Job, log: number, tool = 0): void {
    this.#jobs.set(job.id, { job, log, tool });
    this.#timer ??= setInterval(() => {
      for (const f of this.#jobs.values()) void this.#read(f, false);
    }, this.#d.intervalMs ?? 250);
  }

  #stopTimerIfIdle(): void {
    if (this.#jobs.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads what the files gained (one read at a time per job). */
  #read(f: Followed, final: boolean): Promise<void> {
    const run = async () => {
      try {
        const logs = await readLogLines(this.#d.jobsDir, f.job.id, f.log, final);
        f.log = logs.consumed;
        for (const line of logs.lines) this.#publish(logEvent(f.job, line));
        const tools = await readToolLines(this.#d.jobsDir, f.job.id, f.tool);
        f.tool = tools.consumed;
        const redactor = this.#d.redactorOf(f.job.pylon);
        for (const line of tools.lines) this.#publish(toolEvent(f.job, line, redactor));
      } catch (e) {
        this.#d.log.warn("events.read_failed", {
          job: f.job.id.slice(0, 8),
          error: e instanceof Error ? e.message : String(e),
        });
      }
    };
    const next = (f.reading ?? Promise.resolve()).then(run);
    f.reading = next;
    return next;
  }

  #publish(event: HubEvent | undefined): void {
    if (event && !this.#closed) this.#d.hub.publish(event);
  }
}
