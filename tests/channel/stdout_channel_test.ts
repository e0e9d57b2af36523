/**
 * The `stdout` channel: one readable account per job. The agent's lines (printed by the runner)
 * are not printed again with the result, tool events appear as lines, a failed job shows its
 * error and result, and nothing is fenced in Markdown. Driven directly, then through a daemon
 * whose runner prints output and writes tool events.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { StdoutChannel } from "../../src/channel/stdout.ts";
import { alreadyPrinted, shownText, StreamedLines } from "../../src/channel/stdout_lines.ts";
import type { JobRunner } from "../../src/queue/mod.ts";
import type { Job } from "../../src/store/mod.ts";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { fakeJob } from "../fakes/job.ts";

function job(overrides: Partial<Job> = {}): Job {
  return fakeJob({
    id: "1a2b3c4d-0000-4000-8000-000000000000",
    pylon: "triage",
    ...overrides,
  });
}

const P = "[triage 1a2b3c4d] ";
const STARTED = new Date("2026-11-24T10:00:05Z");
const FINISHED = new Date("2026-11-24T10:00:47Z");

/** Drives a channel through queued → running → `end`, printing `output` as the runner would. */
async function account(end: Partial<Job>, output: string[], events: string[][] = []) {
  const printed: string[] = [];
  const streamed = new StreamedLines();
  const channel = new StdoutChannel((l) => printed.push(...l.split("\n")), { streamed });
  let state = await channel.report({ job: job(), topic: "ZeroDivisionError", message: null }, {});
  state = await channel.report(
    { job: job({ status: "running", startedAt: STARTED }), topic: null, message: null },
    state,
  );
  for (const line of output) {
    streamed.record(job().id, P + line);
    printed.push(P + line);
  }
  for (const batch of events) channel.progress(job({ status: "running" }), batch);
  const last = job({ startedAt: STARTED, finishedAt: FINISHED, ...end });
  await channel.report({ job: last, topic: null, message: null }, state);
  return printed;
}

function assertNoRepeats(lines: string[]): void {
  const seen = new Set<string>();
  for (const line of lines) {
    assert.ok(!seen.has(line), `printed twice: ${line}\n${lines.join("\n")}`);
    seen.add(line);
  }
}

Deno.test("StdoutChannel prints a completed job once: header, output, events, footer", async () => {
  const result = "Fixed the division.\n\nSee `calc.py`.";
  const printed = await account(
    { status: "completed", exitCode: 0, result },
    ["Looking at calc.py", ...result.split("\n")],
    [["Read: calc.py"], ["Read: calc.py", "Edit: calc.py"], ["Read: calc.py", "Edit: calc.py"]],
  );
  assertNoRepeats(printed);
  assert.deepEqual(printed, [
    `${P}▶ New webhook job: ZeroDivisionError`,
    `${P}⚙ Agent started.`,
    `${P}Looking at calc.py`,
    `${P}Fixed the division.`,
    `${P}`,
    `${P}See \`calc.py\`.`,
    `${P}• Read: calc.py`,
    `${P}• Edit: calc.py`,
    `${P}✅ Completed in 42s. The result is the output above.`,
  ]);
  assert.ok(!printed.some((l) => l.includes("```")), "no Markdown fences");
});

Deno.test("StdoutChannel prints a result the output did not show", async () => {
  const printed = await account({ status: "completed", result: "The **answer**: 42" }, [
    "thinking…",
    '{"type":"result","result":"another run"}',
  ]);
  assert.equal(printed.at(-2), `${P}✅ Completed in 42s. Result:`);
  assert.equal(printed.at(-1), `${P}The **answer**: 42`);
});

/** What Claude Code prints with `--output-format json`: one line, the result inside. */
const CLAUDE_RESULT = JSON.stringify({
  type: "result",
  subtype: "success",
  "is_error": false,
  "num_turns": 3,
  result: "Fixed the division.\n\nSee `calc.py`.",
  "session_id": "5f0c",
  "total_cost_usd": 0.42,
});

Deno.test("StdoutChannel does not print Claude's result again after its JSON line", async () => {
  const result = "Fixed the division.\n\nSee `calc.py`.";
  const printed = await account({ status: "completed", result }, [CLAUDE_RESULT]);
  assert.deepEqual(printed.slice(-2), [
    `${P}${CLAUDE_RESULT}`,
    `${P}✅ Completed in 42s. The result is the output above (the agent's JSON \`result\`).`,
  ]);
  assert.ok(!printed.some((l) => l === `${P}Fixed the division.`), printed.join("\n"));
});

