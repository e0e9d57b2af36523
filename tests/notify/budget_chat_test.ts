/**
 * Budgets in chat, through a whole daemon and the notifier: the 80 % warning and the "budget
 * reached" notice are posted once per window (two held jobs, one notice; again none after a
 * restart), a held job's message carries Run anyway, and pressing it releases that one job (it
 * runs; its history says who pressed, from where); with `server.public_url` the result links to
 * the job's dashboard page.
 */

import assert from "node:assert/strict";
import type { JobRunner } from "../../src/queue/mod.ts";
import type { Job, JobUsage } from "../../src/store/mod.ts";
import { FakeChannel } from "../fakes/channel_fake.ts";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";

/** What each run reports it cost. */
function usage(costUsd: number): JobUsage {
  return {
    costUsd,
    costBasis: "api",
    inputTokens: 1000,
    outputTokens: 100,
    cacheReadTokens: null,
    cacheCreationTokens: null,
    numTurns: 3,
    durationApiMs: null,
    models: [],
  };
}

/** A runner whose every job completes at once, reporting `costUsd`. */
function costingRunner(costUsd: number): JobRunner & { ran: Job[] } {
  const ran: Job[] = [];
  return {
    ran,
    run(job) {
      ran.push(job);
      return Promise.resolve({
        status: "completed",
        exitCode: 0,
        result: `done ${job.id.slice(0, 8)}`,
        usage: usage(costUsd),
      });
    },
  };
}

const PYLON = [
  "name: triage",
  "trigger:",
  "  type: webhook",
  "  path: /triage",
  "channel:",
  "  type: telegram",
  "  telegram:",
  "    bot_token: t",
  "budget:",
  "  daily_usd: 1.2",
  "  timezone: UTC",
  "agent:",
  "  prompt: investigate",
].join("\n") + "\n";

async function post(url: string): Promise<string> {
  const res = await fetch(`${url}/triage`, { method: "POST", body: "{}" });
  return (await res.json()).job_id;
}

Deno.test("budget notices come once per window, and Run anyway releases one held job", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-budget-chat-" });
  await writeHome(root, {
    "config.yaml": "server:\n  public_url: https://pylon.example.com/\n",
    "pylons/triage/pylon.yaml": PYLON,
  });
  let channel = new FakeChannel("fake:ops", "telegram");
  const runner = costingRunner(1);
  let d = await startTestDaemon(root, { runner, channelFactories: { telegram: () => channel } });
  const status = async (id: string) => (await (await d.api(`/api/jobs/${id}`)).json()).status;
  const mainChat = () => channel.messages.filter((m) => m.thread === null).map((m) => m.text);
  try {
    // $1.00 of $1.20: the 80 % warning.
    const first = await post(d.url);
    await eventually(async () => await status(first) === "completed");
    await eventually(() => Promise.resolve(mainChat().length === 1));
    assert.match(mainChat()[0]!, /83 % of today's \$1\.20 budget used/);
    assert.match(mainChat()[0]!, /\$1\.00 of \$1\.20/);
    // The result links to the job's dashboard page (public_url's trailing slash dropped).
    const thread = channel.threads[0]!;
    assert.ok(
      channel.textsIn(thread).some((t) =>
        t.includes(`(https://pylon.example.com/dashboard/jobs/${first})`)
      ),
    );

    // $2.00: over the cap; the next two jobs are held, with one notice between them.
    const second = await post(d.url);
    await eventually(async () => await status(second) === "completed");
    const held = [await post(d.url), await post(d.url)];
    for (const id of held) await eventually(async () => await status(id) === "held");
    await eventually(() => Promise.resolve(mainChat().some((t) => t.includes("Budget reached"))));
    await new Promise((r) => setTimeout(r, 300));
    const notices = mainChat();
    assert.equal(notices.filter((t) => t.includes("Budget reached")).length, 1, notices.join("\n"));
    assert.equal(
      notices.filter((t) => / % of today's/.test(t)).length,
      1,
      "the warning is not repeated",
    );
    const notice = notices.find((t) => t.includes("Budget reached"))!;
    assert.match(notice, /today's \$1\.20 budget \(pylon \*\*triage\*\*\) is used up/);
    assert.match(notice, /\$2\.00 of \$1\.20 spent/);
    assert.match(notice, /jobs? (is|are) held until it resets on .+ 00:00 \(UTC\)/);

    // Each held job's message says why, with Run anyway.
    const heads = held.map((id) =>
      channel.messages.find((m) => m.buttons?.runAnyway?.jobId === id)
    );
    assert.ok(heads.every((h) => h !== undefined), "each held job has a Run anyway button");
    assert.match(heads[0]!.text, /⏸️ \*\*Held\*\*: daily budget of \$1\.20 reached/);

    await channel.press(heads[0]!.id, "run_anyway", "@ada");
    await eventually(async () => await status(held[0]!) === "completed");
    await eventually(() => Promise.resolve(heads[0]!.text.includes("Released by @ada")));
    assert.equal(heads[0]!.buttons, undefined, "the button is gone");
    assert.ok(runner.ran.some((j) => j.id === held[0]));
    assert.equal(await status(held[1]!), "held", "only the pressed job was released");
    const history = (await (await d.api(`/api/jobs/${held[0]}`)).json()).history as {
      status: string;
      reason: string | null;
    }[];
    assert.ok(
      history.some((h) => h.status === "queued" && /by @ada via telegram/.test(h.reason ?? "")),
      JSON.stringify(history),
    );
    await channel.press(heads[0]!.id, "run_anyway", "@ada"); // a second press does nothing
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(runner.ran.filter((j) => j.id === held[0]).length, 1);

    // A restart does not repeat what this window was told: a new held job, no new notice.
    await d.stop();
    channel = new FakeChannel("fake:ops", "telegram");
    d = await startTestDaemon(root, { runner, channelFactories: { telegram: () => channel } });
    const later = await post(d.url);
    await eventually(async () => await status(later) === "held");
    await eventually(() =>
      Promise.resolve(channel.messages.some((m) => m.buttons?.runAnyway?.jobId === later))
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(mainChat(), [], "no notice is repeated after a restart");
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
