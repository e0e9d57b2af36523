/**
 * {@linkcode SlackChannel}: one Slack conversation as a pylon {@linkcode Channel}. It is a view on a
 * shared hub (one Socket Mode connection per app token): the hub hands it the button presses and
 * messages of its conversation, and it posts with its own bot token.
 *
 * Refs: a thread is `{ channel, ts }` of its top-level message (the `thread_ts` of replies); a
 * message is `{ channel, ts }` of that message.
 *
 * @module
 */

import {
  type ActionEvent,
  type Channel,
  ChannelError,
  type EditOptions,
  isToolAction,
  type MessageEvent,
  type MessageRef,
  type PostOptions,
  type ThreadRef,
} from "../channel.ts";
import type { Logger } from "../../log/mod.ts";
import type { SlackApi } from "./api.ts";
import { type ParsedAction, type ParsedMessage, slackRef } from "./events.ts";
import { markdownToMrkdwn } from "./format.ts";
import { splitMrkdwn } from "./split.ts";

/** Longest text of one message: Block Kit's limit for a section, used for every message. */
export const MAX_MESSAGE_CHARS = 3000;

/** What a view needs from the pylon's settings. */
export interface SlackChannelSettings {
  botToken: string;
  channelId: string;
  /** Slack user ids allowed to press buttons and write commands; empty: everyone. */
  allowedUsers: readonly string[];
  log: Logger;
}

/** Options of {@linkcode SlackChannel}. */
export interface SlackChannelOptions {
  key: string;
  api: SlackApi;
  settings: SlackChannelSettings;
  /** Starts the shared connection (the hub counts who holds it). */
  start(signal: AbortSignal): Promise<void>;
}

type Block = Record<string, unknown>;

/** A Slack conversation seen through a shared Socket Mode hub. */
export class SlackChannel implements Channel {
  readonly kind = "slack";
  readonly key: string;
  readonly interactive = true;
  #api: SlackApi;
  #settings: SlackChannelSettings;
  #start: (signal: AbortSignal) => Promise<void>;
  #onAction: ((event: ActionEvent) => void | Promise<void>) | undefined;
  #onMessage: ((event: MessageEvent) => void | Promise<void>) | undefined;

  constructor(options: SlackChannelOptions) {
    this.key = options.key;
    this.#api = options.api;
    this.#settings = options.settings;
    this.#start = options.start;
  }

  /** The Slack conversation id this view posts to. */
  get channelId(): string {
    return this.#settings.channelId;
  }

  /** Takes new settings (hot reload); handlers stay registered. */
  update(settings: SlackChannelSettings): void {
    this.#settings = settings;
  }

  /** Starts (or joins) the hub's Socket Mode connection until `signal` aborts. */
  start(signal: AbortSignal): Promise<void> {
    return this.#start(signal);
  }

  /** Posts a top-level message whose replies form the job's thread. */
  async createThread(title: string): Promise<ThreadRef> {
    const text = splitMrkdwn(markdownToMrkdwn(title) || "(untitled)", MAX_MESSAGE_CHARS)[0]!;
    const ts = await this.#postMessage(this.channelId, undefined, text, undefined);
    return slackRef(this.channelId, ts);
  }

