/**
 * The whole loop on Telegram, with the production client against a fake Bot API on loopback and
 * real containers: chat-id auto-detection saved into config.yaml, webhook → approval message in a
 * forum topic → button press → container run → result (MarkdownV2) in the topic → follow-up
 * reply → second run with the session → `done` closes the topic.
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { builtinChannels } from "../../src/notify/mod.ts";
import { startFakeTelegram } from "../fakes/telegram_server.ts";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { dockerTest, ensureTestImage } from "./_docker.ts";
import { countingAgentYaml, dockerRunnerFor } from "./_agent.ts";

const CHAT = -1001234;
const ADA = 111;
const EVE = 222;

dockerTest("Telegram: chat detected, approval, run, result, follow-up, done", async (docker) => {
  const image = await ensureTestImage(docker);
  const tg = startFakeTelegram({
    token: "123:abc",
    chats: [{ id: CHAT, type: "supergroup", isForum: true, title: "ops" }],
  });
  const root = await Deno.makeTempDir({ prefix: "pylon-tg-" });
  await writeHome(root, {
    "config.yaml": [
      "# machine settings",
      "defaults:",
      "  channel:",
      "    type: telegram",
      "    telegram:",
      '      bot_token: "${TG_TOKEN}"',
      `      allowed_users: [${ADA}]`,
      `      api_url: ${tg.url}`,
      "",
    ].join("\n"),
    ".env": "TG_TOKEN=123:abc\n",
    "pylons/triage/pylon.yaml": [
      "name: triage",
      "trigger:",
      "  type: webhook",
      "  path: /triage",
      "channel:",
      '  topic: "Sentry: {{ .body.title }}"',
      '  message: "{{ .body.title }} in {{ .body.culprit }}"',
      "  approval: true",
      "agent:",
      ...countingAgentYaml(image, ". Cost: 1.5 (est.)"),
      '  prompt: "Investigate {{ .body.title }}"',
    ].join("\n") + "\n",
  });
  const kit = builtinChannels(createPylonPaths(root));
  const d = await startTestDaemon(root, {
    channelFactories: kit.factories,
    closeChannels: () => kit.close(),
    createRunner: dockerRunnerFor(root),
  });
  try {
    // No chat_id yet: the first webhook's announcement waits; a message in the group sets it.
    const res = await fetch(`${d.url}/triage`, {
      method: "POST",
      body: JSON.stringify({ title: "ZeroDivisionError", culprit: "app.py" }),
    });
    const { job_id } = await res.json();
    tg.pushMessage({ chatId: CHAT, fromId: ADA, text: "hello bot" });
    await eventually(
      async () => (await Deno.readTextFile(`${root}/config.yaml`)).includes(`chat_id: ${CHAT}`),
      10_000,
    );
    assert.match(
      await Deno.readTextFile(`${root}/config.yaml`),
      /^# machine settings/,
      "comments are kept",
    );

    await tg.waitFor(
      () =>
        tg.topics(CHAT).length > 0 && tg.messages(CHAT, tg.topics(CHAT)[0]!.threadId).length > 0,
      15_000,
    );
    const topic = tg.topics(CHAT)[0]!;
    assert.equal(topic.name, "Sentry: ZeroDivisionError");
    const approval = tg.messages(CHAT, topic.threadId).find((m) =>
      JSON.stringify(m.replyMarkup ?? "").includes(job_id)
    )!;
    assert.equal(approval.plain, "ZeroDivisionError in app.py");

    tg.pressButton({
      chatId: CHAT,
      fromId: EVE,
      messageId: approval.messageId,
      data: `investigate:${job_id}`,
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      (await (await d.api(`/api/jobs/${job_id}`)).json()).status,
      "awaiting_approval",
      "EVE may not approve",
    );
    tg.pressButton({
      chatId: CHAT,
      fromId: ADA,
      messageId: approval.messageId,
      data: `investigate:${job_id}`,
    });
    const texts = () => tg.messages(CHAT, topic.threadId).map((m) => m.plain);
    await tg.waitFor(() => texts().some((t) => t.includes("run 1")), 20_000);
    assert.ok(
      texts().some((t) =>
        t.includes("run 1 (prompt: Investigate ZeroDivisionError). Cost: 1.5 (est.)")
      ),
      texts().join("\n"),
    );

    const result = tg.messages(CHAT, topic.threadId).find((m) => m.plain.includes("run 1"))!;
    tg.pushMessage({
      chatId: CHAT,
      fromId: ADA,
      text: "also check the tests",
      threadId: topic.threadId,
      replyTo: result.messageId,
    });
    await tg.waitFor(() => texts().some((t) => t.includes("run 2")), 20_000);
    assert.ok(texts().some((t) => t.includes("prompt: also check the tests")));
    const jobs = await (await d.api("/api/jobs?pylon=triage")).json();
    assert.equal(
      jobs.find((j: { trigger: string }) => j.trigger === "follow-up").session_id,
      "sess-2",
    );

    tg.pushMessage({ chatId: CHAT, fromId: ADA, text: "/done", threadId: topic.threadId });
    await tg.waitFor(() => tg.topics(CHAT)[0]!.closed, 10_000);
  } finally {
    await d.stop();
    await tg.close();
    await Deno.remove(root, { recursive: true });
  }
});
