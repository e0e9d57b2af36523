import assert from "node:assert/strict";
import { startFakeSlack } from "../fakes/slack_server.ts";

Deno.test("fake Slack speaks the Web API with JSON and form bodies and checks tokens", async () => {
  const fake = startFakeSlack();
  try {
    const call = async (method: string, token: string | undefined, body: string, type: string) => {
      const headers: Record<string, string> = { "content-type": type };
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await fetch(`${fake.apiUrl}/${method}`, { method: "POST", headers, body });
      return await res.json();
    };
    const json = "application/json; charset=utf-8";
    const form = "application/x-www-form-urlencoded";
    const posted = await call(
      "chat.postMessage",
      fake.botToken,
      JSON.stringify({ channel: "C1", text: "hi" }),
      json,
    );
    assert.equal(posted.ok, true);
    assert.equal(fake.message(posted.ts)?.text, "hi");
    assert.deepEqual(await call("auth.test", undefined, "", form), {
      ok: false,
      error: "not_authed",
    });
    assert.equal(
      (await call("apps.connections.open", fake.botToken, "", form)).error,
      "not_allowed_token_type",
    );
    assert.equal(
      (await call("chat.postMessage", "xoxb-other", "channel=C1&text=x", form)).error,
      "invalid_auth",
    );
    const blocks = JSON.stringify([{
      type: "section",
      text: { type: "mrkdwn", text: "x".repeat(3001) },
    }]);
    const tooLong = await call(
      "chat.postMessage",
      fake.botToken,
      new URLSearchParams({ channel: "C1", text: "x", blocks }).toString(),
      form,
    );
    assert.equal(tooLong.error, "invalid_blocks");
    const open = await call("apps.connections.open", fake.appToken, "", form);
    assert.match(open.url, /^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);
  } finally {
    await fake.close();
  }
});

Deno.test("fake Slack redelivers an envelope that is not acked", async () => {
  const fake = startFakeSlack({ ackTimeoutMs: 50, echoBotMessages: false });
  const res = await fetch(`${fake.apiUrl}/apps.connections.open`, {
    method: "POST",
    headers: { authorization: `Bearer ${fake.appToken}` },
  });
  const { url } = await res.json();
  const socket = new WebSocket(url);
  const received: Record<string, unknown>[] = [];
  const closed = new Promise((resolve) => socket.onclose = resolve);
  socket.onmessage = (e) => received.push(JSON.parse(e.data));
  try {
    await new Promise((resolve) => socket.onopen = resolve);
    const id = fake.postUserMessage({ userId: "U1", channelId: "C1", text: "hello" });
    const deadline = Date.now() + 3000;
    while (received.filter((m) => m.envelope_id === id).length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(received[0]!.type, "hello");
    const copies = received.filter((m) => m.envelope_id === id);
    assert.equal(copies.length, 2);
    assert.equal(copies[1]!.retry_attempt, 1);
    socket.send(JSON.stringify({ envelope_id: id }));
    while (!fake.acks.includes(id) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(fake.acks, [id]);
  } finally {
    socket.close();
    await closed;
    await fake.close();
  }
});
