/**
 * Writes a decision where the approval hook reads it: `jobs/<id>/approval/decisions/<call
 * id>.json`, a folder only the daemon writes (read-only in the container). Atomic (a temp file
 * in the same folder, then a rename), so the hook never reads half a decision.
 *
 * The file names the call id and the digest of the input the daemon showed; the hook allows only
 * when both are its own.
 *
 * @module
 */

import { join } from "node:path";

/** What the hook reads. */
export interface DecisionFile {
  callId: string;
  digest: string;
  decision: "allow" | "deny";
  /** Who decided (`@ada`, `cli`; `pylon` for a timeout): shown to the hook over the channel. */
  by?: string | undefined;
  /** What the agent is told on a deny ("denied by @ada", "no answer within 10m"). */
  reason: string;
}

/** Writes `decision` into `dir` (created when missing), atomically. */
export async function writeDecisionFile(dir: string, decision: DecisionFile): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
  const file = join(dir, `${decision.callId}.json`);
  const temp = join(dir, `.${decision.callId}.${crypto.randomUUID()}.tmp`);
  const text = JSON.stringify({
    "call_id": decision.callId,
    digest: decision.digest,
    decision: decision.decision,
    ...(decision.by === undefined ? {} : { by: decision.by }),
    reason: decision.reason,
  }) + "\n";
  try {
    await Deno.writeTextFile(temp, text, { mode: 0o644 });
    await Deno.chmod(temp, 0o644);
    await Deno.rename(temp, file);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}

/** Whether a decision for `callId` is in `dir`. */
export async function hasDecisionFile(dir: string, callId: string): Promise<boolean> {
  return await Deno.lstat(join(dir, `${callId}.json`)).then(() => true, () => false);
}
