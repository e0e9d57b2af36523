import assert from "node:assert/strict";
import type { ActionEvent, MessageEvent } from "../../src/channel/channel.ts";
import { ChannelError } from "../../src/channel/channel.ts";
import { collector, testbed } from "./telegram_helpers.ts";

const FORUM = -1001;
const GROUP = -2002;
const ALICE = 11;
const MALLORY = 66;
const JOB = "0b5c2f3e-8a51-4d7c-9a3e-5f6b7c8d9e0f";

Deno.test("TelegramChannel in a forum opens one topic per job and closes it", async () => {
  await using bed = testbed([{ id: FORUM, isForum: true }]);
  const channel = bed.hub.channel({ chatId: FORUM });
  const thread = await channel.createThread("Sentry: " + "x".repeat(200));
  assert.deepEqual(thread, { chatId: FORUM, threadId: 1 });
  const [topic] = bed.fake.topics(FORUM);
  assert.equal(topic!.name.length, 128);
  assert.ok(topic!.name.endsWith("…"));

  const ref = await channel.post(thread, "Result: **fixed** in `a.ts`.");
  assert.deepEqual(ref, { chatId: FORUM, messageId: 2 });
  const [message] = bed.fake.messages(FORUM, 1);
  assert.equal(message!.text, "Result: *fixed* in `a.ts`\\.");
  assert.equal(message!.parseMode, "MarkdownV2");
  assert.equal(message!.plain, "Result: fixed in a.ts.");

  await channel.typing!(thread);
  assert.deepEqual(bed.fake.calls("sendChatAction")[0], {
    chat_id: FORUM,
    action: "typing",
    message_thread_id: 1,
  });
  await channel.close!(thread!);
  assert.equal(bed.fake.topics(FORUM)[0]!.closed, true);
  await channel.close!(thread!); // already closed: not an error
  await channel.post(thread, "Closed."); // the bot administers the forum: it may still write
  assert.equal(bed.fake.calls("getChat").length, 1, "the forum check is made once");
});

Deno.test("TelegramChannel in a plain group threads a job as a reply chain", async () => {
  await using bed = testbed([{ id: GROUP, type: "group" }]);
  const channel = bed.hub.channel({ chatId: GROUP });
  const messages = collector<MessageEvent>();
  channel.onMessage(messages.handler);
  await channel.start(bed.controller.signal);

  const thread = await channel.createThread("PR #7: fix login");
  assert.deepEqual(thread, { chatId: GROUP, replyTo: 1 });
  assert.equal(bed.fake.messages(GROUP)[0]!.plain, "PR #7: fix login");
  const result = await channel.post(thread, "Done.");
  assert.equal(bed.fake.messages(GROUP)[1]!.replyTo, 1);

  // Replies to the anchor and to a later message of the chain both name the job's thread.
  bed.fake.pushMessage({ chatId: GROUP, fromId: ALICE, text: "why?", replyTo: 1 });
  bed.fake.pushMessage({
    chatId: GROUP,
    fromId: ALICE,
    text: "and again",
    replyTo: Number(result.messageId),
  });
  bed.fake.pushMessage({ chatId: GROUP, fromId: ALICE, text: "/status@pylon_test_bot" });
  const [a, b, c] = await messages.until(3);
  assert.deepEqual(a, { thread, text: "why?", userId: String(ALICE), userName: "User 11" });
  assert.deepEqual(b!.thread, thread);
  assert.deepEqual(c, { thread: undefined, text: "status", userId: "11", userName: "User 11" });
});

