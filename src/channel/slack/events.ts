/**
 * Reads Slack's wire payloads (a `block_actions` interaction, an Events API `message` event) into
 * plain values, and turns what people type into what the daemon reads. Pure.
 *
 * @module
 */

import { type ActionKind, CHAT_COMMANDS, type MessageRef, type ThreadRef } from "../channel.ts";

/** A button press, before the `allowed_users` check. */
export interface ParsedAction {
  channelId: string;
  userId: string;
  jobId: string;
  action: ActionKind;
  /** The tool call of a `tool_*` action. */
  callId?: string | undefined;
  message: MessageRef | undefined;
  thread: ThreadRef | undefined;
}

/** A message a person wrote, before the `allowed_users` check. */
export interface ParsedMessage {
  channelId: string;
  userId: string;
  text: string;
  thread: ThreadRef | undefined;
}

type Json = Record<string, unknown>;

/** Subtypes that are still a person writing (shared to the channel from a thread). */
const PERSON_SUBTYPES = new Set(["thread_broadcast"]);

/** The ref of a thread (and of a message): the conversation and the parent's `ts`. */
export function slackRef(channel: string, ts: string): ThreadRef & MessageRef {
  return { channel, ts };
}

function obj(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Json
    : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The Investigate/Ignore presses in a `block_actions` payload (others are ignored). */
export function parseBlockActions(payload: Json): ParsedAction[] {
  if (payload.type !== "block_actions") return [];
  const container = obj(payload.container);
  const message = obj(payload.message);
  const channelId = str(obj(payload.channel)?.id) ?? str(container?.channel_id);
  const userId = str(obj(payload.user)?.id);
  if (!channelId || !userId || !Array.isArray(payload.actions)) return [];
  const messageTs = str(container?.message_ts) ?? str(message?.ts);
  const threadTs = str(message?.thread_ts) ?? str(container?.thread_ts);
  const parsed: ParsedAction[] = [];
  for (const item of payload.actions) {
    const button = parseActionId(str(obj(item)?.action_id) ?? "");
    if (!button) continue;
    parsed.push({
      channelId,
      userId,
      ...button,
      message: messageTs ? slackRef(channelId, messageTs) : undefined,
      thread: threadTs ? slackRef(channelId, threadTs) : undefined,
    });
  }
  return parsed;
}

/**
 * A button's `action_id`: `investigate:<job>`, `ignore:<job>`, `run_anyway:<job>`, or
 * `tool_allow|tool_deny|tool_allow_job:<job>:<call>` (Slack allows 255 characters, so the ids
 * stay readable). Parsed strictly: anything else is not a pylon button.
 */
export function parseActionId(
  actionId: string,
): { action: ActionKind; jobId: string; callId?: string } | undefined {
  const tool = /^(tool_allow|tool_deny|tool_allow_job):([0-9a-f-]{36}):([a-z0-9]{1,16})$/.exec(
    actionId,
  );
  if (tool) return { action: tool[1] as ActionKind, jobId: tool[2]!, callId: tool[3]! };
  const match = /^(investigate|ignore|run_anyway):(.+)$/.exec(actionId);
  if (!match) return undefined;
  return { action: match[1] as ActionKind, jobId: match[2]! };
}

/** A person's message from an Events API `message` event; `null` for bots, edits, joins, …. */
export function parseMessageEvent(event: Json): ParsedMessage | null {
  if (event.type !== "message" || event.bot_id !== undefined || event.hidden === true) return null;
  const subtype = str(event.subtype);
  if (subtype && !PERSON_SUBTYPES.has(subtype)) return null;
  const channelId = str(event.channel);
  const userId = str(event.user);
  const text = str(event.text);
  if (!channelId || !userId || !text) return null;
  const threadTs = str(event.thread_ts);
  return {
    channelId,
    userId,
    text: normaliseText(text),
    thread: threadTs ? slackRef(channelId, threadTs) : undefined,
  };
}

/** A chat command (`done`, `/done`, `@pylon done`, `<@U…> done`) as its bare name, else plain text. */
export function normaliseText(text: string): string {
  const plain = mrkdwnToPlain(text).trim();
  const word = plain.replace(/^@\S+[\s:,]+/, "").trim().replace(/^\//, "").toLowerCase();
  return CHAT_COMMANDS.some((c) => c.command === word) ? word : plain;
}

/** Slack's message markup back to readable text: links, mentions, and the three entities. */
export function mrkdwnToPlain(text: string): string {
  return text
    .replace(/<([^<>|]+)\|([^<>]*)>/g, (_, target: string, label: string) => {
      if (/^[@#]/.test(target)) return `${target[0]}${label}`;
      if (target.startsWith("!")) return `@${label || target.slice(1)}`;
      if (label === "" || label === target) return target;
      return label === target.replace(/^mailto:/, "") ? label : `${label} (${target})`;
    })
    .replace(
      /<([@#!])([^<>]+)>/g,
      (_, sigil: string, id: string) => `${sigil === "!" ? "@" : sigil}${id}`,
    )
    .replace(/<((?:https?|mailto):[^<>]+)>/g, "$1")
    .replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}
