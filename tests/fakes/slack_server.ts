/**
 * A fake Slack on loopback: Web API methods at `/api/<method>` (form or JSON bodies, bearer
 * tokens) and a Socket Mode endpoint that says `hello`, delivers the envelopes a test injects,
 * records acks and redelivers an envelope not acked in time, like Slack.
 *
 * @module
 */

const TEAM = "T0FAKE";
const APP = "A0FAKE";
const BOT_ID = "B0FAKE";

/** Options of {@linkcode startFakeSlack}. */
export interface FakeSlackOptions {
  botToken?: string;
  appToken?: string;
  botUserId?: string;
  /** An envelope not acked within this many ms is sent again (3 times at most). @default 3000 */
  ackTimeoutMs?: number;
  /** Send `message` events for the bot's own posts and edits, as Slack does. @default true */
  echoBotMessages?: boolean;
  /**
   * Where `chat.getPermalink`'s links point (the workspace's URL; a test may make it hostile).
   * @default "https://pylon-fake.slack.com"
   */
  permalinkBase?: string;
}

/** A message in the fake workspace. */
export interface FakeMessage {
  channel: string;
  ts: string;
  threadTs?: string | undefined;
  text: string;
  blocks?: Record<string, unknown>[] | undefined;
  user: string;
  botId?: string | undefined;
  reactions: string[];
  edits: number;
}

/** One Web API request as received. */
export interface RecordedCall {
  method: string;
  token: string | undefined;
  params: Record<string, unknown>;
}

/** A scripted failure of the next call of a method. */
export interface Failure {
  status?: number;
  retryAfter?: number;
  error?: string;
}

type Envelope = Record<string, unknown> & { envelope_id: string };

interface Pending {
  envelope: Envelope;
  sends: number;
  timer?: ReturnType<typeof setTimeout>;
}

/** Polls `check` until it holds. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Starts the fake on a free loopback port. */
export function startFakeSlack(options: FakeSlackOptions = {}): FakeSlack {
  return new FakeSlack(options);
}

/** The fake; read its public arrays to see what the client did. */
export class FakeSlack {
  readonly botToken: string;
  readonly appToken: string;
  readonly botUserId: string;
  readonly calls: RecordedCall[] = [];
  readonly messages: FakeMessage[] = [];
  /** Envelope ids in the order their acks arrived. */
  readonly acks: string[] = [];
  /** Messages only one person saw (`chat.postEphemeral`), oldest first. */
  readonly ephemerals: { channel: string; user: string; text: string; threadTs?: string }[] = [];
  /** Every envelope sent, redeliveries included. */
  readonly sent: Envelope[] = [];
  /** Sockets that completed the handshake, over the fake's life. */
  connections = 0;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #sockets = new Map<WebSocket, Promise<void>>();
  #tickets = new Set<string>();
  #failures = new Map<string, Failure[]>();
  #channels = new Map<string, { name: string; isMember: boolean }>();
  #pending = new Map<string, Pending>();
  #queue: string[] = [];
  #ackTimeoutMs: number;
  #echo: boolean;
  #permalinkBase: string;
  #clock = Math.floor(Date.now() / 1000);
  #counter = 0;

