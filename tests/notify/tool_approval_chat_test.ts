/**
 * The chat side of tool approvals: the real notifier, the real Telegram and Slack channels
 * against their wire-level fakes, the real webhook channel against a loopback receiver, and a
 * small in-test {@linkcode ToolApprovals} (the daemon's service is tested on its own). A waiting
 * call is posted in the job's thread with Allow / Deny / Allow for this job; a press decides
 * with who and where; the message is then edited and loses its buttons; presses from outside
 * `allowed_users`, or with no `allowed_users` at all, are refused with an answer.
 */

import assert from "node:assert/strict";
import type { Destination } from "../../src/channel/channel.ts";
import {
  createPylonPaths,
  globalConfigSchema,
  pylonConfigSchema,
  resolvePylon,
} from "../../src/config/mod.ts";
import type { ActivePylon } from "../../src/daemon/pylon_table.ts";
import { createLogger } from "../../src/log/mod.ts";
import { builtinChannels, ChannelSet, Notifier } from "../../src/notify/mod.ts";
import { Dispatcher } from "../../src/queue/mod.ts";
import { createStoreRegistry, type StoreRegistry } from "../../src/store/mod.ts";
import type {
  DecisionSource,
  ToolApprovalListener,
  ToolApprovals,
  ToolCallDecided,
  ToolCallRequest,
  ToolDecision,
} from "../../src/tools/types.ts";
import { createScriptedRunner } from "../fakes/runner_fake.ts";
import { startFakeSlack, waitFor } from "../fakes/slack_server.ts";
import { startFakeTelegram } from "../fakes/telegram_server.ts";
import { eventually } from "../_helpers/daemon.ts";

const CHAT = -100888;
const ADA = 111;
const EVE = 222;

/** The tool-approval service as the notifier sees it, deciding in memory. */
class FakeApprovals implements ToolApprovals {
  readonly calls: {
    jobId: string;
    callId: string;
    decision: ToolDecision;
    source: DecisionSource;
  }[] = [];
  readonly #requests: ToolCallRequest[] = [];
  readonly #decided = new Map<string, ToolCallDecided>();
  #listener: ToolApprovalListener | undefined;

  listen(listener: ToolApprovalListener): void {
    this.#listener = listener;
  }

  request(r: ToolCallRequest): void {
    this.#requests.push(r);
    this.#listener?.requested(r);
  }

  /** `approve_timeout` ran out. */
  expire(callId: string): void {
    const request = this.#requests.find((r) => r.callId === callId)!;
    const d = {
      request,
      decision: "deny" as const,
      source: { by: "pylon", via: "timeout" as const },
      decidedAt: new Date(),
    };
    this.#decided.set(callId, d);
    this.#listener?.decided(d);
  }

  pending(jobId?: string): ToolCallRequest[] {
    return this.#requests.filter((r) =>
      !this.#decided.has(r.callId) && (jobId === undefined || r.jobId === jobId)
    );
  }

  decide(jobId: string, callId: string, decision: ToolDecision, source: DecisionSource) {
    this.calls.push({ jobId, callId, decision, source });
    const request = this.#requests.find((r) => r.jobId === jobId && r.callId === callId);
    if (!request) {
      return Promise.resolve({
        ok: false as const,
        code: "not_found" as const,
        reason: "no such call",
      });
    }
    const before = this.#decided.get(callId);
    if (before) {
      return Promise.resolve({
        ok: false as const,
        code: "already_decided" as const,
        reason: "decided already",
        decided: before,
      });
    }
    const reason = `${decision === "deny" ? "denied" : "allowed"} by ${source.by}`;
    const decided = { request, decision, source, decidedAt: new Date(), reason };
    this.#decided.set(callId, decided);
    this.#listener?.decided(decided);
    return Promise.resolve({ ok: true as const, decided });
  }
}

