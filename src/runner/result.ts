/**
 * Turns what a finished container left behind into a job outcome: `$PYLON_OUT/result.json` when
 * the agent wrote one, else the exit code and the tail of its output (the container contract).
 *
 * @module
 */

import { join } from "node:path";
import type { RunOutcome } from "../queue/mod.ts";
import { formatBytes, readAgentFile } from "./agent_file.ts";

/** How much output is kept as the result or error when there is no result.json. */
export const TAIL_CHARS = 4000;
/** The largest result.json read; a larger one fails the job. */
export const RESULT_MAX_BYTES = 1024 * 1024;

/**
 * Reads result.json from `outDir`; `null` when absent. The agent owns the folder: a link, a FIFO
 * or a file over {@linkcode RESULT_MAX_BYTES} is not read and fails the job, as does malformed
 * JSON. `signal` (the job's deadline or kill) stops the read.
 */
export async function readResultFile(
  outDir: string,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<RunOutcome | null> {
  let file;
  try {
    file = await readAgentFile(join(outDir, "result.json"), {
      maxBytes: RESULT_MAX_BYTES,
      signal: options.signal,
    });
  } catch (e) {
    if (!options.signal?.aborted) throw e;
    const why = e instanceof Error ? e.message : String(e);
    return { status: "failed", error: `reading the agent's result.json was stopped: ${why}` };
  }
  if (file.kind === "missing") return null;
  if (file.kind === "refused") {
    return {
      status: "failed",
      error: `the agent's result.json ${file.reason}; pylon reads only a regular file ` +
        `of at most ${formatBytes(RESULT_MAX_BYTES)} there`,
    };
  }
  const text = new TextDecoder().decode(file.bytes);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { status: "failed", error: "the agent wrote a result.json that is not valid JSON" };
  }
  if (!data || typeof data !== "object") {
    return { status: "failed", error: "the agent's result.json is not a JSON object" };
  }
  const r = data as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : v == null ? null : JSON.stringify(v));
  const status = r.status === "completed" ? "completed" : "failed";
  return {
    status,
    result: str(r.result),
    error: status === "failed" ? str(r.error) ?? "the agent reported a failure" : str(r.error),
    sessionId: str(r.session_id),
  };
}

/** The outcome of a container that exited with `exitCode`, given its result file and output. */
export function outcomeOf(
  exitCode: number,
  fromFile: RunOutcome | null,
  outputTail: string,
): RunOutcome {
  if (fromFile) return { ...fromFile, exitCode };
  const tail = outputTail.trimEnd();
  if (exitCode === 0) return { status: "completed", exitCode, result: tail };
  return {
    status: "failed",
    exitCode,
    error: tail ? `exit code ${exitCode}: ${tail}` : `the agent exited with code ${exitCode}`,
  };
}

/** Keeps the last {@linkcode TAIL_CHARS} characters of a stream of text. */
export class TailBuffer {
  #text = "";

  /** Appends text, dropping what falls out of the window. */
  push(text: string): void {
    this.#text += text;
    if (this.#text.length > TAIL_CHARS * 2) this.#text = this.#text.slice(-TAIL_CHARS);
  }

  /** The last characters. */
  get value(): string {
    return this.#text.slice(-TAIL_CHARS);
  }
}
