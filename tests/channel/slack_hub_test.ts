import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type ActionEvent, ChannelError, type MessageEvent } from "../../src/channel/channel.ts";
import { PylonError } from "../../src/errors.ts";
import { createLogger } from "../../src/log/mod.ts";
import { createSlackHub, slackChannelFor, type SlackHub } from "../../src/channel/slack/mod.ts";
import { waitFor } from "../fakes/slack_server.ts";
import { ADA, CHANNEL, fastClock, slackSetup } from "./slack_harness.ts";

Deno.test("two channel views on one app token share one socket and get their own events", async () => {
  await using s = slackSetup();
  const one = s.channel(CHANNEL, []);
  const two = s.channel("C0SECOND", []);
  assert.equal(s.hubs.size, 1);
  const id = createHash("sha256").update(s.fake.appToken).digest("hex").slice(0, 12);
  assert.equal(one.key, `slack:${id}:${CHANNEL}`);
  assert.equal(two.key, `slack:${id}:C0SECOND`);
  const seen: string[] = [];
  one.onMessage((e) => void seen.push(`one:${e.text}`));
  two.onMessage((e) => void seen.push(`two:${e.text}`));
  two.onAction((e) => void seen.push(`two:${e.action}`));
  await Promise.all([one.start(s.controller.signal), two.start(s.controller.signal)]);
  assert.equal(s.fake.callsOf("apps.connections.open").length, 1);
  assert.equal(s.fake.openSockets, 1);

  const ref = await two.post(null, "approve?", { approval: { jobId: "j" } });
  s.fake.postUserMessage({ userId: ADA, channelId: CHANNEL, text: "for one" });
  s.fake.clickButton({
    userId: ADA,
    channelId: "C0SECOND",
    messageTs: String(ref.ts),
    actionId: "ignore:j",
  });
  await waitFor(() => seen.length === 2, "both events");
  assert.deepEqual(seen.sort(), ["one:for one", "two:ignore"]);
});

Deno.test("SlackHub.channel() returns the same view for a channel id and updates its settings", async () => {
  await using s = slackSetup();
  const first = s.channel(CHANNEL, ["U0NOBODY"]);
  const events: MessageEvent[] = [];
  first.onMessage((e) => void events.push(e));
  const second = s.channel(CHANNEL, [ADA]);
  assert.equal(first, second);
  await second.start(s.controller.signal);
  s.fake.postUserMessage({ userId: ADA, channelId: CHANNEL, text: "hi" });
  await waitFor(() => events.length === 1, "the message under the new allowed_users");
});

Deno.test("every envelope is acked, bot echoes included", async () => {
  await using s = slackSetup();
  const channel = s.channel();
  await channel.start(s.controller.signal);
  const thread = await channel.createThread("job");
  await channel.post(thread, "reply");
  s.fake.postUserMessage({
    userId: ADA,
    channelId: CHANNEL,
    text: "hey",
    threadTs: thread.ts as string,
  });
  await waitFor(() => s.fake.sent.length === 3 && s.fake.acks.length === 3, "three acks");
  assert.deepEqual(s.fake.acks.sort(), s.fake.sent.map((e) => e.envelope_id).sort());
});

Deno.test("the hub reconnects after the socket is dropped and keeps delivering", async () => {
  await using s = slackSetup();
  const channel = s.channel();
  const events: ActionEvent[] = [];
  channel.onAction((e) => void events.push(e));
  await channel.start(s.controller.signal);
  const ref = await channel.post(null, "approve?", { approval: { jobId: "j" } });
  const hub = [...s.hubs.values()][0]!;
  assert.equal(hub.connected, true);

  s.fake.disconnect();
  await waitFor(() => s.fake.connections === 2 && s.fake.openSockets === 1, "a second socket");
  assert.ok(s.lines.some((l) => l.includes("slack.socket.closed")));
  assert.ok(s.clock.waits.length >= 1); // backoff after an unexpected drop
  s.fake.clickButton({
    userId: ADA,
    channelId: CHANNEL,
    messageTs: String(ref.ts),
    actionId: "investigate:j",
  });
  await waitFor(() => events.length === 1, "the click after reconnecting");

  const waits = s.clock.waits.length;
  s.fake.disconnect({ graceful: true });
  await waitFor(() => s.fake.connections === 3 && s.fake.openSockets === 1, "a third socket");
  assert.equal(s.clock.waits.length, waits); // asked to reconnect: no backoff
  assert.equal(s.fake.callsOf("apps.connections.open").length, 3);
});

