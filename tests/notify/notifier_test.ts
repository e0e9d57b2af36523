/**
 * The approval-to-result loop through the notifier with an interactive channel: thread and
 * approval message, a button press, started and result messages, a second click ignored,
 * chat commands, a follow-up reply that runs with the parent's session, and an outage retried.
 */

import assert from "node:assert/strict";
import type { JobRunner } from "../../src/queue/mod.ts";
import { createScriptedRunner } from "../fakes/runner_fake.ts";
import { FakeChannel } from "../fakes/channel_fake.ts";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";

Deno.test("approval, result, commands and a follow-up flow through the channel", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-notify-" });
  await writeHome(root, {
    "pylons/triage/pylon.yaml": [
      "name: triage",
      "trigger:",
      "  type: webhook",
      "  path: /triage",
      "channel:",
      "  type: telegram",
      "  telegram:",
      "    bot_token: t",
      '  topic: "{{ .body.title }}"',
      '  message: "Error: {{ .body.title }}"',
      "  approval: true",
      "agent:",
      "  prompt: investigate",
    ].join("\n") + "\n",
  });
  const channel = new FakeChannel();
  channel.failPosts = 1; // the first post fails: it is retried
  const runner = createScriptedRunner();
  const d = await startTestDaemon(root, {
    runner,
    channelFactories: { telegram: () => channel },
    notifyRetryMs: [50],
  });
  try {
    const res = await fetch(`${d.url}/triage`, {
      method: "POST",
      body: JSON.stringify({ title: "ZeroDivisionError" }),
    });
    const { job_id, status } = await res.json();
    assert.equal(status, "awaiting_approval");
    const head = await eventually(() =>
      Promise.resolve(channel.messages.find((m) => m.buttonsFor === job_id))
    );
    assert.equal(channel.threads[0]!.title, "ZeroDivisionError");
    assert.equal(head.text, "Error: ZeroDivisionError");
    assert.ok(d.logs.some((l) => /event=channel\.post_failed/.test(l)));
    assert.equal(runner.ran.length, 0, "nothing runs before approval");

    runner.hold();
    await channel.press(head.id, "investigate", "ada");
    await channel.press(head.id, "investigate", "bob"); // a second click does nothing
    const thread = channel.threads[0]!;
    await eventually(() =>
      Promise.resolve(channel.textsIn(thread).some((t) => t.startsWith("⚙️")))
    );
    runner.release();
    await eventually(() =>
      Promise.resolve(channel.textsIn(thread).some((t) => t.startsWith("✅ **Done**")))
    );
    assert.equal(runner.ran.length, 1);
    assert.match(head.text, /Approved by ada/);
    const texts = channel.textsIn(thread);
    assert.match(texts.find((t) => t.startsWith("⚙️"))!, /Agent started \(claude\)/);
    assert.match(texts.at(-1)!, new RegExp(`done ${job_id.slice(0, 8)}`));

    await channel.say(thread, "/help");
    await eventually(() =>
      Promise.resolve(channel.textsIn(thread).some((t) => t.includes("**Commands**")))
    );
    await channel.say(thread, "Can you also add a test?");
    await eventually(() => Promise.resolve(runner.ran.length === 2));
    const follow = runner.ran[1]!;
    assert.equal(follow.trigger, "follow-up");
    assert.equal(follow.parentId, job_id);
    await eventually(() =>
      Promise.resolve(
        channel.textsIn(thread).filter((t) => t.startsWith("✅ **Done**")).length === 2,
      )
    );
    const stored = await (await d.api(`/api/jobs/${follow.id}`)).json();
    assert.equal(stored.status, "completed");

    await channel.say(thread, "done");
    await eventually(() => Promise.resolve(channel.closed.length === 1));
    await channel.say(undefined, "hello?"); // chatter outside a thread starts nothing
    assert.equal(runner.ran.length, 2);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a chat thread says the agent started only once it has, never for a job that failed before", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-notify-" });
  await writeHome(root, {
    "pylons/prep/pylon.yaml":
      "name: prep\ntrigger:\n  type: webhook\n  path: /prep\nchannel:\n  type: telegram\n" +
      "  telegram:\n    bot_token: t\nagent:\n  prompt: p\n",
  });
  const channel = new FakeChannel();
  // Each job prepares (image, workspace) until `prepared` resolves; the first then fails to
  // create its container, the second's agent starts and runs until `finish` resolves.
  let prepared = Promise.withResolvers<void>();
  const finish = Promise.withResolvers<void>();
  let runs = 0;
  const runner: JobRunner = {
    async run(_job, _pylon, ctx) {
      await prepared.promise;
      if (++runs === 1) return { status: "failed", error: "No such image: absent:never" };
      await ctx.started?.();
      await finish.promise;
      return { status: "completed", exitCode: 0, result: "fine" };
    },
  };
  const d = await startTestDaemon(root, { runner, channelFactories: { telegram: () => channel } });
  try {
    const post = async () =>
      (await (await fetch(`${d.url}/prep`, { method: "POST", body: "{}" })).json()).job_id;
    const status = async (id: string) => (await (await d.api(`/api/jobs/${id}`)).json()).status;
    const first = await post();
    await eventually(async () => await status(first) === "running");
    const thread = await eventually(() => Promise.resolve(channel.threads[0]));
    prepared.resolve();
    await eventually(() =>
      Promise.resolve(channel.textsIn(thread).some((t) => t.startsWith("❌ **Failed**")))
    );
    assert.ok(
      !channel.textsIn(thread).some((t) => t.startsWith("⚙️")),
      channel.textsIn(thread).join("\n"),
    );

    prepared = Promise.withResolvers<void>();
    const second = await post();
    await eventually(async () => await status(second) === "running");
    const other = await eventually(() => Promise.resolve(channel.threads[1]));
    await new Promise((r) => setTimeout(r, 100)); // what an early "started" would need to show
    assert.ok(!channel.textsIn(other).some((t) => t.startsWith("⚙️")), "not started yet");
    prepared.resolve();
    await eventually(() =>
      Promise.resolve(channel.textsIn(other).some((t) => t.startsWith("⚙️ Agent started")))
    );
    finish.resolve();
    await eventually(() =>
      Promise.resolve(channel.textsIn(other).some((t) => t.startsWith("✅ **Done**")))
    );
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Ignore dismisses the job and a later click cannot revive it", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-notify-" });
  await writeHome(root, {
    "pylons/gate/pylon.yaml":
      "name: gate\ntrigger:\n  type: webhook\n  path: /gate\nchannel:\n  type: telegram\n" +
      "  telegram:\n    bot_token: t\n  approval: true\nagent:\n  prompt: p\n",
  });
  const channel = new FakeChannel();
  const runner = createScriptedRunner();
  const d = await startTestDaemon(root, { runner, channelFactories: { telegram: () => channel } });
  try {
    const { job_id } = await (await fetch(`${d.url}/gate`, { method: "POST", body: "{}" })).json();
    const head = await eventually(() =>
      Promise.resolve(channel.messages.find((m) => m.buttonsFor === job_id))
    );
    await channel.press(head.id, "ignore", "ada");
    await eventually(async () =>
      (await (await d.api(`/api/jobs/${job_id}`)).json()).status === "dismissed"
    );
    await channel.press(head.id, "investigate", "ada");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(runner.ran.length, 0);
    assert.match(head.text, /Dismissed/);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the stdout channel prints the job's messages and how to approve it", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-notify-" });
  await writeHome(root, {
    "pylons/gate/pylon.yaml": "name: gate\ntrigger:\n  type: webhook\n  path: /gate\nchannel:\n" +
      '  topic: "alert {{ .body.n }}"\n  approval: true\nagent:\n  prompt: p\n',
  });
  const runner = createScriptedRunner();
  const d = await startTestDaemon(root, { runner });
  try {
    const { job_id } = await (await fetch(`${d.url}/gate`, { method: "POST", body: '{"n":7}' }))
      .json();
    const id8 = job_id.slice(0, 8);
    const printed = () => d.out.join("");
    await eventually(() => Promise.resolve(printed().includes(`pylon approve ${id8}`)));
    assert.ok(printed().includes(`[gate ${id8}] ▶ New webhook job: alert 7\n`), printed());
    const ok = await d.api(`/api/jobs/${id8}/approve`, { method: "POST" });
    await ok.body?.cancel();
    await eventually(() => Promise.resolve(printed().includes(`[gate ${id8}] ✅ Completed`)));
    assert.ok(printed().includes(`[gate ${id8}] Approved.\n`), printed());
    assert.ok(printed().includes(`Result:\n[gate ${id8}] done ${id8}\n`), printed());
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a pylon with two chat channels: the job is in both, and a reply in either asks a follow-up", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-notify-" });
  await writeHome(root, {
    "pylons/triage/pylon.yaml": [
      "name: triage",
      "trigger:",
      "  type: webhook",
      "  path: /triage",
      "channel:",
      "  type: [telegram, slack]",
      "  telegram:",
      "    bot_token: t",
      "  slack:",
      "    bot_token: xoxb-1",
      "    app_token: xapp-1",
      "    channel_id: C1",
      "agent:",
      "  prompt: investigate",
    ].join("\n") + "\n",
  });
  const telegram = new FakeChannel("fake:telegram");
  const slack = new FakeChannel("fake:slack");
  const runner = createScriptedRunner();
  const d = await startTestDaemon(root, {
    runner,
    channelFactories: { telegram: () => telegram, slack: () => slack },
  });
  try {
    const res = await fetch(`${d.url}/triage`, { method: "POST", body: "{}" });
    const { job_id } = await res.json();
    for (const chat of [telegram, slack]) {
      await eventually(() =>
        Promise.resolve(chat.messages.some((m) => m.text.includes(`done ${job_id.slice(0, 8)}`)))
      );
    }
    await slack.say(slack.threads[0]!, "and in slack?");
    await eventually(() => Promise.resolve(runner.ran.length === 2));
    await telegram.say(telegram.threads[0]!, "and in telegram?");
    await eventually(() => Promise.resolve(runner.ran.length === 3));
    assert.deepEqual(runner.ran.slice(1).map((j) => [j.trigger, j.parentId]), [
      ["follow-up", job_id],
      ["follow-up", job_id],
    ]);
    // Each follow-up answers in both threads.
    const last = runner.ran[2]!.id.slice(0, 8);
    for (const chat of [telegram, slack]) {
      await eventually(() =>
        Promise.resolve(chat.textsIn(chat.threads[0]!).some((t) => t.includes(`done ${last}`)))
      );
    }
  } finally {
    await d.stop();
  }
});
