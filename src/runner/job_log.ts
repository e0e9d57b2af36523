/**
 * Copies a container's output to `jobs/<id>.log` and the daemon's output, and keeps its tail for
 * the job's outcome.
 *
 * - The file holds at most `docker.max_log` bytes of output; the run that reaches the cap gets
 *   one marker line, and nothing more of it is written or echoed (an agent printing in a loop
 *   must not fill the disk or the journal). The tail still follows the real end of the output.
 * - Each run starts with `--- run <time> attempt <n> container <id12> ---`. Every pass reads the
 *   container's output from its start and handles only the bytes past what was handled before,
 *   so a pass can be repeated without writing anything twice: a daemon that re-attaches (the
 *   agent printed on while no daemon ran) continues after the bytes the file already has after
 *   that header; after the container ends, one more pass reads what Docker's live follow can
 *   drop (the end of the output, with a rotated json-file log).
 * - A write that fails (a full disk) stops writing for the pass, leaving the file a clean prefix
 *   of the output that a later pass continues; the output still reaches the tail.
 *
 * Docker keeps twice `docker.max_log` of a container's output (rotated): a container that
 * printed more than that beyond what the file has when a pass runs cannot be aligned exactly,
 * and that pass may skip or repeat part of the middle of its output.
 *
 * @module
 */

import type { DockerClient } from "../docker/mod.ts";
import { type Logger, NO_REDACTION, redactChunks, type Redactor } from "../log/mod.ts";
import { formatBytes } from "./agent_file.ts";
import { TailBuffer } from "./result.ts";

/** The default of `docker.max_log`. */
export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;

/** What {@linkcode JobLog} copies, and where to. */
export interface JobLogOptions {
  docker: DockerClient;
  containerId: string;
  /** `jobs/<id>.log`. */
  logPath: string;
  /** The job's attempt and when this run started (for the header line). */
  attempt: number;
  startedAt: Date;
  /** Re-attach: continue after what the file already has of this container. */
  resume: boolean;
  /** `docker.max_log`. */
  maxBytes: number;
  /** Receives each new line of output, already prefixed. */
  output(line: string): void;
  prefix: string;
  /**
   * Overwrites secrets in the output in place, keeping byte lengths, so the offsets above hold
   * (issue 12, item 18). Default: none.
   */
  redactor?: Redactor | undefined;
  log: Logger;
}

/** The copy of one container's output (see the module doc). */
export class JobLog {
  readonly #o: JobLogOptions;
  /** Bytes of the container's output handled (echoed and tailed). */
  #consumed = 0;
  /** Bytes of its output in the file, after this run's header. */
  #inFile = 0;
  #capped = false;
  #started = false;
  #tail = new TailBuffer();
  #haveTail = false;

  constructor(options: JobLogOptions) {
    this.#o = options;
  }

  /** The last characters of the output. */
  get tail(): string {
    return this.#tail.value;
  }

  /** Whether the file lacks output that was seen (a write failed) and may still fit. */
  get behind(): boolean {
    return !this.#capped && this.#inFile < this.#consumed;
  }

  /** Copies live output until the container stops or `signal` aborts. */
  follow(signal: AbortSignal): Promise<void> {
    return this.#pass(true, signal);
  }

  /** Once the container has ended: reads its whole kept log for what a pass missed. */
  catchUp(signal: AbortSignal): Promise<void> {
    return this.#pass(false, signal);
  }