  constructor(options: FakeSlackOptions) {
    this.botToken = options.botToken ?? "xoxb-fake-bot-token-0123456789";
    this.appToken = options.appToken ?? "xapp-1-A0FAKE-fake-app-token-9876543210";
    this.botUserId = options.botUserId ?? "U0PYLONBOT";
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 3000;
    this.#echo = options.echoBotMessages ?? true;
    this.#permalinkBase = options.permalinkBase ?? "https://pylon-fake.slack.com";
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => this.#handle(req),
    );
  }

  /** The Web API base URL, for `api_url`. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/api`;
  }

  /** Sockets open right now. */
  get openSockets(): number {
    return [...this.#sockets.keys()].filter((s) => s.readyState === WebSocket.OPEN).length;
  }

  /** Calls of one method. */
  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** The message with this ts. */
  message(ts: string): FakeMessage | undefined {
    return this.messages.find((m) => m.ts === ts);
  }

  /**
   * Declares a channel for `conversations.info` (its name and whether the bot is a member);
   * channels not declared answer as before: any well-formed ID, the bot a member.
   */
  addChannel(id: string, opts: { name?: string; isMember?: boolean } = {}): void {
    this.#channels.set(id, { name: opts.name ?? "pylon-test", isMember: opts.isMember ?? true });
  }

  /** The next call of `method` fails this way (queue several by calling again). */
  failNext(method: string, failure: Failure): void {
    this.#failures.set(method, [...(this.#failures.get(method) ?? []), failure]);
  }

  /** A person presses a button of a message; returns the envelope id. */
  clickButton(
    opts: {
      userId: string;
      channelId: string;
      messageTs: string;
      actionId: string;
      userName?: string;
    },
  ): string {
    const message = this.messages.find((m) =>
      m.ts === opts.messageTs && m.channel === opts.channelId
    );
    const element = (message?.blocks ?? []).flatMap((b) =>
      Array.isArray(b.elements) ? b.elements as Record<string, unknown>[] : []
    ).find((e) => e.action_id === opts.actionId);
    const block = message?.blocks?.find((b) =>
      Array.isArray(b.elements) && b.elements.includes(element)
    );
    const name = opts.userName ?? opts.userId.toLowerCase();
    return this.#deliver("interactive", {
      type: "block_actions",
      user: { id: opts.userId, username: name, name, "team_id": TEAM },
      "api_app_id": APP,
      token: "fake-verification-token",
      container: {
        type: "message",
        "message_ts": opts.messageTs,
        "channel_id": opts.channelId,
        "is_ephemeral": false,
        ...(message?.threadTs ? { "thread_ts": message.threadTs } : {}),
      },
      "trigger_id": `${this.#counter}.fake.trigger`,
      team: { id: TEAM, domain: "fake" },
      enterprise: null,
      "is_enterprise_install": false,
      channel: { id: opts.channelId, name: "pylon-test" },
      message: message ? this.#wire(message) : undefined,
      state: { values: {} },
      "response_url": `http://127.0.0.1:${this.#server.addr.port}/actions/${this.#counter}`,
      actions: [{
        "action_id": opts.actionId,
        "block_id": block?.block_id ?? "unknown",
        text: element?.text ?? { type: "plain_text", text: opts.actionId },
        value: element?.value ?? "",
        ...(element?.style ? { style: element.style } : {}),
        type: "button",
        "action_ts": this.#nextTs(),
      }],
    });
  }

  /** A person writes a message (in a thread when `threadTs`); returns the envelope id. */
  postUserMessage(
    opts: { userId: string; channelId: string; text: string; threadTs?: string },
  ): string {
    const ts = this.#nextTs();
    const message: FakeMessage = {
      channel: opts.channelId,
      ts,
      threadTs: opts.threadTs,
      text: opts.text,
      user: opts.userId,
      reactions: [],
      edits: 0,
    };
    this.messages.push(message);
    return this.#deliverEvent({
      ...this.#wire(message),
      "client_msg_id": crypto.randomUUID(),
      ...(opts.threadTs ? { "parent_user_id": this.botUserId } : {}),
    });
  }

  /** Drops every socket: abruptly, or after a `disconnect` message when `graceful`. */
  disconnect(options: { graceful?: boolean } = {}): void {
    for (const socket of this.#sockets.keys()) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      if (options.graceful) {
        socket.send(JSON.stringify({
          type: "disconnect",
          reason: "refresh_requested",
          "debug_info": { host: "fake" },
        }));
      } else socket.close(1011, "fake drop");
    }
  }

  /** Stops the server, its sockets and timers. */
  async close(): Promise<void> {
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
    for (const socket of this.#sockets.keys()) {
      if (socket.readyState === WebSocket.OPEN) socket.close(1001, "fake closing");
    }
    await Promise.all(this.#sockets.values());
    await this.#server.shutdown();
  }

  #nextTs(): string {
    this.#counter++;
    return `${this.#clock + this.#counter}.${String(this.#counter).padStart(6, "0")}`;
  }

  #wire(m: FakeMessage): Record<string, unknown> {
    return {
      type: "message",
      channel: m.channel,
      user: m.user,
      text: m.text,
      ts: m.ts,
      ...(m.threadTs ? { "thread_ts": m.threadTs } : {}),
      ...(m.botId ? { "bot_id": m.botId } : {}),
      ...(m.blocks ? { blocks: m.blocks } : {}),
      team: TEAM,
      "event_ts": m.ts,
      "channel_type": "channel",
    };
  }

  #deliverEvent(event: Record<string, unknown>): string {
    return this.#deliver("events_api", {
      token: "fake-verification-token",
      "team_id": TEAM,
      "api_app_id": APP,
      event,
      type: "event_callback",
      "event_id": `Ev${String(++this.#counter).padStart(8, "0")}`,
      "event_time": this.#clock,
      authorizations: [{ "team_id": TEAM, "user_id": this.botUserId, "is_bot": true }],
      "is_ext_shared_channel": false,
    }, { "retry_attempt": 0, "retry_reason": "" });
  }

  #deliver(type: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const envelope: Envelope = {
      "envelope_id": crypto.randomUUID(),
      payload,
      type,
      "accepts_response_payload": false,
      ...extra,
    };
    this.#pending.set(envelope.envelope_id, { envelope, sends: 0 });
    this.#queue.push(envelope.envelope_id);
    this.#flush();
    return envelope.envelope_id;
  }

  #flush(): void {
    const socket = [...this.#sockets.keys()].findLast((s) => s.readyState === WebSocket.OPEN);
    if (!socket) return;
    for (const id of this.#queue.splice(0)) {
      const pending = this.#pending.get(id);
      if (!pending) continue;
      if (pending.sends > 0 && "retry_attempt" in pending.envelope) {
        pending.envelope.retry_attempt = pending.sends;
        pending.envelope.retry_reason = "timeout";
      }
      pending.sends++;
      this.sent.push(structuredClone(pending.envelope));
      socket.send(JSON.stringify(pending.envelope));
      pending.timer = setTimeout(() => {
        if (pending.sends > 3) return void this.#pending.delete(id);
        this.#queue.push(id);
        this.#flush();
      }, this.#ackTimeoutMs);
    }
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/link")) return this.#upgrade(req, url);
    const method = url.pathname.replace(/^\/api\//, "");
    const token = req.headers.get("authorization")?.replace(/^Bearer\s+/i, "") || undefined;
    const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
    const type = req.headers.get("content-type") ?? "";
    const body = await req.text();
    if (type.includes("application/json") && body) Object.assign(params, JSON.parse(body));
    else Object.assign(params, Object.fromEntries(new URLSearchParams(body)));
    if (typeof params.blocks === "string") params.blocks = JSON.parse(params.blocks);
    this.calls.push({ method, token, params });
    const failure = this.#failures.get(method)?.shift();
    if (failure) {
      const headers: Record<string, string> = failure.retryAfter !== undefined
        ? { "retry-after": String(failure.retryAfter) }
        : {};
      const error = failure.error ?? (failure.status === 429 ? "ratelimited" : "internal_error");
      return Response.json({ ok: false, error }, { status: failure.status ?? 200, headers });
    }
    const wanted = method === "apps.connections.open" ? this.appToken : this.botToken;
    if (!token) return Response.json({ ok: false, error: "not_authed" });
    if (token !== wanted) {
      const known = token === this.appToken || token === this.botToken;
      return Response.json({ ok: false, error: known ? "not_allowed_token_type" : "invalid_auth" });
    }
    return Response.json(this.#method(method, params));
  }

  #method(method: string, p: Record<string, unknown>): Record<string, unknown> {
    const channel = String(p.channel ?? "");
    const find = (ts: unknown) => this.messages.find((m) => m.channel === channel && m.ts === ts);
    switch (method) {
      case "auth.test":
        return {
          ok: true,
          team: "Fake",
          user: "pylon",
          "team_id": TEAM,
          "user_id": this.botUserId,
        };
      case "apps.connections.open": {
        const ticket = crypto.randomUUID();
        this.#tickets.add(ticket);
        const port = this.#server.addr.port;
        return { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=${APP}` };
      }
      case "conversations.info": {
        const known = this.#channels.get(channel);
        if (known) {
          return {
            ok: true,
            channel: { id: channel, name: known.name, "is_member": known.isMember },
          };
        }
        if (!/^[CGD][A-Z0-9]+$/.test(channel)) return { ok: false, error: "channel_not_found" };
        return { ok: true, channel: { id: channel, name: "pylon-test", "is_member": true } };
      }
      case "chat.postMessage": {
        if (!/^[CGD][A-Z0-9]+$/.test(channel)) return { ok: false, error: "channel_not_found" };
        const invalid = checkContent(p);
        if (invalid) return { ok: false, error: invalid };
        const message: FakeMessage = {
          channel,
          ts: this.#nextTs(),
          threadTs: typeof p.thread_ts === "string" && p.thread_ts ? p.thread_ts : undefined,
          text: String(p.text ?? ""),
          blocks: p.blocks as FakeMessage["blocks"],
          user: this.botUserId,
          botId: BOT_ID,
          reactions: [],
          edits: 0,
        };
        this.messages.push(message);
        if (this.#echo) this.#deliverEvent(this.#wire(message));
        return { ok: true, channel, ts: message.ts, message: this.#wire(message) };
      }
      case "chat.update": {
        const message = find(p.ts);
        if (!message) return { ok: false, error: "message_not_found" };
        const invalid = checkContent(p);
        if (invalid) return { ok: false, error: invalid };
        message.text = String(p.text ?? "");
        message.blocks = p.blocks as FakeMessage["blocks"];
        message.edits++;
        if (this.#echo) {
          this.#deliverEvent({
            type: "message",
            subtype: "message_changed",
            channel,
            hidden: true,
          });
        }
        return { ok: true, channel, ts: message.ts, text: message.text };
      }
      case "chat.postEphemeral": {
        if (!/^[CGD][A-Z0-9]+$/.test(channel)) return { ok: false, error: "channel_not_found" };
        if (typeof p.user !== "string" || !p.user) {
          return { ok: false, error: "user_not_in_channel" };
        }
        const invalid = checkContent(p);
        if (invalid) return { ok: false, error: invalid };
        this.ephemerals.push({
          channel,
          user: p.user,
          text: String(p.text ?? ""),
          ...(typeof p.thread_ts === "string" ? { threadTs: p.thread_ts } : {}),
        });
        return { ok: true, "message_ts": this.#nextTs() };
      }
      case "chat.getPermalink": {
        // Slack's shape: /archives/<channel>/p<ts without its dot>, and a reply's link names
        // its thread.
        if (!/^[CGD][A-Z0-9]+$/.test(channel)) return { ok: false, error: "channel_not_found" };
        const message = find(p.message_ts);
        if (!message) return { ok: false, error: "message_not_found" };
        const link = `${this.#permalinkBase}/archives/${channel}/p${message.ts.replace(".", "")}`;
        const thread = message.threadTs ? `?thread_ts=${message.threadTs}&cid=${channel}` : "";
        return { ok: true, channel, permalink: link + thread };
      }
      case "reactions.add": {
        const message = find(p.timestamp);
        if (!message) return { ok: false, error: "message_not_found" };
        const name = String(p.name ?? "");
        if (message.reactions.includes(name)) return { ok: false, error: "already_reacted" };
        message.reactions.push(name);
        return { ok: true };
      }
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  #upgrade(req: Request, url: URL): Response {
    const ticket = url.searchParams.get("ticket") ?? "";
    if (!this.#tickets.delete(ticket)) return new Response("invalid ticket", { status: 401 });
    const { socket, response } = Deno.upgradeWebSocket(req);
    const closed = Promise.withResolvers<void>();
    this.#sockets.set(socket, closed.promise);
    socket.onopen = () => {
      this.connections++;
      socket.send(JSON.stringify({
        type: "hello",
        "num_connections": this.openSockets,
        "debug_info": { host: "fake", "approximate_connection_time": 18060 },
        "connection_info": { "app_id": APP },
      }));
      this.#flush();
    };
    socket.onmessage = (event) => {
      const ack = JSON.parse(String(event.data)) as { envelope_id?: string };
      if (!ack.envelope_id) return;
      this.acks.push(ack.envelope_id);
      clearTimeout(this.#pending.get(ack.envelope_id)?.timer);
      this.#pending.delete(ack.envelope_id);
    };
    socket.onclose = () => {
      this.#sockets.delete(socket);
      closed.resolve();
    };
    return response;
  }
}

/** Slack's own limits: a `no_text`, `msg_too_long` or `invalid_blocks` error, or undefined. */
function checkContent(p: Record<string, unknown>): string | undefined {
  const text = typeof p.text === "string" ? p.text : "";
  const blocks = Array.isArray(p.blocks) ? p.blocks as Record<string, unknown>[] : undefined;
  if (!text && !blocks?.length) return "no_text";
  if (text.length > 40_000) return "msg_too_long";
  for (const block of blocks ?? []) {
    const section = block.text as { text?: string } | undefined;
    if (block.type === "section" && (!section?.text || section.text.length > 3000)) {
      return "invalid_blocks";
    }
  }
  return undefined;
}
