/**
 * The whole loop on Slack, with the production Slack client against a fake Slack (Web API and
 * Socket Mode on loopback) and real containers: webhook → approval message in a thread → button
 * click → container run → result in the thread → threaded follow-up reply → second run with the
 * session id → `done`.
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { builtinChannels } from "../../src/notify/mod.ts";
import { startFakeSlack, waitFor } from "../fakes/slack_server.ts";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { dockerTest, ensureTestImage } from "./_docker.ts";
import { countingAgentYaml, dockerRunnerFor } from "./_agent.ts";

dockerTest("Slack: approval, run, result, follow-up with the session, done", async (docker) => {
  const image = await ensureTestImage(docker);
  const slack = startFakeSlack({ botToken: "xoxb-e2e", appToken: "xapp-e2e" });
  const root = await Deno.makeTempDir({ prefix: "pylon-slack-" });
  await writeHome(root, {
    "pylons/triage/pylon.yaml": [
      "name: triage",
      "trigger:",
      "  type: webhook",
      "  path: /triage",
      "channel:",
      "  type: slack",
      "  slack:",
      "    bot_token: xoxb-e2e",
      "    app_token: xapp-e2e",
      "    channel_id: C0E2E",
      "    allowed_users: [U0ADA]",
      `    api_url: ${slack.apiUrl}`,
      '  topic: "Sentry: {{ .body.title }}"',
      '  message: "*{{ .body.title }}* in {{ .body.culprit }}"',
      "  approval: true",
      "agent:",
      ...countingAgentYaml(image),
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
    const res = await fetch(`${d.url}/triage`, {
      method: "POST",
      body: JSON.stringify({ title: "ZeroDivisionError", culprit: "app.py" }),
    });
    const { job_id } = await res.json();
    let approval!: (typeof slack.messages)[number];
    await waitFor(() => {
      approval = slack.messages.find((m) =>
        JSON.stringify(m.blocks ?? []).includes(`investigate:${job_id}`)
      )!;
      return approval !== undefined;
    }, "the approval message");
    const thread = approval.threadTs!;
    const parent = slack.messages.find((m) => m.ts === thread)!;
    assert.match(parent.text, /Sentry: ZeroDivisionError/);

    slack.clickButton({
      userId: "U0EVE",
      channelId: "C0E2E",
      messageTs: approval.ts,
      actionId: `investigate:${job_id}`,
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(
      (await (await d.api(`/api/jobs/${job_id}`)).json()).status,
      "awaiting_approval",
      "EVE may not approve",
    );

    slack.clickButton({
      userId: "U0ADA",
      channelId: "C0E2E",
      messageTs: approval.ts,
      actionId: `investigate:${job_id}`,
    });
    const inThread = () =>
      slack.messages.filter((m) => m.threadTs === thread && m.user !== "U0ADA");
    await waitFor(() => inThread().some((m) => /run 1/.test(m.text)), "the first result", 20_000);
    assert.doesNotMatch(
      JSON.stringify(approval.blocks ?? []),
      /investigate:/,
      "the buttons are gone",
    );
    assert.match(
      inThread().find((m) => /run 1/.test(m.text))!.text,
      /\*run 1\* \(prompt: Investigate ZeroDivisionError\)/,
    );

    slack.postUserMessage({
      userId: "U0ADA",
      channelId: "C0E2E",
      text: "also check the tests",
      threadTs: thread,
    });
    await waitFor(
      () => inThread().some((m) => /run 2/.test(m.text)),
      "the follow-up's result",
      20_000,
    );
    assert.match(
      inThread().find((m) => /run 2/.test(m.text))!.text,
      /prompt: also check the tests/,
    );
    const jobs = await (await d.api("/api/jobs?pylon=triage")).json();
    const follow = jobs.find((j: { trigger: string }) => j.trigger === "follow-up");
    assert.equal(follow.session_id, "sess-2");
    assert.equal(follow.parent_id, job_id);

    slack.postUserMessage({ userId: "U0ADA", channelId: "C0E2E", text: "done", threadTs: thread });
    await eventually(() => Promise.resolve(parent.reactions.includes("white_check_mark")));
  } finally {
    await d.stop();
    await slack.close();
    await Deno.remove(root, { recursive: true });
  }
});
