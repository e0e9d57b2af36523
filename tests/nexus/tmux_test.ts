/**
 * `pylon nexus` in a real terminal (tmux, 80×24) beside a real daemon on loopback: navigate,
 * watch a webhook job appear, read its log (hostile escapes included), kill it, approve a
 * waiting job, build a message template from its payload, fire a cron pylon, turn a pylon off
 * and on, and quit back to a working shell.
 */

import assert from "node:assert/strict";
import { eventually, startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { freePort } from "../_helpers/process.ts";
import { holdingRunner, HOSTILE, nexusHome } from "./_home.ts";
import { nexusCommandLine, nexusEnv, openTerminal, type Terminal, TMUX_IGNORE } from "./_tmux.ts";

async function post(d: TestDaemon, path: string): Promise<{ status: number; id?: string }> {
  const res = await fetch(`${d.url}${path}`, { method: "POST", body: '{"title":"x"}' });
  const body = await res.json().catch(() => ({})) as { job_id?: string };
  return { status: res.status, ...(body.job_id ? { id: body.job_id } : {}) };
}

async function jobStatus(d: TestDaemon, id: string): Promise<string> {
  const res = await d.api(`/api/jobs/${id}`);
  return ((await res.json()) as { status: string }).status;
}

/** Rows 0 and 1 of a screen: the frame nexus drew. */
function frameIntact(screen: string): boolean {
  const rows = screen.split("\n");
  return /pylon nexus v/.test(rows[0] ?? "") && /^PYLONS\s+│/.test(rows[1] ?? "");
}

Deno.test({
  name: "pylon nexus drives pylons and jobs in an 80x24 terminal and leaves it as it was",
  ignore: TMUX_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await nexusHome();
    const runner = holdingRunner(() => `${root}/jobs`, () => `working on it\n${HOSTILE}`);
    const d = await startTestDaemon(root, { runner });
    const env = nexusEnv(root);
    await using term: Terminal = await openTerminal(env);
    try {
      await term.waitFor(/^PROMPT>\s*$/m);
      await term.line(nexusCommandLine());
      let screen = await term.waitFor(/daemon ON/, 60_000);
      assert.equal(await term.display("#{alternate_on}"), "1");
      assert.match(screen, /▸◆ gated/);
      assert.ok(frameIntact(screen), screen);

      // Navigate to `hook` and open its detail.
      await term.keys("j", "l");
      screen = await term.waitFor(/Trigger\s+webhook \/hook/);
      assert.match(screen, /no jobs yet/);

      // A webhook job appears live.
      const first = await post(d, "/hook");
      assert.equal(first.status, 202);
      const id8 = first.id!.slice(0, 8);
      await term.waitFor(new RegExp(`${id8} running`));

      // Its log: text and colours, none of the escapes.
      await term.keys("l");
      screen = await term.waitFor(/after-escapes/);
      assert.match(screen, /working on it/);
      assert.match(screen, /OVERWRITEred-text after-escapes/);
      // The agent's colour reaches the terminal: tmux holds "red-text" in red.
      assert.ok(
        (await term.screenWithEscapes()).includes("\x1b[31mred-text"),
        "the log pane keeps the agent's colours",
      );
      assert.ok(frameIntact(screen), `the frame was damaged:\n${screen}`);
      assert.equal(await term.display("#{alternate_on}"), "1");
      assert.doesNotMatch(await term.display("#{pane_title}"), /PWNED/);

      // Kill it from the log pane.
      await term.keys("x");
      await term.waitFor(/Kill job .* \(running\)\? \[y\/N\]/);
      await term.keys("y");
      await eventually(async () => (await jobStatus(d, first.id!)) === "killed", 10_000);
      await term.waitFor(new RegExp(`LOG hook ${id8} killed`));
      // x on the finished job changes nothing.
      await term.keys("Escape", "x");
      await term.waitFor(/a finished job stays as it is/);
      assert.equal(await jobStatus(d, first.id!), "killed");

      // A job waiting for approval shows in "needs you"; approve it there.
      const waiting = await post(d, "/gated");
      assert.equal(waiting.status, 202);
      await term.waitFor(/needs you: 1/);
      await term.keys("n");
      await term.waitFor(new RegExp(`awaiting approval gated ${waiting.id!.slice(0, 8)}`));
      await term.keys("a");
      await term.waitFor(/Nothing is waiting for you/);
      await eventually(async () => (await jobStatus(d, waiting.id!)) !== "awaiting_approval");
      // It runs and completes: its cost shows on its row and in today's spend of its pylon.
      runner.release();
      await eventually(async () => (await jobStatus(d, waiting.id!)) === "completed", 10_000);
      await term.waitFor(/◆ gated\s+\$0\.42/);

      // `a` on gated: the message template builder lists its newest payload's fields; one is
      // checked with space, previewed, and saved as channel.message on enter.
      await term.keys("Escape", "h", "k", "l", "a");
      await term.waitFor(/MESSAGE TEMPLATE gated/);
      await term.waitFor(/\[ \] title\s+"x"/);
      await term.keys("j", "Space");
      await term.waitFor(/\[x\] title/);
      await term.waitFor(/^\s*│?\s*Title: x\s*$/m);
      await term.keys("Enter");
      await term.waitFor(/saved channel\.message of gated/);
      const gatedYaml = await Deno.readTextFile(`${root}/pylons/gated/pylon.yaml`);
      assert.match(gatedYaml, /message: "?Title: \{\{ \.body\.title \}\}"?/);
      assert.match(gatedYaml, /approval: true/);
      await term.waitFor(/Message\s+Title: \{\{ \.body\.title \}\}/);
      await term.keys("h", "j");

      // Fire the cron pylon.
      await term.keys("Escape", "h", "j", "l");
      await term.waitFor(/Trigger\s+cron 0 9 \* \* 1-5/);
      await term.keys("f");
      await term.waitFor(/Fire nightly now\? \[y\/N\]/);
      await term.keys("y");
      await term.waitFor(/nightly fired: job [0-9a-f]{8}/);
      const fired = await d.api("/api/jobs?pylon=nightly");
      assert.equal(((await fired.json()) as unknown[]).length, 1);

      // Turn `hook` off: the daemon stops running jobs for its path; on again: it does.
      await term.keys("h", "k", "x");
      await term.waitFor(/hook disabled/);
      await term.waitFor(/◇ hook/);
      const ignored = await post(d, "/hook");
      assert.ok([200, 404].includes(ignored.status), `a disabled pylon answered ${ignored.status}`);
      assert.equal(ignored.id, undefined, "no job for a disabled pylon");
      await term.keys("x");
      await term.waitFor(/hook enabled/);
      await eventually(async () => (await post(d, "/hook")).status === 202, 10_000);

      // Quit: the normal screen is back and the shell answers.
      await term.keys("q");
      await term.waitFor(/^PROMPT>\s*$/m);
      assert.equal(await term.display("#{alternate_on}"), "0");
      await term.line("echo shell-ok-$((40+2))");
      await term.waitFor(/shell-ok-42/);
    } finally {
      runner.release();
      await d.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "pylon nexus without a daemon reads the files, resizes, honours NO_COLOR and quits on Ctrl+C",
  ignore: TMUX_IGNORE,
  async fn() {
    const root = await nexusHome();
    const env = nexusEnv(root, { NO_COLOR: "1" });
    // A free port: no daemon answers until `d` starts one there.
    await Deno.writeTextFile(
      `${root}/config.yaml`,
      `server:\n  host: 127.0.0.1\n  port: ${freePort()}\n`,
    );
    const editor = `${root}/editor.sh`;
    await Deno.writeTextFile(
      editor,
      "#!/bin/sh\nsed -i 's/^description: .*$/description: Edited in the test'\\''s editor/' \"$1\"\n",
    );
    await Deno.chmod(editor, 0o755);
    env.EDITOR = editor;
    env.VISUAL = editor;
    await using term: Terminal = await openTerminal(env);
    try {
      await term.waitFor(/^PROMPT>\s*$/m);
      await term.line(nexusCommandLine());
      let screen = await term.waitFor(/daemon OFF \(read-only; d starts it\)/, 60_000);
      assert.match(screen, /◆ nightly/);
      // NO_COLOR: no colour sequences on the screen.
      const escapes = await term.screenWithEscapes();
      // deno-lint-ignore no-control-regex
      assert.doesNotMatch(escapes, /\x1b\[(?:[0-9]*;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]/);
      // Too narrow, then wide again.
      await term.resize(50, 24);
      await term.waitFor(/Terminal too small/);
      await term.resize(100, 30);
      screen = await term.waitFor(/pylon nexus v/);
      assert.ok(frameIntact(screen), screen);
      // `e` runs `pylon edit` on the terminal, then nexus comes back with the change.
      await term.keys("j", "e");
      await term.waitFor(/Press Enter to return to nexus/);
      assert.equal(await term.display("#{alternate_on}"), "0");
      await term.keys("Enter");
      await term.waitFor(/hook\s+Edited in the test's editor/);
      // Ctrl+C while a command runs on the terminal stops that command; the dashboard returns.
      await term.keys("e");
      await term.waitFor(/Press Enter to return to nexus/);
      await term.keys("C-c");
      screen = await term.waitFor(/pylon nexus v/);
      assert.ok(frameIntact(screen), screen);
      assert.equal(await term.display("#{alternate_on}"), "1");
      // `d` starts a detached daemon (logging to daemon.log) and nexus goes live; `d`, `y`
      // stops it again.
      await term.keys("d");
      await term.waitFor(/daemon ON/, 30_000);
      await term.waitFor(/started the daemon \(log: .*daemon\.log\)/);
      assert.match(await Deno.readTextFile(`${root}/daemon.log`), /daemon\.listening/);
      await term.keys("d");
      await term.waitFor(/Stop the daemon\? Running agents keep running\. \[y\/N\]/);
      await term.keys("y");
      await term.waitFor(/daemon OFF/, 30_000);
      await term.keys("C-c");
      await term.waitFor(/^PROMPT>\s*$/m);
      assert.equal(await term.display("#{alternate_on}"), "0");

      // SIGTERM (a closing SSH session, `kill`) also puts the terminal back.
      await term.line("clear");
      await term.line(nexusCommandLine());
      await term.waitFor(/daemon OFF/, 60_000);
      const shell = await term.display("#{pane_pid}");
      const ps = await new Deno.Command("ps", { args: ["-o", "pid=", "--ppid", shell] }).output();
      const pid = Number(new TextDecoder().decode(ps.stdout).trim().split(/\s+/)[0]);
      assert.ok(pid > 0, "nexus runs as the shell's child");
      Deno.kill(pid, "SIGTERM");
      await term.waitFor(/^PROMPT>\s*$/m);
      assert.equal(await term.display("#{alternate_on}"), "0");
      await term.line("echo after-term-$((6*7))");
      await term.waitFor(/after-term-42/);
    } finally {
      // No daemon of this test outlives it, whatever happened above.
      const pid = await Deno.readTextFile(`${root}/daemon.pid`).then((t) => JSON.parse(t).pid)
        .catch(() => undefined);
      if (typeof pid === "number") {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await Deno.remove(root, { recursive: true });
    }
  },
});
