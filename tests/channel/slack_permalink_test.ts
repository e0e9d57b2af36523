/**
 * A Slack job's page links to its thread: the notifier asks Slack for the thread's permalink
 * (`chat.getPermalink`, answered by the fake Slack as Slack does) once the thread is posted, the
 * job's `links` carry it, and the dashboard's job page shows it as a `rel=noopener` link. The
 * answer is untrusted: anything but an `https://*.slack.com` URL is not shown.
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { slackPermalink } from "../../src/channel/slack/mod.ts";
import { builtinChannels } from "../../src/notify/mod.ts";
import { type FakeSlack, startFakeSlack, waitFor } from "../fakes/slack_server.ts";
import { eventually, startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";
import { loginLink, sendWebhook, steeredRunner } from "../dashboard/_browser.ts";

/** A daemon with one approval-gated webhook pylon reporting to `slack`'s channel C0LINK. */
async function slackDaemon(slack: FakeSlack): Promise<{ daemon: TestDaemon; root: string }> {
  const root = await Deno.makeTempDir({ prefix: "pylon-slack-link-" });
  await writeHome(root, {
    "pylons/triage/pylon.yaml": [
      "name: triage",
      "trigger:",
      "  type: webhook",
      "  path: /triage",
      "channel:",
      "  type: slack",
      "  slack:",
      `    bot_token: ${slack.botToken}`,
      `    app_token: ${slack.appToken}`,
      "    channel_id: C0LINK",
      `    api_url: ${slack.apiUrl}`,
      '  topic: "Sentry: {{ .body.title }}"',
      "  approval: true",
      "agent:",
      '  prompt: "Investigate {{ .body.title }}"',
    ].join("\n") + "\n",
  });
  const kit = builtinChannels(createPylonPaths(root));
  const daemon = await startTestDaemon(root, {
    channelFactories: kit.factories,
    closeChannels: () => kit.close(),
    runner: steeredRunner(() => `${root}/jobs`),
  });
  return { daemon, root };
}

/** Sends a webhook and waits for its Slack thread; returns the job id and the thread's ts. */
async function jobInThread(daemon: TestDaemon, slack: FakeSlack) {
  const id = await sendWebhook(daemon, "/triage", { title: "ZeroDivisionError" });
  let approval: FakeSlack["messages"][number] | undefined;
  await waitFor(() => {
    approval = slack.messages.find((m) => JSON.stringify(m.blocks ?? []).includes(id));
    return approval !== undefined;
  }, "the approval message in its thread");
  await waitFor(() => slack.callsOf("chat.getPermalink").length > 0, "the permalink asked for");
  return { id, threadTs: approval!.threadTs! };
}

/** The job's page, as a logged-in browser gets it. */
async function jobPage(daemon: TestDaemon, id: string): Promise<string> {
  const login = await fetch(await loginLink(daemon), { redirect: "manual" });
  await login.body?.cancel();
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  const res = await fetch(`${daemon.url}/dashboard/jobs/${id}`, { headers: { cookie } });
  assert.equal(res.status, 200);
  return await res.text();
}

Deno.test("a Slack job's page links to its thread's permalink", async () => {
  const slack = startFakeSlack();
  const { daemon, root } = await slackDaemon(slack);
  try {
    const { id, threadTs } = await jobInThread(daemon, slack);
    const asked = slack.callsOf("chat.getPermalink");
    assert.equal(asked.length, 1, "asked once, for the thread");
    assert.deepEqual(asked[0]!.params, { channel: "C0LINK", "message_ts": threadTs });
    const permalink = `https://pylon-fake.slack.com/archives/C0LINK/p${threadTs.replace(".", "")}`;

    const links = await eventually(async () => {
      const job = await (await daemon.api(`/api/jobs/${id}`)).json();
      return job.links?.find((l: { kind: string; url: string | null }) => l.url) as
        | { kind: string; url: string; thread: Record<string, string> }
        | undefined;
    });
    assert.deepEqual(links, {
      kind: "slack",
      url: permalink,
      thread: { channel: "C0LINK", ts: threadTs },
    });

    const page = await jobPage(daemon, id);
    const anchor = new RegExp(`<a href="${permalink}" rel="([^"]*)">`).exec(page);
    assert.ok(anchor, "the page links to the thread");
    assert.match(anchor[1]!, /\bnoopener\b/);

    // A later announcement (the job dismissed) does not ask again.
    const ignored = await daemon.api(`/api/jobs/${id}/ignore`, { method: "POST" });
    await ignored.body?.cancel();
    await waitFor(
      () => slack.messages.some((m) => m.threadTs === threadTs && m.edits > 0),
      "the head edited",
    );
    assert.equal(slack.callsOf("chat.getPermalink").length, 1);
  } finally {
    await daemon.stop();
    await slack.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a permalink Slack could not give is asked for again with the job's next change", async () => {
  const slack = startFakeSlack();
  slack.failNext("chat.getPermalink", { error: "internal_error" });
  const { daemon, root } = await slackDaemon(slack);
  try {
    const { id, threadTs } = await jobInThread(daemon, slack);
    const first = await (await daemon.api(`/api/jobs/${id}`)).json();
    assert.deepEqual(first.links.map((l: { url: string | null }) => l.url), [null]);
    const ignored = await daemon.api(`/api/jobs/${id}/ignore`, { method: "POST" });
    await ignored.body?.cancel();
    const permalink = `https://pylon-fake.slack.com/archives/C0LINK/p${threadTs.replace(".", "")}`;
    await eventually(async () => {
      const job = await (await daemon.api(`/api/jobs/${id}`)).json();
      return job.links[0]?.url === permalink;
    });
    assert.equal(slack.callsOf("chat.getPermalink").length, 2);
    assert.ok(await daemon.waitForLog(/event=channel.thread_link_failed .*internal_error/));
  } finally {
    await daemon.stop();
    await slack.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a Slack permalink that is not https://*.slack.com is not shown", async () => {
  for (const base of ["https://slack.com.evil.example", "http://pylon-fake.slack.com"]) {
    const slack = startFakeSlack({ permalinkBase: base });
    const { daemon, root } = await slackDaemon(slack);
    try {
      const { id } = await jobInThread(daemon, slack);
      const job = await (await daemon.api(`/api/jobs/${id}`)).json();
      assert.deepEqual(
        job.links.map((l: { kind: string; url: string | null }) => [l.kind, l.url]),
        [["slack", null]],
        base,
      );
      const page = await jobPage(daemon, id);
      assert.ok(!page.includes(new URL(base).host + "/archives"), `${base} is not on the page`);
    } finally {
      await daemon.stop();
      await slack.close();
      await Deno.remove(root, { recursive: true });
    }
  }
});

Deno.test("slackPermalink() keeps only https URLs on slack.com and its workspaces", () => {
  const kept = [
    "https://acme.slack.com/archives/C1/p1",
    "https://slack.com/archives/C1/p1",
    "https://acme.enterprise.slack.com/archives/C1/p1?thread_ts=1.2&cid=C1",
  ];
  for (const url of kept) assert.equal(slackPermalink(url), url);
  for (
    const url of [
      "http://acme.slack.com/archives/C1/p1",
      "javascript:alert(1)//.slack.com",
      "https://slack.com.evil.example/archives",
      "https://evilslack.com/archives",
      "https://acme.slack.com:8443/archives",
      "https://user:pw@acme.slack.com/archives",
      "not a url",
      42,
      undefined,
    ]
  ) {
    assert.equal(slackPermalink(url), null, String(url));
  }
});
