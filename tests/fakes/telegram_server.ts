// deno-lint-ignore-file camelcase -- field names are Telegram's wire format
/**
 * A fake Telegram Bot API on 127.0.0.1: a real HTTP server speaking the wire format at
 * `/bot<token>/<method>` (JSON, urlencoded or multipart bodies), for one bot token.
 *
 * It behaves like Telegram where pylon depends on it: `getUpdates` really long-polls (held until an
 * update arrives or `timeout` passes), confirms updates by `offset`, and answers 409 to the older
 * of two overlapping polls; `sendMessage`/`editMessageText` check MarkdownV2 like Telegram does
 * (an unescaped reserved character is a 400 "can't parse entities") and the 4096-character limit;
 * topics exist only in forum supergroups. Tests drive it with `pushMessage`, `pressButton`,
 * `pushChatMember` and `failNext`, and inspect what the bot sent.
 *
 * @module
 */

import type { TgChat, TgMessage, TgUpdate, TgUser } from "../../src/channel/telegram/types.ts";

/** A chat the fake knows. */
export interface FakeChatOptions {
  id: number;
  type?: TgChat["type"];
  title?: string;
  isForum?: boolean;
  /**
   * The bot's membership (`getChatMember`); `left`/`kicked` make `getChat` answer 403.
   * @default "administrator" in forums (with Manage Topics), else "member"
   */
  botStatus?: "creator" | "administrator" | "member" | "left" | "kicked";
  /** An administrator bot's Manage Topics right. @default true */
  botCanManageTopics?: boolean;
}

/** A message stored by the fake (the bot's and the people's). */
export interface FakeMessage {
  messageId: number;
  chatId: number;
  threadId: number | undefined;
  fromBot: boolean;
  /** The text as sent (MarkdownV2 source when `parseMode` is set). */
  text: string;
  parseMode: string | undefined;
  /** The text people see (entities parsed). */
  plain: string;
  replyTo: number | undefined;
  replyMarkup: unknown;
  edits: number;
}

/** A forum topic. */
export interface FakeTopic {
  threadId: number;
  name: string;
  closed: boolean;
}

/** An error the next call of a method answers with. */
export interface FakeFailure {
  status: number;
  retryAfter?: number;
  description?: string;
}

/** Options of {@linkcode startFakeTelegram}. */
export interface FakeTelegramOptions {
  token?: string;
  botUsername?: string;
  chats?: FakeChatOptions[];
}

