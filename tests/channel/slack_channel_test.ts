import assert from "node:assert/strict";
import { type ActionEvent, ChannelError, type MessageEvent } from "../../src/channel/channel.ts";
import { waitFor } from "../fakes/slack_server.ts";
import { ADA, CHANNEL, EVE, slackSetup } from "./slack_harness.ts";

Deno.test("SlackChannel.createThread() posts a top-level message and returns its ts", async () => {
  await using s = slackSetup();
  const channel = s.channel();
  const thread = await channel.createThread("Sentry: **TypeError** in <checkout>");
  const posted = s.fake.callsOf("chat.postMessage")[0]!;
  assert.equal(posted.token, s.fake.botToken);
  assert.equal(posted.params.channel, CHANNEL);
  assert.equal(posted.params.thread_ts, undefined);
  assert.equal(posted.params.text, "Sentry: *TypeError* in &lt;checkout&gt;");
  assert.deepEqual(thread, { channel: CHANNEL, ts: s.fake.messages[0]!.ts });
});

Deno.test("SlackChannel.post() posts converted text into the thread, split to fit", async () => {
  await using s = slackSetup();
  const channel = s.channel();
  const thread = await channel.createThread("job");
  const short = await channel.post(thread, "Done: `a < b` & [link](https://x.dev)");
  const reply = s.fake.message(String(short.ts))!;
  assert.equal(reply.threadTs, thread.ts);
  assert.equal(reply.text, "Done: `a &lt; b` &amp; <https://x.dev|link>");
  assert.equal(s.fake.callsOf("chat.postMessage")[1]!.params.unfurl_links, "false");

  const long = Array.from({ length: 12 }, (_, i) => `Paragraph ${i} ${"x".repeat(600)}`).join(
    "\n\n",
  );
  const last = await channel.post(thread, long);
  const parts = s.fake.messages.slice(2);
  assert.ok(parts.length >= 3);
  assert.ok(parts.every((m) => m.threadTs === thread.ts && m.text.length <= 3000));
  assert.deepEqual(last, { channel: CHANNEL, ts: parts.at(-1)!.ts });
});

Deno.test("SlackChannel.post() without a thread posts to the channel", async () => {
  await using s = slackSetup();
  const ref = await s.channel().post(null, "hello");
  assert.equal(s.fake.message(String(ref.ts))!.threadTs, undefined);
});

Deno.test("approval buttons: a click by an allowed user becomes an ActionEvent", async () => {
  await using s = slackSetup();
  const channel = s.channel();
  const events: ActionEvent[] = [];
  channel.onAction((e) => void events.push(e));
  await channel.start(s.controller.signal);
  const thread = await channel.createThread("job");
  const ref = await channel.post(thread, "Approve *job 1*?", { approval: { jobId: "job-1" } });
  const message = s.fake.message(String(ref.ts))!;
  assert.deepEqual(message.blocks?.[0], {
    type: "section",
    text: { type: "mrkdwn", text: "Approve _job 1_?" },
  });
  const actions = message.blocks?.[1] as { elements: Record<string, unknown>[] };
  assert.deepEqual(
    actions.elements.map((e) => [e.action_id, e.style]),
    [["investigate:job-1", "primary"], ["ignore:job-1", "danger"]],
  );

  const envelope = s.fake.clickButton({
    userId: ADA,
    channelId: CHANNEL,
    messageTs: String(ref.ts),
    actionId: "investigate:job-1",
  });
  await waitFor(() => events.length === 1, "the action");
  assert.deepEqual(events[0], {
    jobId: "job-1",
    action: "investigate",
    userId: ADA,
    userName: `<@${ADA}>`,
    message: ref,
    thread,
  });
  assert.ok(s.fake.acks.includes(envelope));
});

Deno.test("approval buttons: a click by someone not in allowed_users is acked and ignored", async () => {
  await using s = slackSetup();
  const channel = s.channel();
  const events: ActionEvent[] = [];
  channel.onAction((e) => void events.push(e));
  await channel.start(s.controller.signal);
  const ref = await channel.post(null, "Approve?", { approval: { jobId: "job-2" } });
  const envelope = s.fake.clickButton({
    userId: EVE,
    channelId: CHANNEL,
    messageTs: String(ref.ts),
    actionId: "ignore:job-2",
  });
  await waitFor(() => s.fake.acks.includes(envelope), "the ack");
  await waitFor(() => s.lines.some((l) => l.includes("slack.action.denied")), "the denial log");
  assert.equal(events.length, 0);
});

Deno.test("SlackChannel.edit() replaces the buttons with the outcome", async () => {
  await using s = slackSetup();
  const channel = s.channel();
  const thread = await channel.createThread("job");
  const ref = await channel.post(thread, "Approve?", { approval: { jobId: "job-3" } });
  await channel.edit(thread, ref, "Approve?\n\n✅ Approved by <@U0ADA>", {
    approval: { jobId: "job-3" },
  });
  assert.equal(s.fake.message(String(ref.ts))!.blocks?.length, 2);
  await channel.edit(thread, ref, "Approve?\n\n✅ Approved by <@U0ADA>");
  const edited = s.fake.message(String(ref.ts))!;
  assert.equal(edited.edits, 2);
  assert.equal(edited.text, "Approve?\n\n✅ Approved by <@U0ADA>");
  assert.deepEqual(edited.blocks, [{
    type: "section",
    text: { type: "mrkdwn", text: edited.text },
  }]);
});

