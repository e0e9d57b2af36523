/**
 * Run anyway on the real Telegram and Slack channels, against their wire-level fakes, in a whole
 * daemon: a job held by the budget gets a message with the button; a press by someone outside
 * `allowed_users` is answered and changes nothing; a press by an allowed user releases the job,
 * which runs, and the message is edited to say who released it, without the button.
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { builtinChannels } from "../../src/notify/mod.ts";
import type { JobRunner } from "../../src/queue/mod.ts";
import type { Job } from "../../src/store/mod.ts";
import { startFakeSlack, waitFor } from "../fakes/slack_server.ts";
import { startFakeTelegram } from "../fakes/telegram_server.ts";
import { eventually, startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";

const CHAT = -100777;
const ADA = 111;
const EVE = 222;

/** Every run completes at once and reports $1 (so a $1 daily budget holds the next job). */
function dollarRunner(): JobRunner & { ran: Job[] } {
  const ran: Job[] = [];
  return {
    ran,
    run(job) {
      ran.push(job);
      return Promise.resolve({
        status: "completed",
        exitCode: 0,
        result: "done",
        usage: {
          costUsd: 1,
          costBasis: "api",
          inputTokens: 10,
          outputTokens: 10,
          cacheReadTokens: null,
          cacheCreationTokens: null,
          numTurns: 1,
          durationApiMs: null,
          models: [],
        },
      });
    },
  };
}

function pylonYaml(channel: string[]): string {
  return [
    "name: triage",
    "trigger:",
    "  type: webhook",
    "  path: /triage",
    "channel:",
    ...channel,
    "budget:",
    "  daily_usd: 1",
    "agent:",
    "  prompt: investigate",
  ].join("\n") + "\n";
}

/** Runs one job to spend the budget, then posts one that is held; returns the held job's id. */
async function spendThenHold(d: TestDaemon): Promise<string> {
  const status = async (id: string) => (await (await d.api(`/api/jobs/${id}`)).json()).status;
  const post = async () =>
    (await (await fetch(`${d.url}/triage`, { method: "POST", body: "{}" })).json()).job_id;
  const first = await post();
  await eventually(async () => await status(first) === "completed");
  const held = await post();
  await eventually(async () => await status(held) === "held");
  return held;
}

Deno.test("Telegram: Run anyway releases a held job; others' presses are answered", async () => {
  const tg = startFakeTelegram({ token: "123:abc", chats: [{ id: CHAT, type: "group" }] });
  const root = await Deno.makeTempDir({ prefix: "pylon-tg-run-" });
  await writeHome(root, {
    "pylons/triage/pylon.yaml": pylonYaml([
      "  type: telegram",
      "  telegram:",
      "    bot_token: 123:abc",
      `    chat_id: ${CHAT}`,
      `    allowed_users: [${ADA}]`,
      `    api_url: ${tg.url}`,
    ]),
  });
  const kit = builtinChannels(createPylonPaths(root));
  const runner = dollarRunner();
  const d = await startTestDaemon(root, {
    runner,
    channelFactories: kit.factories,
    closeChannels: () => kit.close(),
  });
  try {
    const held = await spendThenHold(d);
    const buttonOf = (m: { replyMarkup: unknown }) =>
      (m.replyMarkup as { inline_keyboard?: { text: string; callback_data: string }[][] })
        ?.inline_keyboard?.flat() ?? [];
    await tg.waitFor(() =>
      tg.messages(CHAT).some((m) => buttonOf(m).some((b) => b.callback_data === `run:${held}`))
    );
    const message = tg.messages(CHAT).find((m) =>
      buttonOf(m).some((b) => b.callback_data === `run:${held}`)
    )!;
    assert.deepEqual(buttonOf(message).map((b) => b.text), ["Run anyway"]);
    assert.match(message.plain, /Held: daily budget of \$1\.00 reached/);
    await tg.waitFor(() => tg.messages(CHAT).some((m) => m.plain.includes("Budget reached")));

    const refused = tg.pressButton({ chatId: CHAT, fromId: EVE, messageId: message.messageId });
    await tg.waitFor(() => tg.callbackAnswers.some((a) => a.id === refused));
    assert.equal(tg.callbackAnswers.find((a) => a.id === refused)!.text, "You may not decide here");
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await (await d.api(`/api/jobs/${held}`)).json()).status, "held");

    tg.pressButton({ chatId: CHAT, fromId: ADA, messageId: message.messageId });
    await eventually(() => Promise.resolve(runner.ran.some((j) => j.id === held)));
    await tg.waitFor(() => message.plain.includes("Released by User 111"));
    assert.equal(message.replyMarkup, undefined, "the button is gone");
  } finally {
    await d.stop();
    await tg.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Slack: Run anyway releases a held job; others get an ephemeral answer", async () => {
  const slack = startFakeSlack({ botToken: "xoxb-run", appToken: "xapp-run" });
  const root = await Deno.makeTempDir({ prefix: "pylon-slack-run-" });
  await writeHome(root, {
    "pylons/triage/pylon.yaml": pylonYaml([
      "  type: slack",
      "  slack:",
      "    bot_token: xoxb-run",
      "    app_token: xapp-run",
      "    channel_id: C0RUN",
      "    allowed_users: [U0ADA]",
      `    api_url: ${slack.apiUrl}`,
    ]),
  });
  const kit = builtinChannels(createPylonPaths(root));
  const runner = dollarRunner();
  const d = await startTestDaemon(root, {
    runner,
    channelFactories: kit.factories,
    closeChannels: () => kit.close(),
  });
  try {
    const held = await spendThenHold(d);
    const actionId = `run_anyway:${held}`;
    await waitFor(
      () => slack.messages.some((m) => JSON.stringify(m.blocks ?? []).includes(actionId)),
      "the held job's message",
    );
    const message = slack.messages.find((m) => JSON.stringify(m.blocks ?? []).includes(actionId))!;
    assert.match(message.text, /Held/);

    slack.clickButton({ userId: "U0EVE", channelId: "C0RUN", messageTs: message.ts, actionId });
    await waitFor(() => slack.ephemerals.length === 1, "the refusal");
    assert.equal(slack.ephemerals[0]!.user, "U0EVE");
    assert.match(slack.ephemerals[0]!.text, /allowed_users/);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await (await d.api(`/api/jobs/${held}`)).json()).status, "held");

    slack.clickButton({ userId: "U0ADA", channelId: "C0RUN", messageTs: message.ts, actionId });
    await eventually(() => Promise.resolve(runner.ran.some((j) => j.id === held)));
    await waitFor(() => message.text.includes("Released by <@U0ADA>"), "the edited message");
    assert.ok(!JSON.stringify(message.blocks).includes(actionId), "the button is gone");
    const history = (await (await d.api(`/api/jobs/${held}`)).json()).history as {
      reason: string | null;
    }[];
    assert.ok(history.some((h) => /by <@U0ADA> via slack/.test(h.reason ?? "")));
  } finally {
    await d.stop();
    await slack.close();
    await Deno.remove(root, { recursive: true });
  }
});