/** A running fake; `await using` stops it. */
export interface FakeTelegram extends AsyncDisposable {
  /** Base URL, for `api_url`. */
  url: string;
  token: string;
  bot: TgUser;
  addChat(chat: FakeChatOptions): void;
  pushMessage(m: {
    chatId: number;
    fromId: number;
    text: string;
    threadId?: number;
    replyTo?: number;
    isBot?: boolean;
    username?: string;
  }): TgMessage;
  pressButton(p: { chatId: number; fromId: number; messageId: number; data?: string }): string;
  pushChatMember(m: { chatId: number; fromId: number; status?: string }): void;
  failNext(method: string, failure: FakeFailure): void;
  /** Messages the bot sent to a chat (optionally one topic), oldest first. */
  messages(chatId: number, threadId?: number): FakeMessage[];
  topics(chatId: number): FakeTopic[];
  /** Parameters of every call of `method`, oldest first. */
  calls(method: string): Record<string, unknown>[];
  callbackAnswers: { id: string; text?: string }[];
  /** Updates not yet confirmed by an `offset`. */
  pendingUpdates(): number;
  /** Polls answered 409 because another one overlapped. */
  conflicts: number;
  maxConcurrentPolls: number;
  /** Resolves once `check` is true (re-checked after every request), or rejects after `ms`. */
  waitFor(check: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

class BadRequest extends Error {
  constructor(readonly status: number, description: string, readonly retryAfter?: number) {
    super(description);
  }
}

const RESERVED = "_*[]()~`>#+-=|{}.!\\";
const NAMES: Record<string, string> = {
  "*": "Bold",
  "_": "Italic",
  "__": "Underline",
  "~": "Strikethrough",
  "||": "Spoiler",
  "[": "TextUrl",
};

/** Parses MarkdownV2 like Telegram and returns the visible text; throws Telegram's 400. */
export function parseMarkdownV2(text: string): string {
  const fail = (message: string): never => {
    throw new BadRequest(400, `Bad Request: can't parse entities: ${message}`);
  };
  const offset = (i: number) => new TextEncoder().encode(text.slice(0, i)).length;
  const reserved = (c: string) =>
    fail(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);
  const stack: { marker: string; at: number }[] = [];
  let plain = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const lineStart = i === 0 || text[i - 1] === "\n";
    if (c === "\\") {
      const next = text[i + 1];
      if (next === undefined || next.charCodeAt(0) > 126) reserved("\\");
      plain += next;
      i += 2;
    } else if (c === "\r") i++;
    else if (c === ">" && lineStart) i++;
    else if (c === "`") {
      const pre = text.startsWith("```", i);
      const open = pre ? 3 : 1;
      let j = i + open;
      let body = "";
      for (;;) {
        if (j >= text.length) {
          fail(`Can't find end of ${pre ? "Pre" : "Code"} entity at byte offset ${offset(i)}`);
        }
        const d = text[j]!;
        if (d === "\\") {
          body += text[j + 1] ?? "";
          j += 2;
        } else if (d === "`") {
          if (!pre) break;
          if (text.startsWith("```", j)) break;
          reserved("`");
        } else {
          body += d;
          j++;
        }
      }
      plain += pre && body.includes("\n")
        ? body.slice(body.indexOf("\n") + 1).replace(/\n$/, "")
        : body;
      i = j + open;
    } else if ("*_~|[".includes(c)) {
      let marker = c;
      if (c === "_" && text[i + 1] === "_") marker = "__";
      if (c === "|") {
        if (text[i + 1] !== "|") reserved("|");
        marker = "||";
      }
      const top = stack.at(-1);
      if (marker === "[") stack.push({ marker, at: i });
      else if (top?.marker === marker) stack.pop();
      else if (stack.some((s) => s.marker === marker)) {
        fail(`Can't find end of ${NAMES[marker]} entity at byte offset ${offset(i)}`);
      } else stack.push({ marker, at: i });
      i += marker.length;
    } else if (c === "]" && stack.at(-1)?.marker === "[") {
      stack.pop();
      if (text[i + 1] !== "(") reserved("]");
      let j = i + 2;
      while (j < text.length && text[j] !== ")") j += text[j] === "\\" ? 2 : 1;
      if (j >= text.length) fail(`Can't find end of a URL at byte offset ${offset(i)}`);
      i = j + 1;
    } else if (RESERVED.includes(c)) reserved(c);
    else {
      plain += c;
      i++;
    }
  }
  const open = stack[0];
  if (open) {
    fail(`Can't find end of ${NAMES[open.marker]} entity at byte offset ${offset(open.at)}`);
  }
  return plain;
}

/** Starts the fake on an ephemeral loopback port. */
export function startFakeTelegram(options: FakeTelegramOptions = {}): FakeTelegram {
  const token = options.token ?? "123456:TEST-secret-token";
  const bot: TgUser = {
    id: Number(token.split(":")[0]),
    is_bot: true,
    first_name: "pylon",
    username: options.botUsername ?? "pylon_test_bot",
  };
  const chats = new Map<number, TgChat>();
  const messages = new Map<number, FakeMessage[]>();
  const topics = new Map<number, FakeTopic[]>();
  const counters = new Map<number, number>();
  const requests: { method: string; params: Record<string, unknown> }[] = [];
  const failures = new Map<string, FakeFailure[]>();
  const queries = new Set<string>();
  let updates: TgUpdate[] = [];
  let nextUpdate = 1;
  let allowed: string[] | undefined;
  const waiters = new Set<() => void>();
  const watchers = new Set<() => void>();
  let activePolls: { terminate: () => void }[] = [];

  const notify = () => {
    for (const w of [...watchers]) w();
  };
  const membership = new Map<number, { status: string; canManageTopics: boolean }>();
  const addChat = (c: FakeChatOptions) => {
    membership.set(c.id, {
      status: c.botStatus ?? (c.isForum ? "administrator" : "member"),
      canManageTopics: c.botCanManageTopics ?? true,
    });
    chats.set(c.id, {
      id: c.id,
      type: c.type ?? (c.id > 0 ? "private" : "supergroup"),
      ...(c.title !== undefined ? { title: c.title } : { title: `chat ${c.id}` }),
      ...(c.isForum ? { is_forum: true } : {}),
    });
  };
  for (const c of options.chats ?? []) addChat(c);
  const chatOf = (id: unknown): TgChat => {
    const chat = chats.get(Number(id));
    if (!chat) throw new BadRequest(400, "Bad Request: chat not found");
    return chat;
  };
  const nextId = (chatId: number) => {
    const n = (counters.get(chatId) ?? 0) + 1;
    counters.set(chatId, n);
    return n;
  };
  const stored = (chatId: number) =>
    messages.get(chatId) ?? (messages.set(chatId, []).get(chatId)!);
  const find = (chatId: number, id: unknown) =>
    stored(chatId).find((m) => m.messageId === Number(id));
  const wire = (m: FakeMessage, nested = true): TgMessage => {
    const reply = m.replyTo !== undefined && nested ? find(m.chatId, m.replyTo) : undefined;
    const forum = chats.get(m.chatId)?.is_forum && m.threadId !== undefined;
    return {
      message_id: m.messageId,
      chat: chats.get(m.chatId)!,
      date: Math.floor(Date.now() / 1000),
      text: m.plain,
      from: m.fromBot ? bot : { id: 0, is_bot: false, first_name: "?" },
      ...(m.threadId !== undefined ? { message_thread_id: m.threadId } : {}),
      ...(forum ? { is_topic_message: true } : {}),
      ...(reply ? { reply_to_message: wire(reply, false) } : {}),
    };
  };
  const push = (update: Omit<TgUpdate, "update_id">) => {
    updates.push({ update_id: nextUpdate++, ...update });
    for (const w of [...waiters]) w();
  };
  const topicOf = (chat: TgChat, threadId: unknown) => {
    const topic = (topics.get(chat.id) ?? []).find((t) => t.threadId === Number(threadId));
    if (!chat.is_forum || !topic) {
      throw new BadRequest(400, "Bad Request: message thread not found");
    }
    return topic;
  };
  const visible = (p: Record<string, unknown>) => {
    const text = String(p.text ?? "");
    const plain = p.parse_mode === "MarkdownV2" ? parseMarkdownV2(text) : text;
    if (plain.trim() === "") throw new BadRequest(400, "Bad Request: message text is empty");
    if (plain.length > 4096) throw new BadRequest(400, "Bad Request: message is too long");
    const rows = (p.reply_markup as { inline_keyboard?: { callback_data?: string }[][] })
      ?.inline_keyboard ?? [];
    for (const button of rows.flat()) {
      if (new TextEncoder().encode(button.callback_data ?? "").length > 64) {
        throw new BadRequest(400, "Bad Request: BUTTON_DATA_INVALID");
      }
    }
    return { text, plain };
  };

  /**
   * A poll whose client went away is not noticed (reading `req.signal` makes Deno warn): it ends
   * at its timeout, when a newer poll terminates it (409, as Telegram does), or on `close()`.
   */
  async function getUpdates(p: Record<string, unknown>): Promise<TgUpdate[]> {
    for (const older of activePolls) older.terminate();
    const offset = Number(p.offset ?? 0);
    if (offset > 0) updates = updates.filter((u) => u.update_id >= offset);
    if (offset < 0) updates = updates.slice(offset);
    if (Array.isArray(p.allowed_updates)) allowed = p.allowed_updates as string[];
    notify();
    const pick = () => {
      const wanted = (u: TgUpdate) =>
        !allowed || allowed.length === 0 || allowed.some((k) => k in u);
      updates = updates.filter(wanted);
      return updates.slice(0, Number(p.limit ?? 100));
    };
    let found = pick();
    const timeout = Number(p.timeout ?? 0);
    if (found.length > 0 || timeout <= 0) return found;
    let conflicted = false;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        activePolls = activePolls.filter((a) => a !== poll);
        resolve();
      };
      const poll = { terminate: () => ((conflicted = true), done()) };
      const timer = setTimeout(done, timeout * 1000);
      waiters.add(done);
      activePolls.push(poll);
      fake.maxConcurrentPolls = Math.max(fake.maxConcurrentPolls, activePolls.length);
    });
    if (conflicted) {
      fake.conflicts++;
      throw new BadRequest(
        409,
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
      );
    }
    found = pick();
    return found;
  }

  function call(method: string, p: Record<string, unknown>): unknown {
    switch (method) {
      case "getMe":
        return bot;
      case "getUpdates":
        return getUpdates(p);
      case "getChat": {
        const chat = chatOf(p.chat_id);
        const status = membership.get(chat.id)?.status;
        if (status === "left" || status === "kicked") {
          throw new BadRequest(
            403,
            chat.type === "private"
              ? "Forbidden: bot was blocked by the user"
              : `Forbidden: bot was kicked from the ${chat.type} chat`,
          );
        }
        return chat;
      }
      case "getChatMember": {
        const chat = chatOf(p.chat_id);
        if (Number(p.user_id) !== bot.id) {
          return {
            status: "member",
            user: { id: Number(p.user_id), is_bot: false, first_name: "?" },
          };
        }
        const m = membership.get(chat.id) ?? { status: "member", canManageTopics: false };
        return {
          status: m.status,
          user: bot,
          ...(m.status === "administrator"
            ? { can_manage_topics: m.canManageTopics, can_be_edited: false }
            : {}),
        };
      }
      case "setMyCommands":
      case "deleteWebhook":
        return true;
      case "sendChatAction":
        chatOf(p.chat_id);
        if (p.message_thread_id !== undefined) topicOf(chatOf(p.chat_id), p.message_thread_id);
        return true;
      case "answerCallbackQuery": {
        const id = String(p.callback_query_id);
        if (!queries.delete(id)) {
          throw new BadRequest(
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
          );
        }
        fake.callbackAnswers.push({
          id,
          ...(p.text !== undefined ? { text: String(p.text) } : {}),
        });
        return true;
      }
      case "createForumTopic": {
        const chat = chatOf(p.chat_id);
        if (!chat.is_forum) throw new BadRequest(400, "Bad Request: the chat is not a forum");
        const name = String(p.name ?? "");
        if (name.length < 1 || name.length > 128) {
          throw new BadRequest(400, "Bad Request: TOPIC_NAME_INVALID");
        }
        const topic = { threadId: nextId(chat.id), name, closed: false };
        topics.set(chat.id, [...(topics.get(chat.id) ?? []), topic]);
        return { message_thread_id: topic.threadId, name, icon_color: 7322096 };
      }
      case "closeForumTopic": {
        const topic = topicOf(chatOf(p.chat_id), p.message_thread_id);
        if (topic.closed) throw new BadRequest(400, "Bad Request: TOPIC_NOT_MODIFIED");
        topic.closed = true;
        return true;
      }
      case "sendMessage": {
        const chat = chatOf(p.chat_id);
        const threadId = p.message_thread_id === undefined
          ? undefined
          : Number(p.message_thread_id);
        // The bot administers the forum, and admins may still write in closed topics.
        if (threadId !== undefined) topicOf(chat, threadId);
        const reply = (p.reply_parameters ?? {}) as Record<string, unknown>;
        const replyTo = reply.message_id ?? p.reply_to_message_id;
        let replyId = replyTo === undefined ? undefined : Number(replyTo);
        if (replyId !== undefined && !find(chat.id, replyId)) {
          if (!reply.allow_sending_without_reply) {
            throw new BadRequest(400, "Bad Request: message to be replied not found");
          }
          replyId = undefined;
        }
        const { text, plain } = visible(p);
        const message: FakeMessage = {
          messageId: nextId(chat.id),
          chatId: chat.id,
          threadId,
          fromBot: true,
          text,
          parseMode: p.parse_mode as string | undefined,
          plain,
          replyTo: replyId,
          replyMarkup: p.reply_markup,
          edits: 0,
        };
        stored(chat.id).push(message);
        return wire(message);
      }
      case "editMessageText": {
        const chat = chatOf(p.chat_id);
        const message = find(chat.id, p.message_id);
        if (!message?.fromBot) throw new BadRequest(400, "Bad Request: message to edit not found");
        const { text, plain } = visible(p);
        if (
          plain === message.plain && text === message.text &&
          JSON.stringify(p.reply_markup) === JSON.stringify(message.replyMarkup)
        ) {
          throw new BadRequest(
            400,
            "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
          );
        }
        Object.assign(message, {
          text,
          plain,
          parseMode: p.parse_mode,
          replyMarkup: p.reply_markup,
          edits: message.edits + 1,
        });
        return wire(message);
      }
      default:
        throw new BadRequest(404, "Not Found");
    }
  }

  async function paramsOf(req: Request, url: URL): Promise<Record<string, unknown>> {
    const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
    const type = req.headers.get("content-type") ?? "";
    if (type.includes("application/json")) return { ...params, ...(await req.json()) };
    if (type.includes("form")) {
      for (const [key, value] of await req.formData()) {
        const text = String(value);
        try {
          params[key] = /^[[{]/.test(text) ? JSON.parse(text) : text;
        } catch {
          params[key] = text;
        }
      }
    } else await req.body?.cancel();
    return params;
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async function fakeTelegram(req) {
      const url = new URL(req.url);
      const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
      try {
        if (!match) throw new BadRequest(404, "Not Found");
        const params = await paramsOf(req, url);
        if (decodeURIComponent(match[1]!) !== token) throw new BadRequest(401, "Unauthorized");
        const method = match[2]!;
        requests.push({ method, params });
        const failure = failures.get(method)?.shift();
        if (failure) {
          throw new BadRequest(
            failure.status,
            failure.description ??
              (failure.status === 429
                ? `Too Many Requests: retry after ${failure.retryAfter ?? 1}`
                : failure.status >= 500
                ? "Internal Server Error"
                : "Bad Request"),
            failure.retryAfter,
          );
        }
        const result = await call(method, params);
        return Response.json({ ok: true, result });
      } catch (error) {
        if (!(error instanceof BadRequest)) throw error;
        return Response.json({
          ok: false,
          error_code: error.status,
          description: error.message,
          ...(error.retryAfter !== undefined
            ? { parameters: { retry_after: error.retryAfter } }
            : {}),
        }, { status: error.status });
      } finally {
        notify();
      }
    },
  );

  const fake: FakeTelegram = {
    url: `http://127.0.0.1:${server.addr.port}`,
    token,
    bot,
    addChat,
    pushMessage(m) {
      if (!chats.has(m.chatId)) addChat({ id: m.chatId });
      const message: FakeMessage = {
        messageId: nextId(m.chatId),
        chatId: m.chatId,
        threadId: m.threadId,
        fromBot: false,
        text: m.text,
        parseMode: undefined,
        plain: m.text,
        replyTo: m.replyTo,
        replyMarkup: undefined,
        edits: 0,
      };
      stored(m.chatId).push(message);
      const from: TgUser = {
        id: m.fromId,
        is_bot: m.isBot ?? false,
        first_name: `User ${m.fromId}`,
        ...(m.username !== undefined ? { username: m.username } : {}),
      };
      const wired = { ...wire(message), from };
      push({ message: wired });
      return wired;
    },
    pressButton(p) {
      const message = find(p.chatId, p.messageId);
      if (!message) throw new Error(`No message ${p.messageId} in chat ${p.chatId}`);
      const id = `cq${nextUpdate}`;
      queries.add(id);
      const markup = message.replyMarkup as { inline_keyboard?: { callback_data: string }[][] };
      const data = p.data ?? markup?.inline_keyboard?.[0]?.[0]?.callback_data;
      push({
        callback_query: {
          id,
          from: { id: p.fromId, is_bot: false, first_name: `User ${p.fromId}` },
          message: wire(message),
          ...(data !== undefined ? { data } : {}),
        },
      });
      return id;
    },
    pushChatMember(m) {
      if (!chats.has(m.chatId)) addChat({ id: m.chatId, type: m.chatId > 0 ? "private" : "group" });
      push({
        my_chat_member: {
          chat: chats.get(m.chatId)!,
          from: { id: m.fromId, is_bot: false, first_name: `User ${m.fromId}` },
          date: Math.floor(Date.now() / 1000),
          old_chat_member: { status: "left", user: bot },
          new_chat_member: { status: m.status ?? "member", user: bot },
        },
      });
    },
    failNext(method, failure) {
      failures.set(method, [...(failures.get(method) ?? []), failure]);
    },
    messages(chatId, threadId) {
      return stored(chatId).filter((m) =>
        m.fromBot && (threadId === undefined || m.threadId === threadId)
      );
    },
    topics: (chatId) => topics.get(chatId) ?? [],
    calls: (method) => requests.filter((r) => r.method === method).map((r) => r.params),
    callbackAnswers: [],
    pendingUpdates: () => updates.length,
    conflicts: 0,
    maxConcurrentPolls: 0,
    waitFor(check, ms = 5000) {
      if (check()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const watch = () => {
          if (!check()) return;
          clearTimeout(timer);
          watchers.delete(watch);
          resolve();
        };
        const timer = setTimeout(() => {
          watchers.delete(watch);
          reject(new Error(`fake Telegram: condition not met within ${ms} ms`));
        }, ms);
        watchers.add(watch);
      });
    },
    async close() {
      for (const w of [...waiters]) w();
      await server.shutdown();
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
  return fake;
}