  /**
   * The thread's permalink (`chat.getPermalink`), for the job's page; null when Slack does not
   * give one or gives something other than an `https://<workspace>.slack.com/` URL (a network
   * answer: untrusted).
   *
   * @throws {ChannelError} when Slack cannot be asked
   */
  async threadUrl(thread: ThreadRef): Promise<string | null> {
    const [channel, ts] = refParts(thread, "link");
    const result = await this.#api.call("chat.getPermalink", this.#settings.botToken, {
      channel,
      "message_ts": ts,
    });
    return slackPermalink(result.permalink);
  }

  /** Posts Markdown (split to fit); buttons, if any, go on the last message. */
  async post(
    thread: ThreadRef | null,
    text: string,
    options: PostOptions = {},
  ): Promise<MessageRef> {
    const [channel, threadTs] = thread ? refParts(thread, "post") : [this.channelId, undefined];
    const chunks = splitMrkdwn(markdownToMrkdwn(text) || "_(empty)_", MAX_MESSAGE_CHARS);
    let ts = "";
    for (const [i, chunk] of chunks.entries()) {
      const last = i === chunks.length - 1;
      const blocks = last && hasButtons(options) ? messageBlocks(chunk, options) : undefined;
      ts = await this.#postMessage(channel, threadTs, chunk, blocks);
    }
    return slackRef(channel, ts);
  }

  /** Replaces a message's text; it keeps only the buttons `options` names. */
  async edit(
    _thread: ThreadRef | null,
    message: MessageRef,
    text: string,
    options: EditOptions = {},
  ): Promise<void> {
    const [channel, ts] = refParts(message, "edit");
    const chunks = splitMrkdwn(markdownToMrkdwn(text) || "_(empty)_", MAX_MESSAGE_CHARS - 2);
    // One message cannot grow into several: keep the end, where the outcome line is.
    const shown = chunks.length > 1 ? `…\n${chunks.at(-1)}` : chunks[0]!;
    await this.#api.call("chat.update", this.#settings.botToken, {
      channel,
      ts,
      text: shown,
      blocks: messageBlocks(shown, options),
    });
  }

  /** Slack has no typing indicator for bots. */
  typing(_thread: ThreadRef | null): Promise<void> {
    return Promise.resolve();
  }

  /** Marks the thread finished with a ✅ reaction on its first message. */
  async close(thread: ThreadRef): Promise<void> {
    const [channel, ts] = refParts(thread, "close");
    try {
      await this.#api.call("reactions.add", this.#settings.botToken, {
        channel,
        timestamp: ts,
        name: "white_check_mark",
      });
    } catch (error) {
      if (error instanceof ChannelError && error.message.includes("already_reacted")) return;
      throw error;
    }
  }

  /** Registers the handler of button presses (replacing an earlier one). */
  onAction(handler: (event: ActionEvent) => void | Promise<void>): void {
    this.#onAction = handler;
  }

  /** Registers the handler of messages (replacing an earlier one). */
  onMessage(handler: (event: MessageEvent) => void | Promise<void>): void {
    this.#onMessage = handler;
  }

  /** Called by the hub for a press in this conversation. */
  deliverAction(parsed: ParsedAction): void {
    const log = this.#settings.log;
    const tool = isToolAction(parsed.action);
    if (!this.#allowed(parsed.userId, tool)) {
      log.info("slack.action.denied", { user: parsed.userId, action: parsed.action });
      const text = tool && this.#settings.allowedUsers.length === 0
        ? "Tool calls cannot be decided from Slack: channel.slack.allowed_users is empty. " +
          "Add your Slack user id there, or use `pylon allow|deny`."
        : "You may not decide here: your Slack user id is not in channel.slack.allowed_users.";
      this.#invoke(() => this.#ephemeral(parsed, text), "refusal");
      return;
    }
    const handler = this.#onAction;
    if (!handler) return log.debug("slack.action.unhandled", { action: parsed.action });
    const event: ActionEvent = {
      jobId: parsed.jobId,
      action: parsed.action,
      ...(parsed.callId !== undefined ? { callId: parsed.callId } : {}),
      userId: parsed.userId,
      // A mention renders as the person's current display name wherever the daemon shows it.
      userName: `<@${parsed.userId}>`,
      message: parsed.message,
      thread: parsed.thread,
    };
    this.#invoke(() => handler(event), "action");
  }

  /** Answers only the presser (an ephemeral message where the button was). */
  async #ephemeral(parsed: ParsedAction, text: string): Promise<void> {
    const threadTs = typeof parsed.thread?.ts === "string" ? parsed.thread.ts : undefined;
    await this.#api.call("chat.postEphemeral", this.#settings.botToken, {
      channel: parsed.channelId,
      user: parsed.userId,
      text,
      ...(threadTs ? { "thread_ts": threadTs } : {}),
    });
  }

  /** Called by the hub for a person's message in this conversation. */
  deliverMessage(parsed: ParsedMessage): void {
    if (!this.#allowed(parsed.userId)) {
      this.#settings.log.debug("slack.message.denied", { user: parsed.userId });
      return;
    }
    const handler = this.#onMessage;
    if (!handler) return;
    const event: MessageEvent = { thread: parsed.thread, text: parsed.text, userId: parsed.userId };
    this.#invoke(() => handler(event), "message");
  }

  /** An empty list lets everyone act, except on tool calls (`strict`), where it lets no one. */
  #allowed(userId: string, strict = false): boolean {
    const allowed = this.#settings.allowedUsers;
    return allowed.length === 0 ? !strict : allowed.includes(userId);
  }

  #invoke(fn: () => void | Promise<void>, what: string): void {
    Promise.resolve().then(fn).catch((error) =>
      this.#settings.log.error(`slack.${what}.handler_failed`, {
        error: error instanceof Error ? error.message : String(error),
      })
    );
  }

  async #postMessage(
    channel: string,
    threadTs: string | undefined,
    text: string,
    blocks: Block[] | undefined,
  ): Promise<string> {
    const result = await this.#api.call("chat.postMessage", this.#settings.botToken, {
      channel,
      "thread_ts": threadTs,
      text,
      blocks,
      "unfurl_links": false,
      "unfurl_media": false,
    });
    if (typeof result.ts !== "string") {
      throw new ChannelError("Cannot post to Slack: chat.postMessage returned no ts", {
        channel: "slack",
        method: "chat.postMessage",
        retryable: false,
      });
    }
    return result.ts;
  }
}

