/**
 * Follow-up questions from GitHub: with `channel.github.mention` set (e.g. `@pylon`), a comment
 * that mentions it, on an issue or pull request this pylon already answered, asks that job's
 * agent a follow-up, like a reply in a chat thread: the same agent session and workspace, and the
 * answer as a new comment. Checked before `trigger.when`, so a reviewer that only runs on
 * `pull_request` events still hears its questions. Pure apart from reading the pylon's store.
 *
 * @module
 */

import { githubTarget } from "../channel/github/mod.ts";
import type { Job, JobStore } from "../store/mod.ts";
import { isTerminalStatus } from "../store/mod.ts";
import type { ActivePylon } from "./pylon_table.ts";

/** What becomes of a comment event. */
export type FollowUpVerdict =
  /** Not a follow-up: handle the event as usual. */
  | null
  /** A follow-up question to `parent`'s agent. */
  | { parent: Job; prompt: string }
  /** A question that cannot be asked now (answered `200 ignored` with the reason). */
  | { ignored: string };

/** `author_association` values of people who may ask when `allowed_users` is empty. */
const TRUSTED_ASSOCIATIONS = new Set(["OWNER", "MEMBER", "COLLABORATOR"]);

/** Jobs searched for the pylon's last answer on the issue (newest first). */
const SEARCHED_JOBS = 200;

/** Whether the event is a follow-up question for this pylon, and to which job. */
export async function gitHubFollowUp(
  pylon: ActivePylon,
  payload: Record<string, unknown>,
  headers: Record<string, string>,
  store: JobStore,
): Promise<FollowUpVerdict> {
  const channel = pylon.resolved.channel;
  const mention = channel.github?.mention?.trim();
  if (!mention || !channel.types.includes("github")) return null;
  if (headers["x-github-event"] !== "issue_comment" || payload.action !== "created") return null;
  const comment = payload.comment as
    | { body?: unknown; user?: { login?: unknown }; author_association?: unknown }
    | undefined;
  const text = typeof comment?.body === "string" ? comment.body : "";
  // pylon's own comments carry its marker: answering them would loop.
  if (!text.toLowerCase().includes(mention.toLowerCase()) || text.includes("<!-- pylon:")) {
    return null;
  }
  const target = githubTarget(payload);
  if (!target?.number) return null;
  // The newest job on this issue answers; one still waiting or running must finish first, and
  // dismissed ones (never run, or superseded) are passed over.
  let parent: Job | undefined;
  for (const job of await store.list({ limit: SEARCHED_JOBS })) {
    const t = githubTarget(job.payload);
    if (t?.owner !== target.owner || t.repo !== target.repo || t.number !== target.number) continue;
    if (job.status === "dismissed") continue;
    if (!isTerminalStatus(job.status)) {
      return {
        ignored: `job ${job.id.slice(0, 8)} on #${target.number} is ${job.status}; ` +
          "ask again when it is done",
      };
    }
    parent = job;
    break;
  }
  if (!parent) return null; // pylon never answered here: an ordinary event
  const login = typeof comment?.user?.login === "string" ? comment.user.login : "someone";
  const allowed = channel.github?.allowed_users ?? [];
  const association = String(comment?.author_association ?? "NONE");
  if (
    allowed.length > 0
      ? !allowed.some((u) => u.toLowerCase() === login.toLowerCase())
      : !TRUSTED_ASSOCIATIONS.has(association)
  ) {
    return {
      ignored: `${login} may not ask follow-ups (${
        allowed.length > 0
          ? "not in channel.github.allowed_users"
          : `${association.toLowerCase()}: only the repository's owners, members and collaborators may`
      })`,
    };
  }
  return { parent, prompt: `${login} asks on #${target.number}:\n\n${text}` };
}
