/**
 * A job's first message in a chat thread (its "head"): posted once, with Investigate/Ignore when
 * the job awaits approval; while the job is held by a budget it also says why, with a **Run
 * anyway** button; once released (Run anyway, `pylon approve`, a new window) it is edited to say
 * how, and the button goes. Who pressed comes from the job's status history, so the edit reads
 * the same after a restart.
 *
 * @module
 */

import type { Channel, ThreadRef } from "../channel/channel.ts";
import { isTerminalStatus, type Job, type JobStatusChange } from "../store/mod.ts";
import type { Note } from "./_notes.ts";
import { heldLine, releasedLine } from "./messages.ts";

/**
 * Posts or edits the head of `job` in `channel` as its status asks; updates `note` (`head`,
 * `held`). `head` is the head's usual text; `url` the job's dashboard page, when known.
 */
export async function showHead(
  channel: Channel,
  thread: ThreadRef | null,
  note: Note,
  job: Job,
  head: string,
  url: string | null,
  history: () => Promise<JobStatusChange[]>,
): Promise<void> {
  const held = job.status === "held";
  const runAnyway = { jobId: job.id };
  if (!note.head) {
    note.head = await channel.post(thread, held ? heldLine(head, job, url) : head, {
      approval: job.status === "awaiting_approval" ? { jobId: job.id } : undefined,
      runAnyway: held ? runAnyway : undefined,
    });
    if (held) note.held = true;
  } else if (held && !note.held) {
    await channel.edit(thread, note.head, heldLine(head, job, url), { runAnyway });
    note.held = true;
  }
  if (held || !note.held) return;
  if (isTerminalStatus(job.status)) {
    // Ended while held (killed, superseded): the outcome follows; only the button goes.
    if (job.status !== "dismissed") await channel.edit(thread, note.head, head);
  } else {
    const release = (await history()).findLast((c) => c.from === "held");
    await channel.edit(thread, note.head, `${head}\n\n${releasedLine(release?.reason ?? null)}`);
  }
  delete note.held;
}
