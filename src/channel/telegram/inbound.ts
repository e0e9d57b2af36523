/**
 * Pure helpers that turn incoming Telegram updates into channel events: who may act, which thread
 * a message belongs to, command normalisation and button data.
 *
 * @module
 */

import { type ActionKind, CHAT_COMMANDS } from "../channel.ts";
import type { ThreadRef } from "../channel.ts";
import type { TgMessage, TgUser } from "./types.ts";

/** What a button's `callback_data` asks for. */
export interface ButtonData {
  action: ActionKind;
  jobId: string;
  /** The tool call of a `tool_*` action. */
  callId?: string | undefined;
}

const COMMAND_REGEXP = /^\/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(?=\s|$)/;
const COMMANDS: ReadonlySet<string> = new Set(CHAT_COMMANDS.map((c) => c.command));

/**
 * Whether `user` may act: an empty list lets everyone in the chat act, unless `strict` (tool
 * approvals), where an empty list lets no one.
 */
export function isAllowed(
  user: TgUser | undefined,
  allowed: readonly number[],
  strict = false,
): boolean {
  if (user === undefined) return false;
  return allowed.length === 0 ? !strict : allowed.includes(user.id);
}

/** `@username`, else the person's name. */
export function displayName(user: TgUser): string {
  if (user.username) return `@${user.username}`;
  return [user.first_name, user.last_name].filter(Boolean).join(" ");
}

/*
 * Design note: Telegram's `callback_data` holds at most 64 bytes. Investigate/Ignore keep their
 * readable `investigate:<job id>` form (buttons already posted must keep working). Run anyway is
 * `run:<job id>` (40 bytes for a uuid). A tool decision needs the job and the call: the job's
 * uuid without its dashes (32 hex digits) and the call id (≤ 16 of [a-z0-9]) after a two-letter
 * tag, `ta:`/`td:`/`tj:` (allow, deny, allow for this job): at most 3 + 32 + 1 + 16 = 52 bytes.
 * Parsing is strict (exact lengths and alphabets): anything else is an unknown button.
 */

const TOOL_TAGS: Readonly<Record<string, ActionKind>> = {
  ta: "tool_allow",
  td: "tool_deny",
  tj: "tool_allow_job",
};
const UUID_REGEXP = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOOL_DATA_REGEXP = /^(ta|td|tj):([0-9a-f]{32}):([a-z0-9]{1,16})$/;

/** The button behind `callback_data`, or undefined for anything else. */
export function parseButtonData(data: string | undefined): ButtonData | undefined {
  const text = data ?? "";
  const tool = TOOL_DATA_REGEXP.exec(text);
  if (tool) {
    const hex = tool[2]!;
    const jobId = [
      hex.slice(0, 8),
      hex.slice(8, 12),
      hex.slice(12, 16),
      hex.slice(16, 20),
      hex.slice(20),
    ]
      .join("-");
    return { action: TOOL_TAGS[tool[1]!]!, jobId, callId: tool[3]! };
  }
  const run = /^run:(.+)$/.exec(text);
  if (run) return UUID_REGEXP.test(run[1]!) ? { action: "run_anyway", jobId: run[1]! } : undefined;
  const match = /^(investigate|ignore):(.+)$/.exec(text);
  if (!match) return undefined;
  return { action: match[1] as ButtonData["action"], jobId: match[2]! };
}

/**
 * The `callback_data` of a button (Telegram allows at most 64 bytes).
 * @throws {RangeError} when the job id (or call id) cannot be encoded in 64 bytes
 */
export function buttonData(action: ActionKind, jobId: string, callId?: string): string {
  let data: string;
  if (action === "investigate" || action === "ignore") {
    data = `${action}:${jobId}`;
  } else if (action === "run_anyway") {
    if (!UUID_REGEXP.test(jobId)) {
      throw new RangeError(`Cannot encode job id "${jobId}": not a uuid`);
    }
    data = `run:${jobId}`;
  } else {
    const tag = Object.keys(TOOL_TAGS).find((t) => TOOL_TAGS[t] === action)!;
    if (!UUID_REGEXP.test(jobId)) {
      throw new RangeError(`Cannot encode job id "${jobId}": not a uuid`);
    }
    if (!/^[a-z0-9]{1,16}$/.test(callId ?? "")) {
      throw new RangeError(`Cannot encode call id "${callId}": it must be 1-16 of [a-z0-9]`);
    }
    data = `${tag}:${jobId.replaceAll("-", "")}:${callId}`;
  }
  if (new TextEncoder().encode(data).length > 64) {
    throw new RangeError(`Cannot encode job id "${jobId}": the button data exceeds 64 bytes`);
  }
  return data;
}

/**
 * Normalises `/done@pylon_bot` (and `/done`) to `done`, keeping any words after it; other text is
 * returned unchanged. Returns undefined for a command addressed to another bot.
 */
export function normalizeCommand(text: string, username: string | undefined): string | undefined {
  const trimmed = text.trim();
  const match = COMMAND_REGEXP.exec(trimmed);
  if (!match) return trimmed;
  const [whole, name = "", bot] = match;
  if (bot !== undefined && username !== undefined && bot.toLowerCase() !== username.toLowerCase()) {
    return undefined;
  }
  if (!COMMANDS.has(name.toLowerCase())) return trimmed;
  return (name.toLowerCase() + trimmed.slice(whole.length)).trim();
}

/**
 * The thread a message belongs to: its forum topic, else the reply chain it continues (the
 * anchor of the message it answers when known), else undefined (the main chat).
 */
export function threadOf(
  message: TgMessage,
  anchorOf: (messageId: number) => number | undefined,
): ThreadRef | undefined {
  const chatId = message.chat.id;
  if (message.is_topic_message && message.message_thread_id !== undefined) {
    return { chatId, threadId: message.message_thread_id };
  }
  const reply = message.reply_to_message;
  if (reply === undefined) return undefined;
  const anchor = anchorOf(reply.message_id) ?? anchorOf(message.message_thread_id ?? NaN) ??
    message.message_thread_id ?? reply.message_id;
  return { chatId, replyTo: anchor };
}

/** Remembers which reply-chain anchor each posted message belongs to (bounded, oldest dropped). */
export class AnchorMemory {
  readonly #anchors = new Map<number, number>();
  readonly #limit: number;

  constructor(limit = 5000) {
    this.#limit = limit;
  }

  /** Records that `messageId` was posted in the chain started by `anchorId`. */
  remember(messageId: number, anchorId: number): void {
    this.#anchors.set(messageId, anchorId);
    if (this.#anchors.size > this.#limit) {
      const oldest = this.#anchors.keys().next().value;
      if (oldest !== undefined) this.#anchors.delete(oldest);
    }
  }

  /** The anchor of `messageId`, if it was posted by this process. */
  anchorOf(messageId: number): number | undefined {
    return this.#anchors.get(messageId);
  }
}
