import assert from "node:assert/strict";
import {
  type Effect,
  handleKey,
  initialState,
  LOG_LINE_CHARS,
  LOG_LINES,
  type NexusState,
  withLogText,
  withSnapshot,
} from "../../src/nexus/state.ts";
import { job, pylon, snapshot } from "./_fixtures.ts";

/** Presses keys in order; returns the last state and every effect. */
function press(s: NexusState, ...keys: string[]): { state: NexusState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const k of keys) {
    const r = handleKey(s, k);
    s = r.state;
    effects.push(...r.effects);
  }
  return { state: s, effects };
}

function withJobs(...jobs: ReturnType<typeof job>[]): NexusState {
  return withSnapshot(
    initialState(),
    snapshot([
      pylon("alpha"),
      pylon("nightly", {
        trigger: {
          type: "cron",
          cron: "0 9 * * *",
          description: null,
          timezone: "UTC",
          nextRun: null,
        },
      }),
    ], jobs),
  );
}

Deno.test("handleKey: x on a finished job changes nothing and says so", () => {
  for (const status of ["completed", "failed", "timed_out", "killed", "dismissed"] as const) {
    const s = withJobs(job("alpha", status));
    const r = press(s, "l", "x");
    assert.deepEqual(r.effects, [], status);
    assert.equal(r.state.confirm, null);
  }
  const r = press(withJobs(job("alpha", "completed")), "l", "x");
  assert.match(r.state.flash!.text, /is completed: a finished job stays as it is/);
});

Deno.test("handleKey: x on a running job asks, and y kills it", () => {
  const running = job("alpha", "running");
  const asked = press(withJobs(running), "l", "x");
  assert.match(asked.state.confirm!.question, /Kill job/);
  assert.deepEqual(asked.effects, []);
  assert.deepEqual(press(asked.state, "y").effects, [{
    kind: "action",
    action: { kind: "kill", job: running.id },
  }]);
  assert.deepEqual(press(asked.state, "n").effects, []);
});

Deno.test("handleKey: moving through pylons and jobs, and back", () => {
  const older = job("alpha", "completed");
  const newer = job("alpha", "failed");
  let s = withJobs(older, newer);
  assert.equal(s.selected, "alpha");
  s = press(s, "j").state;
  assert.equal(s.selected, "nightly");
  s = press(s, "k", "enter").state;
  assert.equal(s.focus, "detail");
  s = press(s, "j").state;
  assert.equal(s.jobIndex, 1);
  const retry = press(s, "r", "y");
  assert.deepEqual(retry.effects, [{ kind: "action", action: { kind: "retry", job: older.id } }]);
  assert.equal(press(s, "esc").state.focus, "list");
});

Deno.test("handleKey: x on the pylon list toggles the pylon", () => {
  const s = withJobs();
  assert.deepEqual(press(s, "x").effects, [{
    kind: "action",
    action: { kind: "disable", pylon: "alpha" },
  }]);
  const off = withSnapshot(initialState(), snapshot([pylon("alpha", { state: "disabled" })], []));
  assert.deepEqual(press(off, "x").effects, [{
    kind: "action",
    action: { kind: "enable", pylon: "alpha" },
  }]);
});

Deno.test("handleKey: f fires only cron pylons, after y", () => {
  const s = withJobs();
  const webhook = press(s, "l", "f");
  assert.deepEqual(webhook.effects, []);
  assert.match(webhook.state.flash!.text, /fires cron pylons/);
  const cron = press(s, "j", "l", "f", "y");
  assert.deepEqual(cron.effects, [{ kind: "action", action: { kind: "fire", pylon: "nightly" } }]);
});

Deno.test("handleKey: d starts a stopped daemon at once and asks before stopping one", () => {
  const on = withJobs();
  assert.deepEqual(press(on, "d").effects, []);
  assert.deepEqual(press(on, "d", "y").effects, [{ kind: "daemon", start: false }]);
  const off = withSnapshot(initialState(), snapshot([pylon("alpha")], [], { daemon: false }));
  assert.deepEqual(press(off, "d").effects, [{ kind: "daemon", start: true }]);
});

