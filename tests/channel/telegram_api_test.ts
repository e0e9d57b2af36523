import assert from "node:assert/strict";
import { ChannelError } from "../../src/channel/channel.ts";
import {
  isNotModified,
  isParseError,
  TelegramApi,
  type TelegramClock,
} from "../../src/channel/telegram/mod.ts";
import { startFakeTelegram } from "../fakes/telegram_server.ts";

/** A clock whose sleeps return at once and are recorded. */
function instantClock(): TelegramClock & { slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    now: () => new Date(0),
    sleep(ms, signal) {
      slept.push(ms);
      return signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    },
  };
}

/** The ChannelError a call rejects with. */
async function failure(call: Promise<unknown>): Promise<ChannelError> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ChannelError, `expected a ChannelError, got ${error}`);
  return error;
}

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("TelegramApi.call() returns the result of a method", async () => {
  await using fake = startFakeTelegram();
  const api = new TelegramApi({ token: fake.token, apiUrl: fake.url + "/" });
  const me = await api.call<{ username: string }>("getMe");
  assert.equal(me.username, "pylon_test_bot");
});

Deno.test("TelegramApi.call() maps ok:false to a ChannelError with status and hint", async () => {
  await using fake = startFakeTelegram();
  const api = new TelegramApi({ token: fake.token, apiUrl: fake.url });
  const error = await failure(api.call("sendMessage", { chat_id: 42, text: "x" }));
  assert.ok(error instanceof ChannelError);
  assert.equal(error.message, "Cannot call Telegram sendMessage: Bad Request: chat not found");
  assert.equal(error.status, 400);
  assert.equal(error.retryable, false);
  assert.equal(error.channel, "telegram");
  assert.equal(error.method, "sendMessage");
  assert.match(error.hint ?? "", /chat_id/);
});

Deno.test("TelegramApi.call() waits retry_after on 429 and tries again", async () => {
  await using fake = startFakeTelegram({ chats: [{ id: -100 }] });
  const clock = instantClock();
  const api = new TelegramApi({ token: fake.token, apiUrl: fake.url, clock });
  fake.failNext("sendMessage", { status: 429, retryAfter: 7 });
  fake.failNext("sendMessage", { status: 429, retryAfter: 2 });
  const sent = await api.call<{ message_id: number }>("sendMessage", { chat_id: -100, text: "hi" });
  assert.equal(sent.message_id, 1);
  assert.deepEqual(clock.slept, [7000, 2000]);
  assert.equal(fake.calls("sendMessage").length, 3);
});

Deno.test("TelegramApi.call() gives up after maxRetries with a retryable error", async () => {
  await using fake = startFakeTelegram({ chats: [{ id: -100 }] });
  const clock = instantClock();
  const api = new TelegramApi({ token: fake.token, apiUrl: fake.url, clock, maxRetries: 1 });
  fake.failNext("sendMessage", { status: 429, retryAfter: 1 });
  fake.failNext("sendMessage", { status: 429, retryAfter: 3 });
  const error = await failure(api.call("sendMessage", { chat_id: -100, text: "hi" }));
  assert.ok(error instanceof ChannelError);
  assert.equal(error.status, 429);
  assert.equal(error.retryable, true);
  assert.equal(error.retryAfter, 3);
  assert.deepEqual(clock.slept, [1000]);
});

Deno.test("TelegramApi.call() throws at once when retry_after is longer than allowed", async () => {
  await using fake = startFakeTelegram({ chats: [{ id: -100 }] });
  const clock = instantClock();
  const api = new TelegramApi({ token: fake.token, apiUrl: fake.url, clock, maxRetryAfterSec: 10 });
  fake.failNext("sendMessage", { status: 429, retryAfter: 300 });
  const error = await failure(api.call("sendMessage", { chat_id: -100, text: "hi" }));
  assert.equal(error.retryAfter, 300);
  assert.deepEqual(clock.slept, []);
});

Deno.test("TelegramApi.call() marks 5xx retryable and 4xx not", async () => {
  await using fake = startFakeTelegram();
  const api = new TelegramApi({ token: fake.token, apiUrl: fake.url });
  fake.failNext("getMe", { status: 502 });
  const bad = await failure(api.call("getMe"));
  assert.equal(bad.status, 502);
  assert.equal(bad.retryable, true);
  const unknown = await failure(api.call("noSuchMethod"));
  assert.equal(unknown.status, 404);
  assert.equal(unknown.retryable, false);
});

Deno.test("TelegramApi keeps the token out of network errors and their causes", async () => {
  const token = "987654:SECRET-abcdef";
  const api = new TelegramApi({ token, apiUrl: `http://127.0.0.1:${closedPort()}` });
  const error = await failure(api.call("getMe"));
  assert.ok(error instanceof ChannelError);
  assert.equal(error.retryable, true);
  assert.match(error.message, /^Cannot call Telegram getMe: /);
  const everything = `${error.message} ${error.stack} ${(error.cause as Error)?.message} ` +
    `${(error.cause as Error)?.stack}`;
  assert.ok(!everything.includes("SECRET"), everything);
});

Deno.test("TelegramApi redacts the token from Telegram's descriptions and wrong tokens", async () => {
  await using fake = startFakeTelegram();
  const api = new TelegramApi({ token: fake.token, apiUrl: fake.url });
  fake.failNext("getMe", { status: 400, description: `Bad Request: bot ${fake.token} is odd` });
  const error = await failure(api.call("getMe"));
  assert.equal(error.message, "Cannot call Telegram getMe: Bad Request: bot <token> is odd");
  const wrong = new TelegramApi({ token: "1:WRONG-token", apiUrl: fake.url });
  const refused = await failure(wrong.call("getMe"));
  assert.equal(refused.status, 401);
  assert.ok(!refused.message.includes("WRONG"));
  assert.match(refused.hint ?? "", /bot_token/);
});

Deno.test("TelegramApi.call() times out a call that gets no answer", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    await released;
    return new Response("late");
  });
  try {
    const api = new TelegramApi({
      token: "1:x",
      apiUrl: `http://127.0.0.1:${server.addr.port}`,
      timeoutMs: 50,
    });
    const error = await failure(api.call("getMe"));
    assert.equal(error.message, "Cannot call Telegram getMe: no answer within 50 ms");
    assert.equal(error.retryable, true);
  } finally {
    release();
    await server.shutdown();
  }
});

Deno.test("TelegramApi.call() stops when its signal aborts", async () => {
  await using fake = startFakeTelegram();
  const api = new TelegramApi({ token: fake.token, apiUrl: fake.url });
  const controller = new AbortController();
  const poll = api.call("getUpdates", { timeout: 30 }, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error("stop")), 20);
  await assert.rejects(poll, /stop/);
});

Deno.test("isParseError() and isNotModified() recognise Telegram's 400s", () => {
  const make = (description: string) =>
    new ChannelError(`Cannot call Telegram sendMessage: ${description}`, {
      channel: "telegram",
      method: "sendMessage",
      status: 400,
      retryable: false,
    });
  assert.ok(isParseError(make("Bad Request: can't parse entities: Character '.' is reserved")));
  assert.ok(isNotModified(make("Bad Request: message is not modified: specified new message")));
  assert.ok(!isParseError(make("Bad Request: chat not found")));
});
