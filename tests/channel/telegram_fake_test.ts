import assert from "node:assert/strict";
import { createLogger } from "../../src/log/mod.ts";
import { createTelegramHub, TelegramApi } from "../../src/channel/telegram/mod.ts";
import { parseMarkdownV2, startFakeTelegram } from "../fakes/telegram_server.ts";
import { fastClock } from "./telegram_helpers.ts";

Deno.test("fake Telegram accepts form bodies like the Bot API", async () => {
  await using fake = startFakeTelegram({ chats: [{ id: -5 }] });
  const form = new URLSearchParams({
    chat_id: "-5",
    text: "*hi*",
    parse_mode: "MarkdownV2",
    reply_markup: JSON.stringify({ inline_keyboard: [[{ text: "a", callback_data: "b" }]] }),
  });
  const res = await fetch(`${fake.url}/bot${fake.token}/sendMessage`, {
    method: "POST",
    body: form,
  });
  const body = await res.json();
  assert.equal(body.ok, true);
  assert.equal(body.result.text, "hi");
  assert.deepEqual(fake.messages(-5)[0]!.replyMarkup, {
    inline_keyboard: [[{ text: "a", callback_data: "b" }]],
  });
});

Deno.test("fake Telegram rejects unescaped reserved characters like Telegram", async () => {
  await using fake = startFakeTelegram({ chats: [{ id: -5 }] });
  const api = new TelegramApi({ token: fake.token, apiUrl: fake.url });
  const error = await api.call("sendMessage", {
    chat_id: -5,
    text: "Price: 1.5",
    parse_mode: "MarkdownV2",
  }).then(() => undefined, (e: unknown) => e as Error);
  assert.equal(
    error?.message,
    "Cannot call Telegram sendMessage: Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
  );
  assert.throws(() => parseMarkdownV2("*open"), /Can't find end of Bold entity at byte offset 0/);
  assert.throws(() => parseMarkdownV2("`code"), /Can't find end of Code entity/);
  assert.equal(parseMarkdownV2("_a_\r_b_ [x\\.y](http://u/\\)) ```js\nq\\`\n```"), "ab x.y q`");
  const long = await api.call("sendMessage", { chat_id: -5, text: "x".repeat(4097) })
    .then(() => undefined, (e: unknown) => e as Error);
  assert.match(long?.message ?? "", /message is too long/);
});

Deno.test("fake Telegram answers 409 to the older of two overlapping polls", async () => {
  await using fake = startFakeTelegram();
  const api = new TelegramApi({ token: fake.token, apiUrl: fake.url });
  const first = api.call("getUpdates", { timeout: 5 }).then(() => "ok", (e: Error) => e.message);
  await fake.waitFor(() => fake.calls("getUpdates").length === 1);
  const second = api.call("getUpdates", { timeout: 0 });
  assert.match(await first, /Conflict: terminated by other getUpdates request/);
  assert.deepEqual(await second, []);
  assert.equal(fake.conflicts, 1);
});

Deno.test("two hubs on one token conflict, which is why pylon shares one per token", async () => {
  await using fake = startFakeTelegram({ chats: [{ id: -1 }, { id: -2 }] });
  const log = createLogger({ write: () => {} });
  const options = {
    token: fake.token,
    apiUrl: fake.url,
    log,
    clock: fastClock(),
    pollTimeoutSec: 1,
  };
  await using one = createTelegramHub(options);
  await using two = createTelegramHub(options);
  const controller = new AbortController();
  await one.channel({ chatId: -1 }).start(controller.signal);
  await two.channel({ chatId: -2 }).start(controller.signal);
  await fake.waitFor(() => fake.conflicts > 0);
  controller.abort();
});

Deno.test("fake Telegram long-polls until an update arrives and confirms by offset", async () => {
  await using fake = startFakeTelegram({ chats: [{ id: -5 }] });
  const api = new TelegramApi({ token: fake.token, apiUrl: fake.url });
  const started = Date.now();
  const poll = api.call<{ update_id: number }[]>("getUpdates", { timeout: 5 });
  await fake.waitFor(() => fake.calls("getUpdates").length === 1);
  fake.pushMessage({ chatId: -5, fromId: 1, text: "x" });
  const [update] = await poll;
  assert.ok(Date.now() - started < 4000);
  assert.equal(fake.pendingUpdates(), 1, "not confirmed yet");
  await api.call("getUpdates", { offset: update!.update_id + 1, timeout: 0 });
  assert.equal(fake.pendingUpdates(), 0);
});
