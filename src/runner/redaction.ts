/**
 * What a job records is redacted before it is stored (issue 12, item 18): the job store is read
 * by the control API, `pylon jobs --json` (straight from `jobs.db`) and every channel, so the
 * store is where one redaction covers them all. Streams (the job log, the daemon's output lines,
 * posts rendered at send time) are redacted where they leave.
 *
 * @module
 */

import type { Redactor } from "../log/mod.ts";
import type { RunOutcome } from "../queue/mod.ts";

/** `outcome` with its result and error redacted. */
export function redactOutcome(outcome: RunOutcome, redactor: Redactor): RunOutcome {
  if (!redactor.active) return outcome;
  return {
    ...outcome,
    ...(typeof outcome.result === "string" ? { result: redactor.redact(outcome.result) } : {}),
    ...(typeof outcome.error === "string" ? { error: redactor.redact(outcome.error) } : {}),
  };
}