Deno.test("SlackChannel.edit() of a text too long for one message keeps its end", async () => {
  await using s = slackSetup();
  const channel = s.channel();
  const ref = await channel.post(null, "short");
  await channel.edit(null, ref, `${"word ".repeat(1000)}\n\nOUTCOME`);
  const text = s.fake.message(String(ref.ts))!.text;
  assert.ok(text.length <= 3000 && text.startsWith("…\n") && text.endsWith("OUTCOME"));
});

Deno.test("a threaded reply becomes a MessageEvent; commands are normalised", async () => {
  await using s = slackSetup();
  const channel = s.channel();
  const events: MessageEvent[] = [];
  channel.onMessage((e) => void events.push(e));
  await channel.start(s.controller.signal);
  const thread = await channel.createThread("job"); // echoed back as a bot message: dropped
  s.fake.postUserMessage({
    userId: EVE,
    channelId: CHANNEL,
    text: "not allowed",
    threadTs: thread.ts as string,
  });
  s.fake.postUserMessage({
    userId: ADA,
    channelId: CHANNEL,
    text: "why &lt;this&gt;?",
    threadTs: thread.ts as string,
  });
  s.fake.postUserMessage({
    userId: ADA,
    channelId: CHANNEL,
    text: "<@U0PYLONBOT> /done",
    threadTs: thread.ts as string,
  });
  s.fake.postUserMessage({ userId: ADA, channelId: CHANNEL, text: "status" });
  s.fake.postUserMessage({ userId: ADA, channelId: "C0OTHER", text: "elsewhere" });
  await waitFor(() => events.length === 3, "three messages");
  await waitFor(() => s.fake.acks.length === s.fake.sent.length, "all acks");
  assert.deepEqual(events, [
    { thread, text: "why <this>?", userId: ADA },
    { thread, text: "done", userId: ADA },
    { thread: undefined, text: "status", userId: ADA },
  ]);
});

Deno.test("SlackChannel.close() adds a check mark once; a second close is fine", async () => {
  await using s = slackSetup();
  const channel = s.channel();
  const thread = await channel.createThread("job");
  await channel.close(thread);
  await channel.close(thread);
  assert.deepEqual(s.fake.message(thread.ts as string)!.reactions, ["white_check_mark"]);
  await channel.typing(thread);
});

Deno.test("a 429 is retried after Retry-After", async () => {
  await using s = slackSetup();
  s.fake.failNext("chat.postMessage", { status: 429, retryAfter: 2 });
  const ref = await s.channel().post(null, "after the limit");
  assert.equal(s.fake.callsOf("chat.postMessage").length, 2);
  assert.deepEqual(s.clock.waits, [2000]);
  assert.equal(s.fake.message(String(ref.ts))!.text, "after the limit");
  assert.ok(s.lines.some((l) => l.includes("slack.api.rate_limited")));
});

Deno.test("a 429 asking for too long a wait fails as retryable with retryAfter", async () => {
  await using s = slackSetup();
  s.fake.failNext("chat.postMessage", { status: 429, retryAfter: 600 });
  const error = await s.channel().post(null, "x").catch((e) => e);
  assert.ok(error instanceof ChannelError);
  assert.equal(error.retryable, true);
  assert.equal(error.retryAfter, 600);
  assert.equal(error.status, 429);
  assert.deepEqual(s.clock.waits, []);
});

Deno.test("Slack errors become ChannelErrors that never contain a token", async () => {
  await using s = slackSetup();
  const error = await s.channel("nope").post(null, "x").catch((e) => e);
  assert.ok(error instanceof ChannelError);
  assert.equal(error.retryable, false);
  assert.equal(error.method, "chat.postMessage");
  assert.match(error.message, /^Cannot call Slack chat\.postMessage: channel_not_found \(check/);

  s.fake.failNext("chat.postMessage", { status: 503 });
  const unavailable = await s.channel().post(null, "x").catch((e) => e);
  assert.equal(unavailable.retryable, true);

  const thread = await s.channel().createThread("t");
  s.fake.failNext("reactions.add", { error: `invalid_auth ${s.fake.botToken}` });
  const bad = await s.channel().close(thread).catch((e) => e);
  assert.ok(bad instanceof ChannelError);
  for (const e of [error, unavailable, bad]) {
    assert.ok(!e.message.includes(s.fake.botToken) && !e.message.includes("xoxb-"), e.message);
  }
});

Deno.test("a network failure is a retryable ChannelError without the token", async () => {
  await using s = slackSetup();
  const channel = s.channel();
  await s.fake.close();
  const error = await channel.post(null, "x").catch((e) => e);
  assert.ok(error instanceof ChannelError);
  assert.equal(error.retryable, true);
  assert.ok(!error.message.includes(s.fake.botToken));
});

Deno.test("a long approval message is split and the buttons go on its last part", async () => {
  await using s = slackSetup();
  const text = Array.from({ length: 8 }, (_, i) => `Part ${i} ${"y".repeat(700)}`).join("\n\n");
  const ref = await s.channel().post(null, text, { approval: { jobId: "job-9" } });
  const posted = s.fake.messages;
  assert.ok(posted.length >= 2);
  assert.ok(posted.slice(0, -1).every((m) => m.blocks === undefined));
  assert.equal(posted.at(-1)!.ts, ref.ts);
  assert.equal(posted.at(-1)!.blocks?.length, 2);
});
