/**
 * `POST /api/jobs/<id>/follow-up` and what `GET /api/jobs/<id>` shows of a conversation: the
 * question resumes the agent's session like a chat reply (same session, answer in the same
 * thread), the conversation goes on from its newest answer, and bad questions are refused.
 * Through a real daemon on loopback with real SQLite stores; the runner is scripted (it stands
 * for the agent: each run reports a session of its own and answers the prompt it was given)
 * and the chat is the in-process fake channel.
 */

import assert from "node:assert/strict";
import type { JobRunner } from "../../src/queue/mod.ts";
import type { Job } from "../../src/store/mod.ts";
import { FakeChannel } from "../fakes/channel_fake.ts";
import { eventually, startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";

const SECRET = "s3cret-value-that-is-long-enough";

/**
 * Each run reports session `s-<id8>` (none when the payload says `nosession`); follow-ups wait
 * for `gate` when one is given.
 */
function sessionRunner(seen: Job[], gate?: Promise<void>): JobRunner {
  return {
    async run(job) {
      seen.push(job);
      if (gate && job.trigger === "follow-up") await gate;
      const nosession = (job.payload as { nosession?: boolean }).nosession === true;
      return {
        status: "completed",
        exitCode: 0,
        result: job.trigger === "follow-up" ? `answer to: ${job.prompt}` : "first answer",
        sessionId: nosession ? null : `s-${job.id.slice(0, 8)}`,
      };
    },
  };
}

async function finished(d: TestDaemon, id: string): Promise<Record<string, unknown>> {
  return await eventually(async () => {
    const job = await (await d.api(`/api/jobs/${id}`)).json();
    return job.finished_at ? job : undefined;
  });
}

function ask(d: TestDaemon, id: string, body: string): Promise<Response> {
  return d.api(`/api/jobs/${id}/follow-up`, { method: "POST", body });
}

async function post(d: TestDaemon, path: string, payload: unknown): Promise<string> {
  const res = await fetch(`${d.url}${path}`, { method: "POST", body: JSON.stringify(payload) });
  assert.equal(res.status, 202);
  return (await res.json()).job_id;
}

Deno.test("a follow-up resumes the job's session, answers in its thread and joins its conversation", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-follow-up-" });
  await writeHome(root, {
    "pylons/review/.env": `REVIEW_TOKEN=${SECRET}\n`,
    "pylons/review/pylon.yaml": "name: review\ntrigger:\n  type: webhook\n  path: /review\n" +
      "agent:\n  prompt: review it\n  env:\n    TOKEN: ${REVIEW_TOKEN}\n" +
      "channel:\n  type: telegram\n  telegram:\n    bot_token: t\n",
  });
  const seen: Job[] = [];
  const chat = new FakeChannel();
  const d = await startTestDaemon(root, {
    runner: sessionRunner(seen),
    channelFactories: { telegram: () => chat },
  });
  try {
    const first = await post(d, "/review", {
      pull_request: { html_url: "https://github.com/acme/app/pull/7" },
      issue: { html_url: "javascript:alert(1)" },
    });
    await finished(d, first);
    await eventually(() => Promise.resolve(chat.messages.some((m) => m.text.includes("first"))));

    const res = await ask(d, first, JSON.stringify({ message: `  why? use ${SECRET}  ` }));
    assert.equal(res.status, 202);
    const asked = await res.json();
    assert.equal(asked.parent_id, first);
    const second = await finished(d, asked.job_id);
    assert.equal(second.status, "completed");
    assert.equal(second.trigger, "follow-up");
    const ran = seen.find((j) => j.id === asked.job_id)!;
    assert.equal(ran.sessionId, `s-${first.slice(0, 8)}`, "resumes the first job's session");
    // Its answer goes to the first job's thread, as a chat reply's would.
    const thread = chat.messages.find((m) => m.text.includes("first answer"))!.thread;
    await eventually(() =>
      Promise.resolve(chat.messages.some((m) => m.text.includes("answer to: why?")))
    );
    const answer = chat.messages.find((m) => m.text.includes("answer to: why?"))!;
    assert.deepEqual(answer.thread, thread);
    assert.equal(chat.threads.length, 1, "no new thread");

    // The rendered prompt is shown redacted; relations both ways; links only https ones.
    assert.equal(second.prompt, "why? use [redacted]");
    assert.deepEqual((second.parents as { id: string }[]).map((p) => p.id), [first]);
    const shown = await (await d.api(`/api/jobs/${first}`)).json();
    assert.equal(shown.prompt, null, "the scripted runner renders no prompt");
    assert.deepEqual(shown.follow_ups.map((f: { id: string }) => f.id), [asked.job_id]);
    assert.equal(shown.follow_ups[0].status, "completed");
    assert.deepEqual(shown.parents, []);
    assert.deepEqual(shown.links.filter((l: { kind: string }) => l.kind !== "telegram"), [
      { kind: "pull_request", url: "https://github.com/acme/app/pull/7" },
    ]);

    // Asking the first job again continues from the newest answer, not the older session.
    const again = await (await ask(d, first, '{"message": "and then?"}')).json();
    await finished(d, again.job_id);
    const third = seen.find((j) => j.id === again.job_id)!;
    assert.equal(third.sessionId, `s-${asked.job_id.slice(0, 8)}`);
    assert.equal(third.parentId, first, "follow-ups all point at the conversation's first job");
    await d.waitForLog(/job\.follow_up.*via=api/);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a follow-up is refused without a session, before the job finished, or with a bad message", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-follow-up-refused-" });
  await writeHome(root, {
    "pylons/plain/pylon.yaml": "name: plain\ntrigger:\n  type: webhook\n  path: /plain\n" +
      "agent:\n  prompt: p\n",
    "pylons/gate/pylon.yaml": "name: gate\ntrigger:\n  type: webhook\n  path: /gate\n" +
      "agent:\n  prompt: p\nchannel:\n  approval: true\n",
  });
  const gate = Promise.withResolvers<void>();
  const d = await startTestDaemon(root, { runner: sessionRunner([], gate.promise) });
  try {
    const plain = await post(d, "/plain", {});
    await finished(d, plain);
    const bad: [string, RegExp][] = [
      ['{"message": "   "}', /message is empty/],
      ["not json", /not valid JSON/],
      ['{"text": "hi"}', /needs "message"/],
      [JSON.stringify({ message: "x".repeat(16_001) }), /more than 16000/],
      [JSON.stringify({ message: "x".repeat(300_000) }), /longer than 16000/],
    ];
    for (const [body, why] of bad) {
      const res = await ask(d, plain, body);
      assert.equal(res.status, 400, body.slice(0, 40));
      assert.match((await res.json()).error, why);
    }
    const unknown = await ask(d, "00000000-0000-4000-8000-000000000000", '{"message": "hi"}');
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
    const anonymous = await fetch(`${d.url}/api/jobs/${plain}/follow-up`, {
      method: "POST",
      body: '{"message": "hi"}',
    });
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();

    const nosession = await post(d, "/plain", { nosession: true });
    await finished(d, nosession);
    const noSession = await ask(d, nosession, '{"message": "hi"}');
    assert.equal(noSession.status, 409);
    assert.match((await noSession.json()).error, /no agent session to resume/);

    const waiting = await post(d, "/gate", {});
    const early = await ask(d, waiting, '{"message": "hi"}');
    assert.equal(early.status, 409);
    assert.match(
      (await early.json()).error,
      /is awaiting_approval; ask again when it has finished/,
    );

    const jobs = await (await d.api("/api/jobs?trigger=follow-up")).json();
    assert.deepEqual(jobs, [], "no refused question made a job");

    // Two questions at once: the second finds the first one's job unfinished.
    const both = await Promise.all([
      ask(d, plain, '{"message": "one"}'),
      ask(d, plain, '{"message": "two"}'),
    ]);
    assert.deepEqual(both.map((r) => r.status).sort(), [202, 409]);
    const refused = both.find((r) => r.status === 409)!;
    assert.match((await refused.json()).error, /is (queued|running); ask again/);
    await both.find((r) => r.status === 202)!.body?.cancel();
  } finally {
    gate.resolve();
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