  async #pass(follow: boolean, signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const file = await Deno.open(o.logPath, { append: true, create: true, mode: 0o600 });
    let size = (await file.stat()).size;
    let broken = false;
    const put = async (bytes: Uint8Array): Promise<number> => {
      let done = 0;
      try {
        while (done < bytes.length && !broken) {
          const n = await file.write(bytes.subarray(done));
          done += n;
          size += n;
        }
      } catch (e) {
        broken = true;
        const error = e instanceof Error ? e.message : String(e);
        o.log.warn("job.log_write_failed", { file: o.logPath, error });
        o.output(`${o.prefix}(cannot write ${o.logPath}: ${error}; it misses output from here)`);
      }
      return done;
    };
    const tail = new TailBuffer();
    const tailDec = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const outDec = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const partial = { stdout: "", stderr: "" };
    let complete = false;
    try {
      if (!this.#started) await this.#start(put);
      let pos = 0;
      const output = o.docker.containerLogs(o.containerId, { follow, signal });
      for await (const chunk of redactChunks(output, o.redactor ?? NO_REDACTION)) {
        const start = pos;
        pos += chunk.data.length;
        tail.push(tailDec[chunk.stream].decode(chunk.data, { stream: true }));
        if (!this.#capped && !broken && pos > this.#inFile) {
          let data = chunk.data.subarray(Math.max(0, this.#inFile - start));
          const room = o.maxBytes - size;
          const full = data.length > room;
          if (full) data = data.subarray(0, Math.max(0, room));
          this.#inFile += await put(data);
          if (full && !broken) await this.#cap(put);
        }
        if (pos > this.#consumed) {
          const fresh = chunk.data.subarray(Math.max(0, this.#consumed - start));
          this.#consumed = pos;
          if (this.#capped) continue;
          const lines =
            (partial[chunk.stream] + outDec[chunk.stream].decode(fresh, { stream: true }))
              .split("\n");
          partial[chunk.stream] = lines.pop()!;
          for (const line of lines) o.output(o.prefix + line);
        }
      }
      complete = true;
    } catch (e) {
      if (!signal.aborted) {
        o.output(`${o.prefix}(log stream ended: ${e instanceof Error ? e.message : String(e)})`);
      }
    } finally {
      for (const rest of Object.values(partial)) if (rest) o.output(o.prefix + rest);
      file.close();
    }
    // A pass that read to the end has the true end of the output.
    if (complete || !this.#haveTail) {
      this.#tail = tail;
      this.#haveTail = true;
    }
  }

  /** Writes the run's header, or finds it (re-attach) and continues after its output. */
  async #start(put: (bytes: Uint8Array) => Promise<number>): Promise<void> {
    const o = this.#o;
    const id12 = o.containerId.slice(0, 12);
    const from = o.resume ? await resumePoint(o.logPath, id12) : undefined;
    if (from) {
      this.#inFile = this.#consumed = from.written;
      this.#capped = from.capped;
    } else {
      const header = `--- run ${o.startedAt.toISOString()} attempt ${o.attempt} ` +
        `container ${id12} ---\n`;
      await put(new TextEncoder().encode(header));
    }
    this.#started = true;
  }

  async #cap(put: (bytes: Uint8Array) => Promise<number>): Promise<void> {
    const o = this.#o;
    this.#capped = true;
    const marker = `--- output truncated at ${formatBytes(o.maxBytes)} (docker.max_log): ` +
      "the rest of this run's output is not kept ---";
    await put(new TextEncoder().encode(`\n${marker}\n`));
    o.output(`${o.prefix}${marker}`);
    o.log.warn("job.log_truncated", { max_log: o.maxBytes });
  }
}

/**
 * A line the egress proxy appends to the job's log (`src/egress/job.ts` `refusalLine`), wherever
 * the output had got to: not the container's output, so not counted in it.
 */
const REFUSAL_LINE = /--- \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z egress refused: [^\n]* ---\n/g;

/**
 * Where a re-attached container's output continues in the log: the bytes after the header of
 * its run (less the egress proxy's refusal lines among them), and whether that run already
 * reached the cap. Undefined when the file has no header of this container (it was never
 * written): the whole output is copied after a new one. An agent that prints a line shaped like a
 * refusal only gets that much of its own output repeated.
 */
async function resumePoint(
  logPath: string,
  id12: string,
): Promise<{ written: number; capped: boolean } | undefined> {
  // windows-1252 maps every byte to one character: string offsets are byte offsets.
  const text = new TextDecoder("latin1").decode(await Deno.readFile(logPath));
  const tag = ` container ${id12} ---\n`;
  const at = text.lastIndexOf(tag);
  if (at < 0) return undefined;
  const lineStart = text.lastIndexOf("\n", at) + 1;
  if (!text.startsWith("--- run ", lineStart)) return undefined;
  const after = at + tag.length;
  let appended = 0;
  for (const m of text.slice(after).matchAll(REFUSAL_LINE)) appended += m[0].length;
  return {
    written: text.length - after - appended,
    capped: text.includes("\n--- output truncated at ", after),
  };
}
