/**
 * Where a job shows up outside pylon, for `GET /api/jobs/<id>`'s `links`: its chat threads
 * (Telegram, Slack), the GitHub comment pylon posted, and the pull request or issue of the
 * event. Read from what the notifier stored on the job (`job.thread`) and from the payload.
 * Pure.
 *
 * Design note: the payload comes from a stranger, so a URL taken from it is kept only when it
 * is `https:` (a `javascript:` or `data:` link never reaches a page). A Slack thread's link is
 * the permalink Slack gave when the thread was posted (`note.link`); it came over the network,
 * so only an `https://slack.com/` or `https://<workspace>.slack.com/` URL is kept. Without one
 * (an older job, or Slack could not be asked) the link carries the channel and the thread's
 * `ts` with `url: null`.
 *
 * @module
 */

import type { Job } from "../../store/mod.ts";

/** One place a job is shown. */
export interface JobLink {
  kind: "telegram" | "slack" | "github_comment" | "pull_request" | "issue";
  /** Null when the place has no URL pylon can build (a private Telegram chat, Slack unasked). */
  url: string | null;
  /** The chat's own reference (chat id and thread, Slack channel and ts), when it is a chat. */
  thread?: Record<string, string | number>;
}

/** The links of `job` (chat threads first, then GitHub), without duplicates. */
export function jobLinks(job: Pick<Job, "thread" | "payload">): JobLink[] {
  const links: JobLink[] = [];
  for (const note of notesOf(job.thread)) {
    const thread = obj(note.thread);
    if (thread && "chatId" in thread) {
      links.push({ kind: "telegram", url: telegramUrl(thread), thread: plain(thread) });
    } else if (thread && typeof thread.channel === "string" && typeof thread.ts === "string") {
      links.push({ kind: "slack", url: slackUrl(note.link), thread: plain(thread) });
    }
    const comment = obj(note.state)?.comment_url;
    if (typeof comment === "string" && isHttps(comment)) {
      links.push({ kind: "github_comment", url: comment });
    }
  }
  const body = obj(job.payload);
  const pull = obj(body?.pull_request)?.html_url;
  const issue = obj(body?.issue);
  if (typeof pull === "string" && isHttps(pull)) {
    links.push({ kind: "pull_request", url: pull });
  } else if (issue && typeof issue.html_url === "string" && isHttps(issue.html_url)) {
    links.push({ kind: obj(issue.pull_request) ? "pull_request" : "issue", url: issue.html_url });
  }
  const seen = new Set<string>();
  return links.filter((l) => {
    const key = `${l.kind}|${l.url ?? JSON.stringify(l.thread)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The destinations' notes in `job.thread` (both stored shapes; see the notifier). */
function notesOf(text: string | null): Record<string, unknown>[] {
  if (!text) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const root = obj(parsed);
  const channels = obj(root?.channels);
  if (channels) return Object.values(channels).map(obj).filter((n) => n !== undefined);
  return root ? [root] : [];
}

/**
 * `https://t.me/c/<id>/<message>` for a supergroup (chat id `-100…`), which opens for members;
 * null for other chats, which have no such link.
 */
function telegramUrl(thread: Record<string, unknown>): string | null {
  const chat = String(thread.chatId);
  const message = thread.threadId ?? thread.replyTo;
  if (!/^-100\d+$/.test(chat) || !Number.isInteger(message)) return null;
  return `https://t.me/c/${chat.slice(4)}/${message}`;
}

/** `value` when it is an https URL on `slack.com` or a `*.slack.com` workspace; else null. */
function slackUrl(value: unknown): string | null {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    const host = url.hostname;
    const slack = host === "slack.com" || host.endsWith(".slack.com");
    return url.protocol === "https:" && slack && !url.port && !url.username && !url.password
      ? url.href
      : null;
  } catch {
    return null;
  }
}

function plain(thread: Record<string, unknown>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(thread)) {
    if (typeof v === "string" || typeof v === "number") out[k] = v;
  }
  return out;
}

function isHttps(url: string): boolean {
  try {
    return new URL(url).protocol === "https:";
  } catch {
    return false;
  }
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}