interface World extends AsyncDisposable {
  notifier: Notifier;
  approvals: FakeApprovals;
  stores: StoreRegistry;
  jobId: string;
  request(callId: string, extra?: Partial<ToolCallRequest>): ToolCallRequest;
}

/** A notifier for one pylon whose `channel` section is given, with one running job. */
async function world(channel: Record<string, unknown>): Promise<World> {
  const root = await Deno.makeTempDir({ prefix: "pylon-tools-chat-" });
  const paths = createPylonPaths(root);
  const config = pylonConfigSchema.parse({
    name: "deploy",
    trigger: { type: "webhook", path: "/deploy" },
    channel,
    agent: { prompt: "ship it" },
  });
  const global = globalConfigSchema.parse({
    server: { "public_url": "https://pylon.example.com" },
  });
  const resolved = resolvePylon(config, global, { env: {}, systemTimezone: "UTC" });
  const pylon: ActivePylon = {
    name: "deploy",
    loaded: { name: "deploy", config, env: {} },
    resolved,
    verifier: undefined,
  };
  const log = createLogger({ write: () => {} });
  const clock = { now: () => new Date() };
  const stores = createStoreRegistry(paths, { clock });
  const store = await stores.open("deploy");
  const dispatcher = new Dispatcher({
    stores,
    runner: createScriptedRunner(),
    pylonOf: () => resolved,
    maxConcurrent: () => 1,
    log,
    clock,
  });
  const kit = builtinChannels(paths);
  const stop = new AbortController();
  const approvals = new FakeApprovals();
  // deno-lint-ignore prefer-const -- the channel set calls back into the notifier
  let notifier: Notifier;
  const channels = new ChannelSet({
    write: () => {},
    log,
    factories: kit.factories,
    onNew: (c) => {
      notifier.listen(c);
      void c.start(stop.signal);
    },
  });
  notifier = new Notifier({
    stores,
    dispatcher,
    pylonOf: (name) => name === "deploy" ? pylon : undefined,
    channelsFor: (p): Destination[] =>
      channels.for(p.resolved.channel, { pylon: p.name, ownSettings: true }),
    jobsDir: paths.jobsDir,
    log,
    clock,
    publicUrl: () => global.server.public_url,
    toolApprovals: approvals,
  });
  approvals.listen(notifier);
  const { job: queued } = await store.insert({
    id: crypto.randomUUID(),
    pylon: "deploy",
    status: "queued",
    trigger: "webhook",
    payload: {},
    headers: {},
  });
  const job = (await store.transition(queued.id, "queued", "running"))!;
  return {
    notifier,
    approvals,
    stores,
    jobId: job.id,
    request: (callId, extra = {}) => ({
      jobId: job.id,
      pylon: "deploy",
      callId,
      tool: "Bash",
      input: { command: "git push origin main" },
      digest: "0".repeat(64),
      summary: "```\ngit push origin main\n```",
      rule: "Bash(git push:*)",
      requestedAt: new Date(),
      expiresAt: new Date(Date.now() + 600_000),
      ...extra,
    }),
    async [Symbol.asyncDispose]() {
      await notifier.stop();
      stop.abort();
      await kit.close();
      await stores.closeAll();
      await Deno.remove(root, { recursive: true });
    },
  };
}

type Keyboard = { "inline_keyboard"?: { text: string; "callback_data": string }[][] };
const buttonsOf = (m: { replyMarkup: unknown }) =>
  (m.replyMarkup as Keyboard | undefined)?.inline_keyboard?.flat() ?? [];

