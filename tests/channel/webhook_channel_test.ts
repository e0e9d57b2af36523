import assert from "node:assert/strict";
import { WebhookChannel } from "../../src/channel/webhook.ts";
import { openJobStore } from "../../src/store/mod.ts";

Deno.test("WebhookChannel sends job.held for a job held over budget, with the reason", async () => {
  const sent: { event: string; job: { status: string; error: string | null } }[] = [];
  const channel = new WebhookChannel({
    settings: { url: "http://127.0.0.1:1/hook", headers: {} },
    fetch: (_input, init) => {
      sent.push(JSON.parse(String(init?.body)));
      return Promise.resolve(new Response("ok"));
    },
  });
  await using store = await openJobStore(":memory:", { pylon: "alerts" });
  const { job } = await store.insert({
    id: crypto.randomUUID(),
    pylon: "alerts",
    status: "queued",
    trigger: "webhook",
    payload: {},
    headers: {},
  });
  const held = await store.transition(job.id, "queued", "held", {
    error: "daily budget of $20.00 reached",
  });
  assert.ok(held);
  await channel.report({ job: held, topic: null, message: null });
  assert.equal(sent[0]?.event, "job.held");
  assert.equal(sent[0]?.job.status, "held");
  assert.match(String(sent[0]?.job.error), /daily budget/);
});
