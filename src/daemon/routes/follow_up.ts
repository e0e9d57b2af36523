/**
 * `POST /api/jobs/<id>/follow-up {"message": "..."}`: asks a finished job's agent a follow-up
 * question in the same session, exactly as a reply in the job's chat thread does (the
 * notifier's `createFollowUp`: same session, workspace and agent state, answers posted to the
 * same threads). Also the conversation a job belongs to, for `GET /api/jobs/<id>`.
 *
 * Design note: like a chat reply, which finds the newest job of its thread, a question about
 * any job of a conversation continues from the conversation's newest answer; asking an older
 * one would resume an older session and lose what was said since. That newest job must have
 * finished (not dismissed) and have a session to resume; otherwise the answer is 409.
 *
 * @module
 */

import type { Context } from "hono";
import { shortId } from "../../errors.ts";
import type { Logger } from "../../log/mod.ts";
import { createFollowUp } from "../../notify/mod.ts";
import type { Dispatcher } from "../../queue/mod.ts";
import { isTerminalStatus, type Job, type JobStore, type StoreRegistry } from "../../store/mod.ts";
import { CONVERSATION_MAX } from "../../store/usage.ts";
import { KeyedLock } from "../keyed_lock.ts";
import type { PylonTable } from "../pylon_table.ts";
import { readBody } from "./body.ts";
import { reject, unreadable } from "./webhook.ts";

/** The longest follow-up question, in characters (a long chat message is about 4,000). */
export const MAX_FOLLOW_UP_CHARS = 16_000;

/** The largest request body of a follow-up (JSON-escaped text takes more bytes than chars). */
const MAX_FOLLOW_UP_BODY = 256 * 1024;

/** What the follow-up route needs. */
export interface FollowUpDeps {
  table: PylonTable;
  stores: StoreRegistry;
  dispatcher: Dispatcher;
  log: Logger;
  /** How long a body may take to arrive. */
  bodyTimeoutMs?: number | undefined;
  onChange?(job: Job): void;
}

/** The handler of `POST /jobs/:id/follow-up` (a job that does not exist throws, answered 404). */
export function followUpHandler(deps: FollowUpDeps) {
  const conversations = new KeyedLock();
  return async function followUp(c: Context): Promise<Response> {
    const asked = await deps.stores.findJob(c.req.param("id") ?? "");
    const read = await readBody(c.req.raw, {
      max: MAX_FOLLOW_UP_BODY,
      timeoutMs: deps.bodyTimeoutMs,
    });
    if (!read.ok && read.reason === "too_large") {
      return reject(400, `message is longer than ${MAX_FOLLOW_UP_CHARS} characters; shorten it`);
    }
    if (!read.ok) return unreadable(read.reason, MAX_FOLLOW_UP_BODY, deps.log);
    const message = parseMessage(new TextDecoder().decode(read.bytes));
    if (typeof message !== "string") return reject(400, message.error);
    const store = deps.stores.get(asked.pylon)!;
    if (!deps.table.get(asked.pylon)) {
      return reject(409, `pylon "${asked.pylon}" is not active; enable it to ask its agent`);
    }
    // One question at a time per conversation: a second one sent at once finds the first's job
    // (not finished yet) as the newest, instead of resuming the same session twice.
    const asking = await conversations.run(
      `${asked.pylon}/${conversationRoot(asked)}`,
      async () => {
        const parent = await newestOfConversation(store, asked);
        const why = cannotFollowUp(parent);
        if (why) return { why };
        return { parent, ...await createFollowUp(store, parent, message) };
      },
    );
    if ("why" in asking) return reject(409, asking.why);
    const { job, parent } = asking;
    deps.log.info("job.follow_up", {
      pylon: job.pylon,
      job: shortId(job.id),
      of: shortId(parent.id),
      via: "api",
    });
    deps.dispatcher.wake();
    deps.onChange?.(job);
    return c.json({ job_id: job.id, status: job.status, parent_id: job.parentId }, 202);
  };
}

/** The question in a request body, or what is wrong with it. */
function parseMessage(text: string): string | { error: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { error: 'body is not valid JSON; send {"message": "your question"}' };
  }
  const message = body !== null && typeof body === "object" && !Array.isArray(body)
    ? (body as Record<string, unknown>).message
    : undefined;
  if (typeof message !== "string") {
    return { error: 'body needs "message", a string: {"message": "your question"}' };
  }
  const trimmed = message.trim();
  if (trimmed === "") return { error: "message is empty; write the question to ask the agent" };
  if (trimmed.length > MAX_FOLLOW_UP_CHARS) {
    return {
      error: `message is ${trimmed.length} characters, more than ${MAX_FOLLOW_UP_CHARS}; ` +
        "shorten it, or put the long part in a file the agent can read",
    };
  }
  return trimmed;
}

/** Why no follow-up can be asked of `job` now, or undefined when it can. */
function cannotFollowUp(job: Job): string | undefined {
  const id = shortId(job.id);
  if (job.status === "dismissed") return `job ${id} was dismissed; it has no agent to ask`;
  if (!isTerminalStatus(job.status)) {
    return `job ${id} is ${job.status}; ask again when it has finished`;
  }
  if (!job.sessionId) {
    return `job ${id} has no agent session to resume (its agent reported none); ` +
      "start a new job instead";
  }
  return undefined;
}

/**
 * The first job of `job`'s conversation: follow-ups point at it (`parentId`); any other job
 * starts its own.
 */
function conversationRoot(job: Job): string {
  return job.trigger === "follow-up" && job.parentId ? job.parentId : job.id;
}

/** The newest job of the conversation `job` belongs to (the root, or its newest follow-up). */
async function newestOfConversation(store: JobStore, job: Job): Promise<Job> {
  const rootId = conversationRoot(job);
  const [newest] = await store.list({ parent: rootId, trigger: ["follow-up"], limit: 1 });
  if (newest) return newest;
  return rootId === job.id ? job : await store.get(rootId) ?? job;
}

/** One job as the conversation lists it. */
export interface ConversationEntry {
  id: string;
  status: string;
  trigger: string;
  "created_at": string;
}

/**
 * What `GET /api/jobs/<id>` shows of a job's relations: `follow_ups`, the jobs that follow up
 * or retry it (oldest first), and `parents`, its chain of parents up to the first job (nearest
 * first). Both bounded by {@linkcode CONVERSATION_MAX}.
 */
export async function jobRelations(
  store: JobStore,
  job: Job,
): Promise<{ "follow_ups": ConversationEntry[]; parents: ConversationEntry[] }> {
  const children = await store.list({ parent: job.id, limit: CONVERSATION_MAX });
  const parents: ConversationEntry[] = [];
  const seen = new Set([job.id]);
  let parentId = job.parentId;
  while (parentId && !seen.has(parentId) && seen.size <= CONVERSATION_MAX) {
    seen.add(parentId);
    const parent = await store.get(parentId);
    if (!parent) break;
    parents.push(entry(parent));
    parentId = parent.parentId;
  }
  return { "follow_ups": children.reverse().map(entry), parents };
}

function entry(job: Job): ConversationEntry {
  return {
    id: job.id,
    status: job.status,
    trigger: job.trigger,
    "created_at": job.createdAt.toISOString(),
  };
}
