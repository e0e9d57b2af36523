/**
 * A fake Anthropic Messages API on 127.0.0.1, for running the real Claude Code CLI against it
 * (`ANTHROPIC_BASE_URL=<url>`; a container reaches it with `--network host`).
 *
 * `POST /v1/messages` answers with a canned assistant turn: streamed as server-sent events
 * (`message_start`, `content_block_start`, `content_block_delta`, `content_block_stop`,
 * `message_delta`, `message_stop`) when the request says `stream: true`, else as one JSON message.
 * With `toolUse` set, a request that offers tools and does not yet carry a `tool_result` gets
 * that `tool_use` block instead of text, so the CLI runs the tool (and its hooks) and asks again;
 * the follow-up request then gets the text. `count_tokens` answers a fixed count; any other path
 * is recorded and answered 404.
 *
 * @module
 */

/** One request the fake received. */
export interface FakeAnthropicRequest {
  method: string;
  path: string;
  /** Parsed JSON body, or null when the body was not JSON. */
  body: Record<string, unknown> | null;
  headers: Headers;
}

/** A tool call the fake asks the CLI to make. */
export interface FakeToolUse {
  name: string;
  input: Record<string, unknown>;
}

/** Options of {@linkcode startFakeAnthropicApi}. */
export interface FakeAnthropicOptions {
  /** Final answer text; default `"Hello from the fake Messages API"`. */
  answer?: string;
  /** Asked for once per conversation turn before the answer (see the module doc). */
  toolUse?: FakeToolUse;
  /**
   * How many `toolUse` calls in a row one conversation turn gets before the answer (default 1;
   * `Infinity`: a model that never stops calling tools, for turn limits).
   */
  toolCalls?: number;
  /**
   * The usage each answer reports instead of {@linkcode FAKE_USAGE} (e.g. enough input tokens to
   * cross a job's `--max-budget-usd`).
   */
  usage?: FakeUsage;
}

/** The token counts one answer reports. */
export interface FakeUsage {
  "input_tokens": number;
  "output_tokens": number;
  "cache_read_input_tokens": number;
  "cache_creation_input_tokens": number;
}

/** A running fake; `await using` stops it. */
export interface FakeAnthropicApi extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`, for `ANTHROPIC_BASE_URL`. */
  url: string;
  requests: FakeAnthropicRequest[];
  /** The `/v1/messages` requests only. */
  messageRequests(): FakeAnthropicRequest[];
  /** Changes the usage the next answers report (a budget crossed mid-run). */
  setUsage(usage: FakeUsage): void;
}

/** Default answer text. */
export const FAKE_ANSWER = "Hello from the fake Messages API";

/** Starts the fake on an ephemeral loopback port. */
export function startFakeAnthropicApi(opts: FakeAnthropicOptions = {}): FakeAnthropicApi {
  const answer = opts.answer ?? FAKE_ANSWER;
  let usage: FakeUsage = opts.usage ?? FAKE_USAGE;
  const requests: FakeAnthropicRequest[] = [];
  let ids = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async function fakeAnthropic(req) {
      const url = new URL(req.url);
      const text = await req.text();
      let body: Record<string, unknown> | null = null;
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === "object") body = parsed as Record<string, unknown>;
      } catch {
        body = null;
      }
      requests.push({ method: req.method, path: url.pathname, body, headers: req.headers });
      if (req.method === "POST" && url.pathname === "/v1/messages/count_tokens") {
        return Response.json({ input_tokens: 42 });
      }
      if (req.method !== "POST" || url.pathname !== "/v1/messages" || !body) {
        return Response.json(
          { type: "error", error: { type: "not_found_error", message: "not found" } },
          { status: 404 },
        );
      }
      const model = typeof body.model === "string" ? body.model : "claude-fake";
      const id = `msg_fake_${++ids}`;
      const block = opts.toolUse && wantsTool(body, opts.toolCalls ?? 1)
        ? {
          type: "tool_use" as const,
          id: `toolu_fake_${ids}`,
          name: opts.toolUse.name,
          input: opts.toolUse.input,
        }
        : { type: "text" as const, text: answer };
      if (body.stream === true) return sse(id, model, block, usage);
      return Response.json({
        id,
        type: "message",
        role: "assistant",
        model,
        content: [block],
        stop_reason: block.type === "tool_use" ? "tool_use" : "end_turn",
        stop_sequence: null,
        usage,
      });
    },
  );
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    requests,
    messageRequests: () => requests.filter((r) => r.path === "/v1/messages"),
    setUsage(next) {
      usage = next;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/**
 * The usage each answer reports (output tokens: 5, in `message_delta` when streaming), cache
 * tokens included, so a test can check what the agent adds up.
 */
export const FAKE_USAGE = {
  "input_tokens": 10,
  "output_tokens": 5,
  "cache_read_input_tokens": 7,
  "cache_creation_input_tokens": 3,
} as const;

type Block =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

/**
 * Whether the request offers tools and the conversation's turn has had fewer than `calls` tool
 * results since its last user message without one.
 */
function wantsTool(body: Record<string, unknown>, calls: number): boolean {
  if (!Array.isArray(body.tools) || body.tools.length === 0) return false;
  const messages = Array.isArray(body.messages) ? body.messages : [];
  let results = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | undefined;
    if (m?.role !== "user") continue;
    const content = Array.isArray(m.content) ? m.content : [];
    if (!content.some((c) => (c as { type?: unknown })?.type === "tool_result")) break;
    results++;
  }
  return results < calls;
}

function sse(id: string, model: string, block: Block, reported: FakeUsage): Response {
  const usage = { ...reported, "output_tokens": 0 };
  const events: [string, unknown][] = [
    ["message_start", {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage,
      },
    }],
    ["content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: block.type === "text"
        ? { type: "text", text: "" }
        : { type: "tool_use", id: block.id, name: block.name, input: {} },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: block.type === "text"
        ? { type: "text_delta", text: block.text }
        : { type: "input_json_delta", partial_json: JSON.stringify(block.input) },
    }],
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_delta", {
      type: "message_delta",
      delta: {
        stop_reason: block.type === "tool_use" ? "tool_use" : "end_turn",
        stop_sequence: null,
      },
      usage: { "output_tokens": reported.output_tokens },
    }],
    ["message_stop", { type: "message_stop" }],
  ];
  const text = events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)
    .join("");
  return new Response(text, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}