Deno.test("StdoutChannel reads the text of stream-json assistant lines and a failed result", async () => {
  const assistant = JSON.stringify({
    type: "assistant",
    message: {
      content: [{ type: "tool_use", name: "Bash" }, { type: "text", text: "Tests fail:\n2 of 9" }],
    },
  });
  const printed = await account(
    { status: "failed", exitCode: 1, error: "Tests fail:\n2 of 9", result: "Tests fail:\n2 of 9" },
    [assistant],
  );
  assert.equal(printed.at(-1), `${P}❌ Failed in 42s (exit code 1): the error is the output above`);
});

Deno.test("StdoutChannel prints a failed job's error and result plainly", async () => {
  const printed = await account({
    status: "failed",
    exitCode: 3,
    error: "npm test failed: 2 tests",
    result: "I could not make the tests pass.\nsee test/calc_test.ts",
  }, ["running npm test"]);
  assertNoRepeats(printed);
  assert.deepEqual(printed.slice(-4), [
    `${P}❌ Failed in 42s (exit code 3): npm test failed: 2 tests`,
    `${P}Result:`,
    `${P}I could not make the tests pass.`,
    `${P}see test/calc_test.ts`,
  ]);
  assert.ok(!printed.some((l) => l.includes("```")), "no Markdown fences");
});

Deno.test("StdoutChannel shows how to approve, then the decision", async () => {
  const printed: string[] = [];
  const channel = new StdoutChannel((l) => printed.push(...l.split("\n")));
  const waiting = job({ status: "awaiting_approval" });
  let state = await channel.report({ job: waiting, topic: null, message: "**Sentry**: boom" }, {});
  state = await channel.report({ job: job(), topic: null, message: null }, state);
  await channel.report({ job: job({ status: "dismissed" }), topic: null, message: null }, state);
  assert.deepEqual(printed, [
    `${P}▶ New webhook job`,
    `${P}Sentry: boom`,
    `${P}Waiting for approval: pylon approve 1a2b3c4d  |  pylon ignore 1a2b3c4d`,
    `${P}Approved.`,
    `${P}🚫 Dismissed.`,
  ]);
});

Deno.test("StdoutChannel writes the lines of one turn at once, in order", async () => {
  const writes: string[] = [];
  const channel = new StdoutChannel((text) => writes.push(text));
  const jobs = ["1", "2", "3"].map((n) => job({ id: `${n}a2b3c4d-0000-4000-8000-000000000000` }));
  // A group commit's jobs are announced in one turn: one write carries all their lines.
  const reports = jobs.map((j) => channel.report({ job: j, topic: "Hi", message: null }, {}));
  assert.deepEqual(writes, [], "nothing is written before the turn's microtasks are done");
  await Promise.all(reports);
  assert.deepEqual(writes, [
    "[triage 1a2b3c4d] ▶ New webhook job: Hi\n" +
    "[triage 2a2b3c4d] ▶ New webhook job: Hi\n" +
    "[triage 3a2b3c4d] ▶ New webhook job: Hi",
  ]);
  await channel.report({ job: { ...jobs[0]!, status: "running" }, topic: null, message: null }, {
    status: "queued",
  });
  assert.equal(writes.length, 2, "a later turn writes again");
});

Deno.test("StdoutChannel reports a failed write with the next report", async () => {
  let broken = true;
  const printed: string[] = [];
  const channel = new StdoutChannel((text) => {
    if (broken) throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
    printed.push(text);
  });
  await channel.report({ job: job(), topic: null, message: null }, {});
  broken = false;
  const running = job({ status: "running", startedAt: STARTED });
  await assert.rejects(
    channel.report({ job: running, topic: null, message: null }, { status: "queued" }),
    (e: Error) =>
      e.message === "Cannot write to stdout" && e.cause instanceof Deno.errors.BrokenPipe,
  );
  // Reported once: the next report prints again.
  await channel.report({ job: running, topic: null, message: null }, { status: "queued" });
  assert.deepEqual(printed, [`${P}⚙ Agent started.`]);
});

Deno.test("alreadyPrinted() finds the result among the last lines, blank lines aside", () => {
  assert.ok(alreadyPrinted("a\n\nb  ", ["x", "a", "", "b", "y"]));
  assert.ok(!alreadyPrinted("a\nb", ["a", "x", "b"]));
  assert.ok(!alreadyPrinted("a", []));
  assert.deepEqual(shownText('{"type":"result","result":"a\\nb"}'), ["a", "b"]);
  assert.deepEqual(shownText('{"type":"system","result":"a"}'), ['{"type":"system","result":"a"}']);
  assert.deepEqual(shownText("{not json}"), ["{not json}"]);
});

/**
 * A runner that prints its result as output and writes two tool events, then ends as told. It
 * starts once `started()` says the job's start was printed, as a real agent takes its time.
 */