Deno.test("TelegramChannel approval buttons: allowed press acts, others are refused", async () => {
  await using bed = testbed([{ id: GROUP, type: "supergroup" }]);
  const channel = bed.hub.channel({ chatId: GROUP, allowedUsers: [ALICE] });
  const actions = collector<ActionEvent>();
  channel.onAction(actions.handler);
  await channel.start(bed.controller.signal);

  const thread = await channel.createThread("Approve me");
  const head = await channel.post(thread, "Error in *prod*", { approval: { jobId: JOB } });
  const sent = bed.fake.messages(GROUP).at(-1)!;
  assert.deepEqual(sent.replyMarkup, {
    inline_keyboard: [[
      { text: "Investigate", callback_data: `investigate:${JOB}` },
      { text: "Ignore", callback_data: `ignore:${JOB}` },
    ]],
  });

  const refused = bed.fake.pressButton({
    chatId: GROUP,
    fromId: MALLORY,
    messageId: sent.messageId,
  });
  await bed.fake.waitFor(() => bed.fake.callbackAnswers.some((a) => a.id === refused));
  assert.match(bed.fake.callbackAnswers[0]!.text ?? "", /may not/);
  bed.fake.pressButton({
    chatId: GROUP,
    fromId: ALICE,
    messageId: sent.messageId,
    data: `ignore:${JOB}`,
  });
  const [event] = await actions.until(1);
  assert.deepEqual(event, {
    jobId: JOB,
    action: "ignore",
    userId: String(ALICE),
    userName: "User 11",
    message: head,
    thread,
  });
  assert.equal(bed.fake.callbackAnswers.length, 2, "every press is answered");
  assert.equal(actions.events.length, 1, "the refused press made no event");

  await channel.edit(thread, head, "Error in *prod*\n\nIgnored by Alice", {
    approval: { jobId: JOB },
  });
  assert.ok(bed.fake.messages(GROUP).at(-1)!.replyMarkup, "buttons kept when asked");
  await channel.edit(thread, head, "Error in *prod*\n\nIgnored by Alice");
  const edited = bed.fake.messages(GROUP).at(-1)!;
  assert.equal(edited.replyMarkup, undefined, "buttons removed by default");
  assert.equal(edited.plain, "Error in prod\n\nIgnored by Alice");
  await channel.edit(thread, head, "Error in *prod*\n\nIgnored by Alice"); // not modified: fine
  assert.equal(edited.edits, 2);
});

Deno.test("TelegramChannel.post() resends a chunk as plain text when MarkdownV2 is refused", async () => {
  await using bed = testbed([{ id: GROUP }]);
  const channel = bed.hub.channel({ chatId: GROUP });
  bed.fake.failNext("sendMessage", {
    status: 400,
    description:
      "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
  });
  await channel.post(null, "Some *markdown*.");
  const [message] = bed.fake.messages(GROUP);
  assert.equal(message!.parseMode, undefined);
  assert.equal(message!.text, "Some *markdown*.");
  assert.ok(bed.logs.some((l) => l.includes("telegram.markdown_rejected")));

  const ref = await channel.post(null, "x");
  bed.fake.failNext("editMessageText", {
    status: 400,
    description: "Bad Request: can't parse entities: x",
  });
  await channel.edit(null, ref, "new *text*");
  assert.equal(bed.fake.messages(GROUP)[1]!.text, "new *text*");
});

Deno.test("TelegramChannel.post() splits long output and puts buttons on the last message", async () => {
  await using bed = testbed([{ id: GROUP }]);
  const channel = bed.hub.channel({ chatId: GROUP });
  const code = Array.from({ length: 500 }, (_, i) => `line ${i}: value.${i}`).join("\n");
  const ref = await channel.post(null, "Output:\n\n```text\n" + code + "\n```\n\nEnd.", {
    approval: { jobId: JOB },
  });
  const sent = bed.fake.messages(GROUP);
  assert.ok(sent.length >= 3);
  assert.ok(sent.every((m) => m.parseMode === "MarkdownV2" && m.plain.length <= 4096));
  assert.ok(sent.slice(0, -1).every((m) => m.replyMarkup === undefined));
  assert.ok(sent.at(-1)!.replyMarkup);
  assert.equal(ref.messageId, sent.at(-1)!.messageId);
  const lines = sent.flatMap((m) => m.plain.split("\n")).filter((l) => l.startsWith("line "));
  assert.equal(lines.length, 500);
});

Deno.test("TelegramChannel.edit() shortens a text longer than one message", async () => {
  await using bed = testbed([{ id: GROUP }]);
  const channel = bed.hub.channel({ chatId: GROUP });
  const ref = await channel.post(null, "short");
  await channel.edit(null, ref, "word. ".repeat(2000));
  const [edited] = bed.fake.messages(GROUP);
  assert.ok(edited!.plain.length <= 4096);
  assert.ok(edited!.plain.endsWith("\n…"));
});