Deno.test("handleKey: wizards and commands run as the CLI", () => {
  const s = withJobs();
  assert.deepEqual(press(s, "c").effects, [{ kind: "cli", argv: ["construct"], ask: "name" }]);
  assert.deepEqual(press(s, "e").effects, [{ kind: "cli", argv: ["edit", "alpha"] }]);
  assert.deepEqual(press(s, "D").effects, [{ kind: "cli", argv: ["destroy", "alpha"] }]);
  assert.deepEqual(press(s, "g").effects, [{ kind: "cli", argv: ["setup"] }]);
  assert.deepEqual(press(s, "?").effects, [{ kind: "cli", argv: ["doctor"] }]);
  assert.deepEqual(press(s, "u").effects, [], "no update known: u does nothing");
  assert.deepEqual(press({ ...s, upgrade: "9.9.9" }, "u").effects, [{
    kind: "cli",
    argv: ["upgrade"],
  }]);
  assert.deepEqual(press(s, "q").effects, [{ kind: "quit" }]);
  assert.deepEqual(press(s, "l", "ctrl+c").effects, [{ kind: "quit" }]);
});

Deno.test("handleKey: the needs-you view approves jobs and decides tool calls", () => {
  const waiting = job("alpha", "awaiting_approval");
  const held = job("alpha", "held");
  const running = job("alpha", "running", { waiting: "tool approval" });
  const s = withSnapshot(
    initialState(),
    snapshot([pylon("alpha")], [waiting, held, running], {
      toolCalls: [{
        jobId: running.id,
        pylon: "alpha",
        callId: "c1",
        tool: "Bash",
        summary: "rm -rf build",
        rule: null,
        expiresAt: null,
      }],
    }),
  );
  const needs = press(s, "n").state;
  assert.equal(needs.view, "needs");
  const call = { job: running.id, call: "c1" };
  assert.deepEqual(press(needs, "a").effects, [{
    kind: "action",
    action: { kind: "allow", ...call },
  }]);
  assert.deepEqual(press(needs, "A").effects, [{
    kind: "action",
    action: { kind: "allow_for_job", ...call },
  }]);
  assert.deepEqual(press(needs, "i").effects, [{
    kind: "action",
    action: { kind: "deny", ...call },
  }]);
  // Newest first: the held job, then the one awaiting approval.
  assert.deepEqual(press(needs, "j", "a").effects, [{
    kind: "action",
    action: { kind: "approve", job: held.id },
  }]);
  assert.deepEqual(press(needs, "j", "j", "i").effects, [{
    kind: "action",
    action: { kind: "ignore", job: waiting.id },
  }]);
  const ignoreHeld = press(needs, "j", "i");
  assert.deepEqual(ignoreHeld.effects, []);
  assert.match(ignoreHeld.state.flash!.text, /only a job awaiting approval is ignored/);
  assert.equal(press(needs, "esc").state.view, "home");
});

Deno.test("withSnapshot keeps the selected pylon when the list changes", () => {
  let s = withJobs();
  s = press(s, "j").state;
  s = withSnapshot(s, snapshot([pylon("aaa"), pylon("alpha"), pylon("nightly")], []));
  assert.equal(s.selected, "nightly");
  s = withSnapshot(s, snapshot([pylon("alpha")], []));
  assert.equal(s.selected, "alpha");
});

Deno.test("withLogText splits lines, keeps a partial line, and caps the pane", () => {
  const running = job("alpha", "running");
  let s = press(withJobs(running), "l", "l").state;
  assert.equal(s.view, "log");
  s = withLogText(s, running.id, "one\ntw");
  s = withLogText(s, running.id, "o\nthree");
  assert.deepEqual(s.log!.lines, ["one", "two"]);
  assert.equal(s.log!.partial, "three");
  s = withLogText(s, "another-job", "ignored\n");
  assert.deepEqual(s.log!.lines, ["one", "two"]);
  s = withLogText(s, running.id, "x\n".repeat(LOG_LINES + 10));
  assert.equal(s.log!.lines.length, LOG_LINES);
  // An agent printing megabytes without a newline: shown in pieces, memory stays bounded, and
  // no piece ends inside a colour sequence.
  const colored = "\x1b[31mred\x1b[0m ".repeat(200_000);
  s = withLogText(s, running.id, colored);
  assert.ok(s.log!.partial.length <= LOG_LINE_CHARS);
  assert.ok(s.log!.lines.every((l) => l.length <= LOG_LINE_CHARS + 8));
  // deno-lint-ignore no-control-regex
  assert.ok(s.log!.lines.slice(-10).every((l) => !/\x1b\[[0-9;]*$/.test(l)));
  s = withLogText(s, running.id, "x".repeat(LOG_LINE_CHARS * 3) + "\n");
  // deno-lint-ignore no-control-regex
  assert.match(s.log!.lines.at(-1)!, /x\x1b\[0m…$/);
  const closed = press(s, "esc");
  assert.equal(closed.state.log, null);
  assert.deepEqual(closed.effects, [{ kind: "close_log" }]);
});
