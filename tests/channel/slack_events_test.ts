import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  mrkdwnToPlain,
  normaliseText,
  slackAppManifest,
  slackAppManifestYaml,
} from "../../src/channel/slack/mod.ts";
import { parseBlockActions, parseMessageEvent } from "../../src/channel/slack/events.ts";

Deno.test("normaliseText() turns every spelling of a command into its name", () => {
  for (
    const text of [
      "done",
      "/done",
      " DONE ",
      "@pylon done",
      "<@U0BOT> done",
      "<@U0BOT|pylon>: /done",
    ]
  ) {
    assert.equal(normaliseText(text), "done", text);
  }
  assert.equal(normaliseText("/status"), "status");
  assert.equal(
    normaliseText("done with this, now fix the tests"),
    "done with this, now fix the tests",
  );
  assert.equal(normaliseText("<@U0BOT> fix it"), "@U0BOT fix it");
});

Deno.test("mrkdwnToPlain() reads Slack markup back", () => {
  assert.equal(mrkdwnToPlain("a &lt;b&gt; &amp;amp;"), "a <b> &amp;");
  assert.equal(
    mrkdwnToPlain("<https://x.dev|docs> <https://y.dev>"),
    "docs (https://x.dev) https://y.dev",
  );
  assert.equal(mrkdwnToPlain("<mailto:a@b.dev|a@b.dev>"), "a@b.dev");
  assert.equal(mrkdwnToPlain("<@U1> <#C1|general> <!here>"), "@U1 #general @here");
});

Deno.test("parseMessageEvent() keeps people's messages and drops bots, edits and joins", () => {
  const base = { type: "message", channel: "C1", user: "U1", text: "hi", ts: "2.0" };
  assert.deepEqual(parseMessageEvent({ ...base, "thread_ts": "1.0" }), {
    channelId: "C1",
    userId: "U1",
    text: "hi",
    thread: { channel: "C1", ts: "1.0" },
  });
  assert.equal(parseMessageEvent(base)?.thread, undefined);
  assert.equal(parseMessageEvent({ ...base, "bot_id": "B1" }), null);
  assert.equal(parseMessageEvent({ ...base, subtype: "channel_join" }), null);
  assert.equal(parseMessageEvent({ ...base, subtype: "message_changed", hidden: true }), null);
  assert.equal(parseMessageEvent({ ...base, text: "" }), null);
  assert.ok(parseMessageEvent({ ...base, subtype: "thread_broadcast", "thread_ts": "1.0" }));
});

Deno.test("parseBlockActions() reads the job and action from action_id", () => {
  const payload = {
    type: "block_actions",
    user: { id: "U1" },
    channel: { id: "C1" },
    container: { type: "message", "message_ts": "5.0", "channel_id": "C1" },
    message: { ts: "5.0", "thread_ts": "1.0" },
    actions: [{ "action_id": "investigate:abc:def" }, { "action_id": "other:x" }],
  };
  assert.deepEqual(parseBlockActions(payload), [{
    channelId: "C1",
    userId: "U1",
    action: "investigate",
    jobId: "abc:def",
    message: { channel: "C1", ts: "5.0" },
    thread: { channel: "C1", ts: "1.0" },
  }]);
  assert.deepEqual(parseBlockActions({ ...payload, type: "view_submission" }), []);
});

Deno.test("slackAppManifest() asks for the scopes, events and features pylon uses", () => {
  const manifest = parse(slackAppManifestYaml());
  assert.deepEqual(manifest.oauth_config.scopes.bot, [
    "chat:write",
    "channels:history",
    "channels:read",
    "groups:history",
    "groups:read",
    "reactions:write",
  ]);
  assert.deepEqual(manifest.settings.event_subscriptions.bot_events, [
    "message.channels",
    "message.groups",
  ]);
  assert.equal(manifest.settings.interactivity.is_enabled, true);
  assert.equal(manifest.settings.socket_mode_enabled, true);
  assert.equal(manifest.features.bot_user.display_name, "Pylon");
  assert.deepEqual(manifest, slackAppManifest());
});
