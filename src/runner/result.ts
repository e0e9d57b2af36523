/**
 * Turns what a finished container left behind into a job outcome: `$PYLON_OUT/result.json` when
 * the agent wrote one, else the exit code and the tail of its output (the container contract).
 *
 * @module
 */

import { join } from "node:path";
import type { RunOutcome } from "../queue/mod.ts";
import type { JobUsage } from "../store/mod.ts";
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
  const usage = usageOf(r);
  return {
    status,
    result: str(r.result),
    error: status === "failed" ? str(r.error) ?? "the agent reported a failure" : str(r.error),
    sessionId: str(r.session_id),
    ...(usage ? { usage } : {}),
  };
}

/** The largest dollar figure taken from result.json; above it the figure is dropped. */
export const COST_MAX_USD = 1_000_000;
/** The largest token count, turn count or API time (ms) taken from result.json. */
export const COUNT_MAX = 1e13;
/** At most this many model names, each at most {@linkcode MODEL_NAME_MAX} characters. */
export const MODELS_MAX = 16;
/** The longest model name kept. */
export const MODEL_NAME_MAX = 200;

/**
 * The optional usage fields of result.json (`cost_usd`, `usage.{input_tokens, output_tokens,
 * cache_read_input_tokens, cache_creation_input_tokens}`, `num_turns`, `duration_api_ms`,
 * `models`). The agent writes the file, so each figure is checked on its own: a value that is
 * not a finite number in range (or not a whole number, for counts) is dropped, never trusted;
 * null when none is left.
 */
export function usageOf(r: Record<string, unknown>): JobUsage | null {
  const tokens = r.usage && typeof r.usage === "object" && !Array.isArray(r.usage)
    ? r.usage as Record<string, unknown>
    : {};
  const costUsd = bounded(r.cost_usd, COST_MAX_USD, false);
  const models = Array.isArray(r.models)
    ? [
      ...new Set(
        r.models.filter((m): m is string =>
          typeof m === "string" && m.trim() !== "" && m.length <= MODEL_NAME_MAX &&
          // deno-lint-ignore no-control-regex
          !/[\u0000-\u001f\u007f]/.test(m)
        ),
      ),
    ].slice(0, MODELS_MAX)
    : [];
  const usage: JobUsage = {
    costUsd: costUsd === null ? null : Math.round(costUsd * 1e6) / 1e6,
    costBasis: null,
    inputTokens: bounded(tokens.input_tokens, COUNT_MAX, true),
    outputTokens: bounded(tokens.output_tokens, COUNT_MAX, true),
    cacheReadTokens: bounded(tokens.cache_read_input_tokens, COUNT_MAX, true),
    cacheCreationTokens: bounded(tokens.cache_creation_input_tokens, COUNT_MAX, true),
    numTurns: bounded(r.num_turns, COUNT_MAX, true),
    durationApiMs: bounded(r.duration_api_ms, COUNT_MAX, true),
    models,
  };
  const { costBasis: _, models: __, ...figures } = usage;
  return Object.values(figures).some((v) => v !== null) || models.length ? usage : null;
}

/** `value` when it is a finite number in [0, max] (and whole when `integer`), else null. */
function bounded(value: unknown, max: number, integer: boolean): number | null {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > max) {
    return null;
  }
  return integer && !Number.isInteger(value) ? null : value;
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
