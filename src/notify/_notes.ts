/**
 * What the notifier remembers about a job per destination (its thread, the messages to edit, a
 * reporter's state, tool calls shown), stored as JSON in `job.thread`. Private to `notify/`.
 *
 * @module
 */

import type { MessageRef, ReportState, ThreadRef } from "../channel/channel.ts";
import type { Job } from "../store/mod.ts";

/** What one destination knows about a job. */
export interface Note {
  /** Chat: the job's thread (`null`: the channel has none), once created. */
  thread?: ThreadRef | null;
  /** Chat: a link to the thread (a Slack permalink); `""` once asked when there is none. */
  link?: string;
  /** Chat: the first message (with the approval buttons) and the "started" message. */
  head?: MessageRef;
  status?: MessageRef;
  /** Reporter (webhook, GitHub): what it keeps between reports. */
  state?: ReportState;
  /** Chat: the head shows the job as held, with Run anyway (edited once it is released). */
  held?: boolean;
  /** Tool calls shown, by call id: the message (chat) and whether its decision was shown. */
  tools?: Record<string, { message?: MessageRef; done?: boolean }>;
  /** The last job status this destination was told about. */
  notified?: string;
}

/** A job's notes by destination key, stored as JSON in `job.thread`. */
export type Notes = Record<string, Note>;

/**
 * Reads `job.thread`: `{"channels": {<key>: note}}`, or the single-channel shape of earlier
 * versions (`{"channel": <key>, "thread", "head", "status"}`, announced up to `job.notified`).
 */
export function readNotes(job: Pick<Job, "thread" | "notified">): Notes {
  if (!job.thread) return {};
  const parsed = JSON.parse(job.thread) as { channels?: Notes; channel?: string } & Note;
  if (parsed.channels) return parsed.channels;
  if (typeof parsed.channel !== "string") return {};
  const { channel, ...note } = parsed;
  return { [channel]: { ...note, ...(job.notified ? { notified: job.notified } : {}) } };
}

export function writeNotes(notes: Notes): string {
  return JSON.stringify({ channels: notes });
}