/** Whether a post carries buttons. */
function hasButtons(options: PostOptions): boolean {
  return Boolean(options.approval ?? options.runAnyway ?? options.tool);
}

/**
 * A section with the text, plus the buttons `options` names: Investigate/Ignore, Run anyway, or
 * Allow / Deny / Allow for this job. (A job id alone, as before, means Investigate/Ignore.)
 */
export function messageBlocks(text: string, options: PostOptions | string = {}): Block[] {
  const o: PostOptions = typeof options === "string" ? { approval: { jobId: options } } : options;
  const blocks: Block[] = [{ type: "section", text: { type: "mrkdwn", text } }];
  const button = (actionId: string, label: string, style?: string) => ({
    type: "button",
    "action_id": actionId,
    text: { type: "plain_text", text: label },
    ...(style ? { style } : {}),
    value: actionId.split(":")[0],
  });
  if (o.approval) {
    const { jobId } = o.approval;
    blocks.push({
      type: "actions",
      "block_id": `approval:${jobId}`,
      elements: [
        button(`investigate:${jobId}`, "Investigate", "primary"),
        button(`ignore:${jobId}`, "Ignore", "danger"),
      ],
    });
  } else if (o.runAnyway) {
    const { jobId } = o.runAnyway;
    blocks.push({
      type: "actions",
      "block_id": `held:${jobId}`,
      elements: [button(`run_anyway:${jobId}`, "Run anyway", "primary")],
    });
  } else if (o.tool) {
    const { jobId, callId } = o.tool;
    blocks.push({
      type: "actions",
      "block_id": `tool:${jobId}:${callId}`,
      elements: [
        button(`tool_allow:${jobId}:${callId}`, "Allow", "primary"),
        button(`tool_deny:${jobId}:${callId}`, "Deny", "danger"),
        button(`tool_allow_job:${jobId}:${callId}`, "Allow for this job"),
      ],
    });
  }
  return blocks;
}

/**
 * `value` when it is a Slack permalink (`https:` on `slack.com` or a `*.slack.com` workspace
 * host, no credentials, default port), else null.
 */
export function slackPermalink(value: unknown): string | null {
  if (typeof value !== "string") return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  const host = url.hostname.toLowerCase();
  const slack = host === "slack.com" || host.endsWith(".slack.com");
  if (url.protocol !== "https:" || !slack || url.port || url.username || url.password) return null;
  return url.href;
}

function refParts(ref: ThreadRef | MessageRef, what: string): [channel: string, ts: string] {
  const { channel, ts } = ref;
  if (typeof channel !== "string" || typeof ts !== "string") {
    throw new TypeError(`Cannot ${what} on Slack: the ref has no channel and ts`);
  }
  return [channel, ts];
}
