/**
 * A button pressed in chat after a daemon restart is heard: the daemon listens on every pylon's
 * channels from the start, not only once a job of the pylon changes. A job held by the budget
 * gets its **Run anyway** message from one daemon; that daemon stops; a new one starts on the
 * same home, and the press on the old message releases the job (whole daemons in-process, the
 * real Telegram channel against its wire-level fake, real SQLite stores).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { builtinChannels } from "../../src/notify/mod.ts";
import type { JobRunner } from "../../src/queue/mod.ts";
import type { Job } from "../../src/store/mod.ts";
import { type FakeMessage, startFakeTelegram } from "../fakes/telegram_server.ts";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";

const CHAT = -100778;
const ADA = 111;

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

type Keyboard = { "inline_keyboard"?: { text: string; "callback_data": string }[][] };
const buttonsOf = (m: FakeMessage) =>
  (m.replyMarkup as Keyboard | undefined)?.inline_keyboard?.flat() ?? [];

Deno.test("Telegram: Run anyway pressed after a restart, on the old daemon's message, releases the job", async () => {
  await using tg = startFakeTelegram({ token: "5:re", chats: [{ id: CHAT, type: "group" }] });
  const root = await Deno.makeTempDir({ prefix: "pylon-tg-restart-" });
  await writeHome(root, {
    "pylons/triage/pylon.yaml": [
      "name: triage",
      "trigger:",
      "  type: webhook",
      "  path: /triage",
      "channel:",
      "  type: telegram",
      "  telegram:",
      "    bot_token: 5:re",
      `    chat_id: ${CHAT}`,
      `    allowed_users: [${ADA}]`,
      `    api_url: ${tg.url}`,
      "budget:",
      "  daily_usd: 1",
      "agent:",
      "  prompt: investigate",
      "",
    ].join("\n"),
  });
  const start = async (runner: JobRunner) => {
    const kit = builtinChannels(createPylonPaths(root));
    return await startTestDaemon(root, {
      runner,
      channelFactories: kit.factories,
      closeChannels: () => kit.close(),
    });
  };
  try {
    let d = await start(dollarRunner());
    const status = async (id: string) => (await (await d.api(`/api/jobs/${id}`)).json()).status;
    const post = async () =>
      (await (await fetch(`${d.url}/triage`, { method: "POST", body: "{}" })).json()).job_id;
    const first = await post();
    await eventually(async () => await status(first) === "completed");
    const held = await post();
    await eventually(async () => await status(held) === "held");
    const hasButton = (m: FakeMessage) =>
      buttonsOf(m).some((b) => b.callback_data === `run:${held}`);
    await tg.waitFor(() => tg.messages(CHAT).some(hasButton));
    const message = tg.messages(CHAT).find(hasButton)!;
    await d.stop();

    const runner = dollarRunner();
    d = await start(runner);
    try {
      tg.pressButton({ chatId: CHAT, fromId: ADA, messageId: message.messageId });
      await eventually(() => Promise.resolve(runner.ran.some((j) => j.id === held)), 10_000);
      await tg.waitFor(() => message.plain.includes("Released by User 111"));
      assert.equal(await status(held), "completed");
    } finally {
      await d.stop();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
