import assert from "node:assert/strict";
import { parse } from "yaml";
import { ChannelError, CHAT_COMMANDS, type MessageEvent } from "../../src/channel/channel.ts";
import {
  closeTelegramHubs,
  persistChatId,
  telegramChannelFor,
  type TelegramHub,
  tokenDigest,
} from "../../src/channel/telegram/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { startFakeTelegram } from "../fakes/telegram_server.ts";
import { collector, eventually, testbed } from "./telegram_helpers.ts";

const A = -100111;
const B = -100222;
const ALICE = 11;

Deno.test("TelegramHub: two chats on one token share one poller and get their own updates", async () => {
  await using bed = testbed([{ id: A }, { id: B }]);
  const first = bed.hub.channel({ chatId: A });
  const second = bed.hub.channel({ chatId: B });
  assert.equal(bed.hub.channel({ chatId: A }), first, "the same chat gives the same view");
  const id = tokenDigest(bed.fake.token).slice(0, 12);
  assert.equal(first.key, `telegram:${id}:${A}`);
  assert.equal(second.key, `telegram:${id}:${B}`);

  const inA = collector<MessageEvent>();
  const inB = collector<MessageEvent>();
  first.onMessage(inA.handler);
  second.onMessage(inB.handler);
  await first.start(bed.controller.signal);
  await second.start(bed.controller.signal);
  await bed.fake.waitFor(() => bed.fake.calls("getUpdates").length > 0);
  bed.fake.pushMessage({ chatId: A, fromId: ALICE, text: "for A" });
  bed.fake.pushMessage({ chatId: B, fromId: ALICE, text: "for B" });
  bed.fake.pushMessage({ chatId: -999, fromId: ALICE, text: "for nobody" });
  assert.deepEqual((await inA.until(1)).map((e) => e.text), ["for A"]);
  assert.deepEqual((await inB.until(1)).map((e) => e.text), ["for B"]);
  await bed.fake.waitFor(() => bed.fake.pendingUpdates() === 0);
  assert.equal(bed.fake.conflicts, 0);
  assert.equal(bed.fake.maxConcurrentPolls, 1);
  const poll = bed.fake.calls("getUpdates").at(-1)!;
  assert.deepEqual(poll.allowed_updates, ["message", "callback_query"]);
  assert.equal(poll.timeout, 1);
});

Deno.test("TelegramHub sets the bot commands and learns its username at start", async () => {
  await using bed = testbed([{ id: A }]);
  await bed.hub.channel({ chatId: A }).start(bed.controller.signal);
  await bed.fake.waitFor(() => bed.fake.calls("setMyCommands").length === 1);
  assert.deepEqual(bed.fake.calls("setMyCommands")[0]!.commands, CHAT_COMMANDS);
  assert.equal(bed.hub.username, "pylon_test_bot");
});

Deno.test("TelegramHub logs a 409 conflict once, backs off, and resumes", async () => {
  await using bed = testbed([{ id: A }]);
  const view = bed.hub.channel({ chatId: A });
  const inbox = collector<MessageEvent>();
  view.onMessage(inbox.handler);
  for (let i = 0; i < 3; i++) bed.fake.failNext("getUpdates", { status: 409 });
  await view.start(bed.controller.signal);
  bed.fake.pushMessage({ chatId: A, fromId: ALICE, text: "after the conflict" });
  await inbox.until(1);
  const conflicts = bed.logs.filter((l) => l.includes("event=telegram.polling_conflict"));
  assert.equal(conflicts.length, 1);
  assert.match(conflicts[0]!, /another program/);
  assert.ok(bed.logs.some((l) => l.includes("event=telegram.polling_resumed")));
  const waits = bed.clock.slept.slice(0, 3);
  assert.ok(waits[0]! >= 2500 && waits[0]! <= 5000, `${waits}`);
  assert.ok(waits[2]! > waits[0]!, "the wait grows");
});

Deno.test("TelegramHub backs off on network errors and never logs the token", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await using bed = testbed([], `http://127.0.0.1:${port}`);
  await bed.hub.channel({ chatId: A }).start(bed.controller.signal);
  await eventually(() => bed.clock.slept.length >= 4);
  bed.controller.abort();
  await bed.hub.close();
  assert.equal(bed.hub.polling, false);
  const [a = 0, b = 0, c = 0] = bed.clock.slept;
  assert.ok(a >= 500 && a <= 1000 && b >= 1000 && c >= 2000, `${bed.clock.slept}`);
  const failures = bed.logs.filter((l) => l.includes("event=telegram.polling_failed"));
  assert.equal(failures.length, 1, "one warning per outage");
  const secret = bed.fake.token.split(":")[1]!;
  assert.ok(bed.logs.every((l) => !l.includes(secret)), bed.logs.join("\n"));
  assert.ok(bed.logs.some((l) => l.includes("<token>")));
});

Deno.test("TelegramHub stops polling when the last started view's signal aborts", async () => {
  await using bed = testbed([{ id: A }, { id: B }]);
  const one = new AbortController();
  const two = new AbortController();
  await bed.hub.channel({ chatId: A }).start(one.signal);
  await bed.hub.channel({ chatId: B }).start(two.signal);
  one.abort();
  assert.equal(bed.hub.polling, true);
  two.abort();
  assert.equal(bed.hub.polling, false);
  await bed.hub.close();
  assert.ok(bed.logs.some((l) => l.includes("event=telegram.polling_stopped")));
});