Deno.test("Telegram: a tool call waits with three buttons; Deny decides it and edits the message", async () => {
  await using tg = startFakeTelegram({ token: "9:tools", chats: [{ id: CHAT, type: "group" }] });
  await using w = await world({
    type: "telegram",
    telegram: {
      "bot_token": "9:tools",
      "chat_id": CHAT,
      "allowed_users": [ADA],
      "api_url": tg.url,
    },
  });
  const job = (await w.stores.findJob(w.jobId))!;
  w.notifier.changed(job); // the thread and "started", as when the job began
  await tg.waitFor(() => tg.messages(CHAT).some((m) => m.plain.includes("Agent started")));
  w.approvals.request(w.request("c1a2"));
  await tg.waitFor(() => tg.messages(CHAT).some((m) => buttonsOf(m).length === 3));
  const message = tg.messages(CHAT).find((m) => buttonsOf(m).length === 3)!;
  const buttons = buttonsOf(message);
  assert.deepEqual(buttons.map((b) => b.text), ["Allow", "Deny", "Allow for this job"]);
  for (const b of buttons) assert.ok(new TextEncoder().encode(b.callback_data).length <= 64);
  assert.match(message.plain, /Approval needed/);
  assert.match(message.plain, /git push origin main/);
  assert.match(message.plain, /Bash\(git push:\*\)/);
  assert.match(message.plain, /Denied automatically in (9m5\d|10m0)s/);
  assert.ok(message.text.includes(`(https://pylon.example.com/dashboard/jobs/${w.jobId})`));
  assert.notEqual(message.replyTo, undefined, "posted in the job's reply chain");

  const refused = tg.pressButton({ chatId: CHAT, fromId: EVE, messageId: message.messageId });
  await tg.waitFor(() => tg.callbackAnswers.some((a) => a.id === refused));
  assert.equal(tg.callbackAnswers.find((a) => a.id === refused)!.text, "You may not decide here");
  assert.equal(w.approvals.calls.length, 0);

  tg.pressButton({
    chatId: CHAT,
    fromId: ADA,
    messageId: message.messageId,
    data: buttons[1]!.callback_data,
  });
  await tg.waitFor(() => message.plain.includes("Denied by User 111 (telegram)"));
  assert.deepEqual(w.approvals.calls, [{
    jobId: w.jobId,
    callId: "c1a2",
    decision: "deny",
    source: { by: "User 111", via: "telegram" },
  }]);
  assert.equal(message.replyMarkup, undefined, "the buttons are gone");
  assert.match(message.plain, /git push origin main/, "the request stays readable");

  // No answer in time: the message says so.
  w.approvals.request(w.request("c3"));
  await tg.waitFor(() => tg.messages(CHAT).filter((m) => buttonsOf(m).length === 3).length === 1);
  const second = tg.messages(CHAT).find((m) => buttonsOf(m).length === 3)!;
  w.approvals.expire("c3");
  await tg.waitFor(() => second.plain.includes("Timed out"));
  assert.equal(second.replyMarkup, undefined);
});

Deno.test("Telegram: with no allowed_users, tool-approval presses are refused with a reason", async () => {
  await using tg = startFakeTelegram({ token: "9:open", chats: [{ id: CHAT, type: "group" }] });
  await using w = await world({
    type: "telegram",
    telegram: { "bot_token": "9:open", "chat_id": CHAT, "api_url": tg.url },
  });
  w.approvals.request(w.request("c9"));
  await tg.waitFor(() => tg.messages(CHAT).some((m) => buttonsOf(m).length === 3));
  const message = tg.messages(CHAT).find((m) => buttonsOf(m).length === 3)!;
  const id = tg.pressButton({ chatId: CHAT, fromId: ADA, messageId: message.messageId });
  await tg.waitFor(() => tg.callbackAnswers.some((a) => a.id === id));
  assert.match(tg.callbackAnswers.find((a) => a.id === id)!.text ?? "", /allowed_users is empty/);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(w.approvals.calls.length, 0);
  assert.equal(buttonsOf(message).length, 3, "the call still waits");
});