Deno.test("an envelope Slack redelivers is handled once", async () => {
  await using s = slackSetup({ ackTimeoutMs: 100 });
  let dropped = false;
  /** Loses the first ack, so the fake sends the envelope again. */
  class LossySocket extends WebSocket {
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (!dropped && String(data).includes("envelope_id")) {
        dropped = true;
        return;
      }
      super.send(data);
    }
  }
  const hub = createSlackHub({
    appToken: s.fake.appToken,
    apiUrl: s.fake.apiUrl,
    WebSocket: LossySocket,
    log: s.log,
    clock: s.clock,
  });
  s.hubs.set("lossy", hub);
  const channel = hub.channel({ botToken: s.fake.botToken, channelId: CHANNEL, allowedUsers: [] });
  const events: MessageEvent[] = [];
  channel.onMessage((e) => void events.push(e));
  await channel.start(s.controller.signal);
  const id = s.fake.postUserMessage({ userId: ADA, channelId: CHANNEL, text: "once" });
  await waitFor(() => s.fake.acks.includes(id), "the ack of the redelivery");
  assert.equal(s.fake.sent.filter((e) => e.envelope_id === id).length, 2);
  assert.equal(s.fake.sent.at(-1)!.retry_attempt, 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(events.length, 1);
});

Deno.test("the socket closes when every start signal has aborted", async () => {
  await using s = slackSetup();
  const a = new AbortController();
  const b = new AbortController();
  const channel = s.channel();
  await channel.start(a.signal);
  await s.channel("C0SECOND").start(b.signal);
  a.abort();
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(s.fake.openSockets, 1);
  b.abort();
  const hub = [...s.hubs.values()][0]!;
  await hub.stopped();
  await waitFor(() => s.fake.openSockets === 0, "the socket to close");
  assert.equal(hub.connected, false);

  // Starting again after a full stop reconnects.
  const again = new AbortController();
  await channel.start(again.signal);
  assert.equal(s.fake.connections, 2);
  again.abort();

  // Starting while the previous socket is still closing waits for it, then reconnects.
  const quick = new AbortController();
  await channel.start(quick.signal);
  await waitFor(() => s.fake.connections === 3 && s.fake.openSockets === 1, "a third socket");
  assert.equal(hub.connected, true);
  quick.abort();
  await hub.stopped();
});

Deno.test("start() keeps retrying when Slack is unavailable, then connects", async () => {
  await using s = slackSetup();
  s.fake.failNext("apps.connections.open", { status: 500 });
  s.fake.failNext("apps.connections.open", { error: "internal_error" });
  const channel = s.channel();
  await channel.start(s.controller.signal);
  await waitFor(() => s.fake.openSockets === 1, "the socket");
  assert.equal(s.fake.callsOf("apps.connections.open").length, 3);
  assert.deepEqual(s.clock.waits.slice(0, 2), [750, 1500]);
});

Deno.test("start() rejects a refused app token without showing it", async () => {
  await using s = slackSetup();
  const hub = createSlackHub({
    appToken: "xapp-1-A0FAKE-wrong-token",
    apiUrl: s.fake.apiUrl,
    log: s.log,
    clock: s.clock,
  });
  s.hubs.set("wrong", hub);
  const channel = hub.channel({ botToken: s.fake.botToken, channelId: CHANNEL, allowedUsers: [] });
  const error = await channel.start(s.controller.signal).catch((e) => e);
  assert.ok(error instanceof ChannelError);
  assert.equal(error.retryable, false);
  assert.match(error.message, /invalid_auth/);
  assert.ok(!error.message.includes("wrong-token"));
  assert.ok(!s.lines.some((l) => l.includes("wrong-token")));
  await hub.stopped();

  const botAsApp = createSlackHub({ appToken: s.fake.botToken, apiUrl: s.fake.apiUrl, log: s.log });
  const refused = await botAsApp.start(s.controller.signal).catch((e) => e);
  assert.match(refused.message, /not_allowed_token_type/);
  await botAsApp.stopped();
});

Deno.test("slackChannelFor() checks the settings without echoing tokens", () => {
  const hubs = new Map<string, SlackHub>();
  const log = createLogger({ write: () => {} });
  const base = {
    "bot_token": "xoxb-secret-1",
    "app_token": "xapp-secret-2",
    "channel_id": CHANNEL,
    "allowed_users": [],
    "api_url": "http://127.0.0.1:1/api",
  };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ "bot_token": undefined }, /bot_token is not set/],
    [{ "bot_token": "xapp-secret-3" }, /bot_token does not start with xoxb-/],
    [{ "app_token": "xoxb-secret-4" }, /app_token does not start with xapp-/],
    [{ "channel_id": " " }, /channel_id is not set/],
  ];
  for (const [patch, message] of cases) {
    const error = (() => {
      try {
        slackChannelFor({ ...base, ...patch } as typeof base, { hubs, log, clock: fastClock() });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof PylonError);
    assert.match(error.message, message);
    assert.ok(!error.message.includes("secret") && !String(error.hint).includes("secret"));
  }
  const a = slackChannelFor(base, { hubs, log });
  const b = slackChannelFor({ ...base, "channel_id": "C0B" }, { hubs, log });
  const c = slackChannelFor({ ...base, "app_token": "xapp-other" }, { hubs, log });
  assert.equal(hubs.size, 2);
  assert.notEqual(a.key, b.key);
  assert.ok(!a.key.includes("secret") && !c.key.includes("other"));
});