Deno.test("TelegramChannel.post() waits out a 429 and posts once", async () => {
  await using bed = testbed([{ id: GROUP }]);
  const channel = bed.hub.channel({ chatId: GROUP });
  bed.fake.failNext("sendMessage", { status: 429, retryAfter: 3 });
  await channel.post(null, "hello");
  assert.deepEqual(bed.clock.slept, [3000]);
  assert.equal(bed.fake.messages(GROUP).length, 1);
});

Deno.test("TelegramChannel.post() to an empty text sends a placeholder", async () => {
  await using bed = testbed([{ id: GROUP }]);
  await bed.hub.channel({ chatId: GROUP }).post(null, "  \n");
  assert.equal(bed.fake.messages(GROUP)[0]!.plain, "(empty message)");
});

Deno.test("TelegramChannel falls back to a reply chain when topics cannot be created", async () => {
  await using bed = testbed([{ id: FORUM, isForum: true }]);
  const channel = bed.hub.channel({ chatId: FORUM });
  bed.fake.failNext("createForumTopic", {
    status: 400,
    description: "Bad Request: not enough rights to create a topic",
  });
  const thread = await channel.createThread("job");
  assert.deepEqual(thread, { chatId: FORUM, replyTo: 1 });
  assert.ok(bed.logs.some((l) => l.includes("telegram.topic_failed")));
});

Deno.test("TelegramChannel receives people's messages of its chat only", async () => {
  await using bed = testbed([{ id: FORUM, isForum: true }, { id: GROUP }]);
  const channel = bed.hub.channel({ chatId: FORUM, allowedUsers: [ALICE] });
  const messages = collector<MessageEvent>();
  channel.onMessage(messages.handler);
  await channel.start(bed.controller.signal);
  const thread = await channel.createThread("t");
  const threadId = Number(thread!.threadId);

  bed.fake.pushMessage({ chatId: GROUP, fromId: ALICE, text: "other chat" });
  bed.fake.pushMessage({ chatId: FORUM, fromId: MALLORY, text: "not allowed" });
  bed.fake.pushMessage({ chatId: FORUM, fromId: 77, text: "a bot", isBot: true });
  bed.fake.pushMessage({ chatId: FORUM, fromId: ALICE, text: "/done@other_bot", threadId });
  bed.fake.pushMessage({ chatId: FORUM, fromId: ALICE, text: "/done@Pylon_Test_Bot", threadId });
  bed.fake.pushMessage({ chatId: FORUM, fromId: ALICE, text: "/tmp/x is missing", threadId });
  bed.fake.pushMessage({ chatId: FORUM, fromId: ALICE, text: "hi", username: "alice" });
  const events = await messages.until(3);
  await bed.fake.waitFor(() => bed.fake.pendingUpdates() === 0);
  assert.deepEqual(events.map((e) => [e.text, e.thread]), [
    ["done", { chatId: FORUM, threadId }],
    ["/tmp/x is missing", { chatId: FORUM, threadId }],
    ["hi", undefined],
  ]);
  assert.equal(events[2]!.userName, "@alice");
});

Deno.test("TelegramChannel refuses to post before its chat is known", async () => {
  await using bed = testbed();
  const channel = bed.hub.channel({});
  const error = await channel.post(null, "x").catch((e: unknown) => e);
  assert.ok(error instanceof ChannelError);
  assert.equal(error.message, "Cannot post to Telegram: the chat is not known yet");
  assert.equal(error.retryable, false);
});

Deno.test("TelegramChannel handlers are replaced, so listening again after a reload is safe", async () => {
  await using bed = testbed([{ id: GROUP }]);
  const channel = bed.hub.channel({ chatId: GROUP });
  const old = collector<MessageEvent>();
  const current = collector<MessageEvent>();
  channel.onMessage(old.handler);
  await channel.start(bed.controller.signal);
  const again = bed.hub.channel({ chatId: GROUP, allowedUsers: [] });
  assert.equal(again, channel);
  again.onMessage(current.handler);
  await again.start(bed.controller.signal);
  bed.fake.pushMessage({ chatId: GROUP, fromId: ALICE, text: "once" });
  await current.until(1);
  await bed.fake.waitFor(() => bed.fake.pendingUpdates() === 0);
  assert.equal(old.events.length, 0);
  assert.equal(current.events.length, 1);
  assert.equal(bed.fake.maxConcurrentPolls, 1);
});
