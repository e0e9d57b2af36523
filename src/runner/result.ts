/**
 * Turns what a finished container left behind into a job outcome: `$PYLON_OUT/result.json` when
 * the agent wrote one, else the exit code and the tail of its output (the container contract).
 *
 * @module
 */

import { join } from "node:path";
import type { RunOutcome } from "../queue/mod.ts";

/** How much output is kept as the result or error when there is no result.json. */
export const TAIL_CHARS = 4000;

/** Reads result.json from `outDir`; `null` when absent. Malformed files are reported as failures. */
export async function readResultFile(outDir: string): Promise<RunOutcome | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(outDir, "result.json"));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
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