Deno.test("Slack: Allow for this job decides the call; with no allowed_users it is refused", async () => {
  const slack = startFakeSlack({ botToken: "xoxb-tools", appToken: "xapp-tools" });
  try {
    {
      await using w = await world({
        type: "slack",
        slack: {
          "bot_token": "xoxb-tools",
          "app_token": "xapp-tools",
          "channel_id": "C0TOOLS",
          "allowed_users": ["U0ADA"],
          "api_url": slack.apiUrl,
        },
      });
      w.approvals.request(w.request("k7"));
      const actionId = `tool_allow_job:${w.jobId}:k7`;
      await waitFor(
        () => slack.messages.some((m) => JSON.stringify(m.blocks ?? []).includes(actionId)),
        "the approval request",
      );
      const message = slack.messages.find((m) =>
        JSON.stringify(m.blocks ?? []).includes(actionId)
      )!;
      const labels = JSON.stringify(message.blocks);
      for (const label of ["Allow", "Deny", "Allow for this job"]) {
        assert.ok(labels.includes(`"${label}"`));
      }
      slack.clickButton({ userId: "U0ADA", channelId: "C0TOOLS", messageTs: message.ts, actionId });
      await waitFor(() => message.text.includes("Allowed for this job"), "the edited request");
      assert.deepEqual(w.approvals.calls[0], {
        jobId: w.jobId,
        callId: "k7",
        decision: "allow_for_job",
        source: { by: "<@U0ADA>", via: "slack" },
      });
      assert.ok(!JSON.stringify(message.blocks).includes("tool_allow"), "the buttons are gone");
    }
    {
      await using w = await world({
        type: "slack",
        slack: {
          "bot_token": "xoxb-tools",
          "app_token": "xapp-tools",
          "channel_id": "C0OPEN",
          "api_url": slack.apiUrl,
        },
      });
      w.approvals.request(w.request("k8"));
      const actionId = `tool_allow:${w.jobId}:k8`;
      await waitFor(
        () => slack.messages.some((m) => JSON.stringify(m.blocks ?? []).includes(actionId)),
        "the approval request",
      );
      const message = slack.messages.find((m) =>
        JSON.stringify(m.blocks ?? []).includes(actionId)
      )!;
      slack.clickButton({ userId: "U0ADA", channelId: "C0OPEN", messageTs: message.ts, actionId });
      await waitFor(() => slack.ephemerals.some((e) => e.channel === "C0OPEN"), "the refusal");
      assert.match(
        slack.ephemerals.find((e) => e.channel === "C0OPEN")!.text,
        /allowed_users is empty/,
      );
      assert.equal(w.approvals.calls.length, 0);
    }
  } finally {
    await slack.close();
  }
});

Deno.test("webhook: job.tool_approval and job.tool_decision events", async () => {
  const events: Record<string, unknown>[] = [];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      events.push(await req.json());
      return new Response("ok");
    },
  );
  await using w = await world({
    type: "webhook",
    webhook: { url: `http://127.0.0.1:${server.addr.port}/hook` },
  });
  w.approvals.request(w.request("w1"));
  await eventually(() => Promise.resolve(events.some((e) => e.event === "job.tool_approval")));
  const request = events.find((e) => e.event === "job.tool_approval")!;
  assert.equal(request.job_id, w.jobId);
  assert.equal(request.job_url, `https://pylon.example.com/dashboard/jobs/${w.jobId}`);
  const call = request.call as Record<string, unknown>;
  assert.equal(call.id, "w1");
  assert.equal(call.tool, "Bash");
  assert.equal(call.rule, "Bash(git push:*)");
  assert.deepEqual(call.input, { command: "git push origin main" });
  await w.approvals.decide(w.jobId, "w1", "allow", { by: "cli", via: "cli" });
  await eventually(() => Promise.resolve(events.some((e) => e.event === "job.tool_decision")));
  const decision = events.find((e) => e.event === "job.tool_decision")!;
  assert.equal(decision.decision, "allow");
  assert.equal(decision.by, "cli");
  assert.equal(decision.via, "cli");
  assert.equal(decision.reason, "allowed by cli", "what the agent was told");
  assert.equal(events.filter((e) => e.event === "job.tool_decision").length, 1);
});