Deno.test("TelegramHub answers presses on messages of chats it does not serve", async () => {
  await using bed = testbed([{ id: A }, { id: B }]);
  const view = bed.hub.channel({ chatId: A });
  await view.start(bed.controller.signal);
  await view.post(null, "x"); // message 1 in A; make one in B by hand
  bed.fake.pushMessage({ chatId: B, fromId: ALICE, text: "hi" });
  const id = bed.fake.pressButton({ chatId: B, fromId: ALICE, messageId: 1, data: "ignore:j" });
  await bed.fake.waitFor(() => bed.fake.callbackAnswers.some((a) => a.id === id));
});

Deno.test("Chat auto-detection adopts the first chat that writes and persists it", async () => {
  await using bed = testbed();
  const dir = await Deno.makeTempDir({ prefix: "pylon-tg-" });
  const file = `${dir}/pylon.yaml`;
  await Deno.writeTextFile(
    file,
    "# my pylon\nname: sentry # inline\nchannel:\n  type: telegram\n  telegram:\n" +
      "    bot_token: ${TOKEN} # from .env\n    chat_id: 0\n",
  );
  try {
    const view = bed.hub.channel({ chatId: 0 });
    assert.equal(view.key.endsWith(":0"), true);
    const detected = collector<number>();
    view.onChatDetected(async (chatId) => {
      await persistChatId(file, ["channel", "telegram", "chat_id"], chatId);
      detected.handler(chatId);
    });
    const inbox = collector<MessageEvent>();
    view.onMessage(inbox.handler);
    await view.start(bed.controller.signal);
    await bed.fake.waitFor(() => bed.fake.calls("getUpdates").length > 0);
    assert.deepEqual(
      bed.fake.calls("getUpdates")[0]!.allowed_updates,
      ["message", "callback_query", "my_chat_member"],
    );
    bed.fake.pushMessage({ chatId: -4242, fromId: ALICE, text: "hello bot" });
    assert.deepEqual(await detected.until(1), [-4242]);
    assert.deepEqual((await inbox.until(1))[0]!.text, "hello bot");
    assert.equal(view.chatId, -4242);
    assert.equal(view.key, `telegram:${bed.hub.tokenId}:-4242`);
    assert.equal(bed.hub.channel({ chatId: -4242 }), view, "the reloaded config finds the view");
    assert.equal(bed.hub.channel({}), view);

    const text = await Deno.readTextFile(file);
    assert.match(text, /# my pylon/);
    assert.match(text, /name: sentry # inline/);
    assert.match(text, /bot_token: \$\{TOKEN\} # from \.env/);
    assert.equal(parse(text).channel.telegram.chat_id, -4242);

    // A second chat is not adopted: it is just another chat now.
    bed.fake.pushMessage({ chatId: -777, fromId: ALICE, text: "me too" });
    await bed.fake.waitFor(() => bed.fake.pendingUpdates() === 0);
    assert.equal(detected.events.length, 1);
    assert.equal(inbox.events.length, 1);
    await view.post(null, "posting works");
    assert.equal(bed.fake.messages(-4242).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Chat auto-detection ignores people outside allowed_users and takes a bot addition", async () => {
  await using bed = testbed();
  const view = bed.hub.channel({ allowedUsers: [ALICE] });
  const detected = collector<number>();
  view.onChatDetected(detected.handler);
  await view.start(bed.controller.signal);
  bed.fake.pushMessage({ chatId: -1, fromId: 99, text: "I am a stranger" });
  bed.fake.pushChatMember({ chatId: -2, fromId: ALICE });
  assert.deepEqual(await detected.until(1), [-2]);
  assert.ok(bed.logs.some((l) => l.includes("event=telegram.chat_detect_refused")));
});

Deno.test("telegramChannelFor() shares one hub per token and refuses an empty token", async () => {
  await using fake = startFakeTelegram({ chats: [{ id: A }, { id: B }] });
  const hubs = new Map<string, TelegramHub>();
  const log = createLogger({ write: () => {} });
  const settings = { "bot_token": fake.token, "api_url": fake.url, "allowed_users": [] };
  const one = telegramChannelFor({ ...settings, chat_id: A }, { hubs, log });
  const two = telegramChannelFor({ ...settings, chat_id: B }, { hubs, log });
  const again = telegramChannelFor({ ...settings, chat_id: A, allowed_users: [5] }, { hubs, log });
  assert.equal(hubs.size, 1);
  assert.equal(again, one);
  assert.deepEqual(one.allowedUsers, [5], "a reload updates the allowed users");
  assert.notEqual(one, two);
  assert.ok(![...hubs.keys()].some((k) => k.includes(fake.token)));
  const controller = new AbortController();
  await one.start(controller.signal);
  await two.start(controller.signal);
  await fake.waitFor(() => fake.calls("getUpdates").length > 0);
  controller.abort();
  await closeTelegramHubs(hubs);
  assert.equal(fake.maxConcurrentPolls, 1);

  const error = (() => {
    try {
      telegramChannelFor({ bot_token: " ", chat_id: A }, { hubs, log });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof ChannelError);
  assert.match(error.message, /bot_token is empty/);
});