function printingRunner(
  jobsDir: string,
  output: (line: string, jobId: string) => void,
  o: { end: "completed" | "failed"; started(): Promise<unknown> },
): JobRunner {
  return {
    async run(j, _pylon, ctx) {
      await ctx.started?.();
      await o.started();
      const prefix = `[${j.pylon} ${j.id.slice(0, 8)}] `;
      const out = join(jobsDir, j.id, "out");
      await Deno.mkdir(out, { recursive: true });
      await Deno.writeTextFile(
        join(out, "events.ndjson"),
        '{"tool":"Bash","summary":"npm test"}\n{"tool":"Edit","summary":"calc.py"}\n',
      );
      for (const line of ["working on it", "All done:", "- fixed calc.py"]) {
        output(prefix + line, j.id);
      }
      return o.end === "completed"
        ? { status: "completed", exitCode: 0, result: "All done:\n- fixed calc.py" }
        : { status: "failed", exitCode: 2, error: "tests still fail", result: "Gave up." };
    },
  };
}

for (const end of ["completed", "failed"] as const) {
  Deno.test(`a daemon's stdout shows a ${end} job once, with its tool events`, async () => {
    const root = await Deno.makeTempDir({ prefix: "pylon-stdout-" });
    await writeHome(root, {
      "pylons/calc/pylon.yaml":
        "name: calc\ntrigger:\n  type: webhook\n  path: /calc\nagent:\n  prompt: p\n",
    });
    const printed = () => d.out.join("");
    const started = () => eventually(() => Promise.resolve(printed().includes("⚙ Agent started")));
    const d = await startTestDaemon(root, {
      createRunner: (_config, output) =>
        Promise.resolve(printingRunner(join(root, "jobs"), output, { end, started })),
    });
    try {
      const res = await fetch(`${d.url}/calc`, { method: "POST", body: "{}" });
      const { job_id } = await res.json();
      const prefix = `[calc ${job_id.slice(0, 8)}] `;
      const footer = end === "completed" ? `${prefix}✅ Completed` : `${prefix}❌ Failed`;
      await eventually(() => Promise.resolve(printed().includes(footer)));
      const lines = printed().split("\n").filter((l) => l.startsWith(prefix));
      assertNoRepeats(lines);
      assert.equal(lines[0], `${prefix}▶ New webhook job`);
      assert.ok(lines.includes(`${prefix}• Bash: npm test`), lines.join("\n"));
      assert.ok(lines.includes(`${prefix}• Edit: calc.py`), lines.join("\n"));
      if (end === "completed") {
        assert.match(lines.at(-1)!, /✅ Completed in \d+s\. The result is the output above\.$/);
      } else {
        assert.match(lines.at(-3)!, /❌ Failed in \d+s \(exit code 2\): tests still fail$/);
        assert.deepEqual(lines.slice(-2), [`${prefix}Result:`, `${prefix}Gave up.`]);
      }
    } finally {
      await d.stop();
      await Deno.remove(root, { recursive: true });
    }
  });
}

Deno.test("stdout announcements store nothing with the job, and a restart does not print them again", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-stdout-" });
  await writeHome(root, {
    "pylons/calc/pylon.yaml": "name: calc\ntrigger:\n  type: webhook\n  path: /calc\n" +
      "channel:\n  type: stdout\n  approval: true\nagent:\n  prompt: p\n",
  });
  let d = await startTestDaemon(root);
  try {
    const res = await fetch(`${d.url}/calc`, { method: "POST", body: "{}" });
    const { job_id } = await res.json();
    const prefix = `[calc ${job_id.slice(0, 8)}] `;
    const printed = () => d.out.join("").split("\n").filter((l) => l.startsWith(prefix));
    await eventually(() => Promise.resolve(printed().some((l) => l.includes("pylon approve"))));
    assert.deepEqual(printed().map((l) => l.slice(prefix.length, prefix.length + 12)), [
      "▶ New webhoo",
      "Waiting for ",
    ]);
    const job = await (await fetch(`${d.url}/api/jobs/${job_id}`, {
      headers: { authorization: `Bearer ${d.token}` },
    })).json();
    assert.equal(job.status, "awaiting_approval");
    await d.stop();
    const stored = new DatabaseSync(join(root, "data", "calc", "jobs.db"), { readOnly: true });
    try {
      const row = stored.prepare("SELECT notified, thread FROM jobs WHERE id = ?").get(job_id);
      assert.deepEqual({ ...row }, { notified: null, thread: null });
    } finally {
      stored.close();
    }
    // A second daemon on the same home: the job is still waiting, and nothing is printed again.
    d = await startTestDaemon(root);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(printed(), []);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
