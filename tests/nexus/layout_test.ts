import assert from "node:assert/strict";
import { diamond, layout, type Line, type Screen } from "../../src/nexus/layout.ts";
import {
  handleKey,
  initialState,
  withBuilderPayload,
  withLogText,
  withSnapshot,
} from "../../src/nexus/state.ts";
import { job, pylon, snapshot } from "./_fixtures.ts";

const NOW = new Date("2026-12-05T10:05:00Z");

function text(line: Line): string {
  return line.map((s) => s.text).join("");
}

/** The screen as plain rows, the sidebar and panel side by side. */
function rows(screen: Screen): string[] {
  const body = screen.sidebar.map((l, i) =>
    text(l).padEnd(screen.sidebarWidth).slice(0, screen.sidebarWidth) + "│" +
    text(screen.panel[i] ?? [])
  );
  return [text(screen.header), ...body, text(screen.status), text(screen.hints)];
}

const ctx = { columns: 80, rows: 24, now: NOW, version: "0.1.0", tick: 0 };

Deno.test("layout() fits 80x24 with a free last row, and shows the pylon's detail", () => {
  const s = withSnapshot(
    initialState(),
    snapshot([
      pylon("alpha", { costToday: 1.5, description: "Sentry issues" }),
      pylon("nightly", {
        state: "disabled",
        trigger: {
          type: "cron",
          cron: "0 9 * * 1-5",
          description: "At 09:00 AM, Monday through Friday",
          timezone: "UTC",
          nextRun: new Date("2026-12-07T09:00:00Z"),
        },
      }),
    ], [job("alpha", "completed"), job("alpha", "running")]),
  );
  const screen = layout(s, ctx);
  const all = rows(screen);
  assert.equal(all.length, 23);
  assert.equal(screen.sidebar.length, screen.panel.length);
  const joined = all.join("\n");
  assert.match(joined, /◆ alpha\s+\$1\.50/);
  assert.match(joined, /◇ nightly/);
  assert.match(joined, /URL\s+http:\/\/localhost:8080\/alpha/);
  assert.match(joined, /ID\s+STATUS\s+TRIGGERED\s+DURATION\s+COST/);
  assert.match(joined, /running/);
  assert.match(joined, /completed\s+Dec 05 10:00\s+1m 00s\s+\$0\.25/);

  const cron = layout(handleKey(s, "j").state, ctx);
  const cronText = rows(cron).join("\n");
  assert.match(cronText, /Next run\s+Mon Dec 07 09:00\s+\(in 1d 22h\)/);
  assert.match(cronText, /disabled \(x enables\)/);
});

Deno.test("layout() asks for a bigger window below 60 columns", () => {
  const screen = layout(initialState(), { ...ctx, columns: 50 });
  assert.match(screen.tooSmall!, /at least 60/);
});

Deno.test("layout() offers construct and setup when there are no pylons", () => {
  const s = withSnapshot(initialState(), snapshot([], [], { daemon: false }));
  const all = rows(layout(s, ctx)).join("\n");
  assert.match(all, /Press c to construct one, or g to run the setup wizard/);
  assert.match(all, /daemon OFF \(read-only; d starts it\)/);
});

Deno.test("layout() shows a failed job's error under its row and the end of a log", () => {
  const failed = job("alpha", "failed");
  let s = withSnapshot(initialState(), snapshot([pylon("alpha")], [failed]));
  s = handleKey(s, "l").state;
  assert.match(rows(layout(s, ctx)).join("\n"), /↳ the agent exited with code 1/);
  s = handleKey(s, "l").state;
  s = withLogText(s, failed.id, Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(""));
  const log = rows(layout(s, ctx)).join("\n");
  assert.match(log, /line 99/);
  assert.doesNotMatch(log, /line 10\b/);
});

Deno.test("layout() drops escape sequences from job errors, descriptions and prompts", () => {
  const evil = "\x1b]0;PWNED\x07\x1b[2Jboom\nnext";
  const failed = job("alpha", "failed", { error: evil });
  let s = withSnapshot(
    initialState(),
    snapshot([pylon("alpha", { description: evil, prompt: evil })], [failed]),
  );
  s = handleKey(s, "l").state;
  const screen = layout(s, ctx);
  const all = [...screen.sidebar, ...screen.panel, screen.status].flat();
  assert.ok(
    // deno-lint-ignore no-control-regex
    all.every((seg) => !/[\x00-\x08\x0a-\x1f\x7f]/.test(seg.text)),
    "no control characters",
  );
  assert.match(rows(screen).join("\n"), /↳ boom next/);
});

Deno.test("layout() shows a job waiting on a tool approval, and the template builder's preview", () => {
  const waiting = job("alpha", "running", { waiting: "tool approval" });
  let s = withSnapshot(initialState(), snapshot([pylon("alpha")], [waiting]));
  s = handleKey(s, "l").state;
  let screen = rows(layout(s, ctx));
  assert.match(screen.join("\n"), new RegExp(`${waiting.id.slice(0, 8)} tool approval`));

  s = handleKey(s, "a").state;
  s = withBuilderPayload(s, "alpha", waiting.id, {
    title: "Crash \x1b]0;PWNED\x07on checkout",
    user: { login: "mallory" },
  });
  for (const key of [" ", "j", " ", "j", " ", "j", " "]) s = handleKey(s, key).state;
  screen = rows(layout(s, ctx));
  assert.equal(screen.length, 23, "the builder fits 80x24 too");
  const all = screen.join("\n");
  assert.match(all, /MESSAGE TEMPLATE alpha/);
  assert.match(all, /\[x\] title/);
  assert.match(all, /\[x\] login\s+"mallory"/);
  assert.match(all, /renders as:/);
  assert.match(all, /Title: Crash on checkout/);
  assert.match(all, /Login: mallory/);
  assert.doesNotMatch(all, /PWNED/);
  assert.match(screen.at(-1)!, /space check\/open\s+enter save/);
});

Deno.test("p shows the whole prompt, t hides the job table, y copies a webhook pylon's URL", () => {
  const press = (state: typeof s, ...keys: string[]) => {
    const effects = [];
    for (const k of keys) {
      const r = handleKey(state, k);
      state = r.state;
      effects.push(...r.effects);
    }
    return { state, effects };
  };
  const s = withSnapshot(
    initialState(),
    snapshot([
      pylon("alpha", { prompt: "Triage the issue.\nThen open a pull request.\nTag @ada." }),
      pylon("nightly", {
        trigger: {
          type: "cron",
          cron: "0 9 * * *",
          description: null,
          timezone: "UTC",
          nextRun: null,
        },
        webhookUrl: null,
      }),
    ], [job("alpha", "completed")]),
  );
  const detail = press(s, "l").state;
  const folded = rows(layout(detail, ctx)).join("\n");
  assert.match(folded, /Prompt\s+Triage the issue\. Then open a pull reque… \[p\]/);
  assert.doesNotMatch(folded, /^.*│ {2}Then open a pull request\.$/m);

  const open = press(detail, "p").state;
  const whole = rows(layout(open, ctx)).join("\n");
  assert.match(
    whole,
    /│ {2}Triage the issue\.\n.*│ {2}Then open a pull request\.\n.*│ {2}Tag @ada\./,
  );
  assert.match(rows(layout(press(open, "p").state, ctx)).join("\n"), /\[p\]/);

  const hidden = rows(layout(press(detail, "t").state, ctx)).join("\n");
  assert.match(hidden, /job history hidden \(t shows it\)/);
  assert.doesNotMatch(hidden, /ID\s+STATUS/);
  assert.match(rows(layout(press(detail, "t", "t").state, ctx)).join("\n"), /ID\s+STATUS/);

  const copied = press(detail, "y");
  assert.deepEqual(copied.effects, [{ kind: "copy", text: "http://localhost:8080/alpha" }]);
  assert.match(text(layout(copied.state, ctx).status), /copied http:\/\/localhost:8080\/alpha/);
  const cron = press(s, "j", "l", "y");
  assert.deepEqual(cron.effects, []);
  assert.match(text(layout(cron.state, ctx).status), /only webhook pylons have a URL to copy/);
});

Deno.test("the job history table lists a pylon's 20 newest jobs, newest first", () => {
  const jobs = Array.from({ length: 25 }, () => job("alpha", "completed"));
  const s = withSnapshot(initialState(), snapshot([pylon("alpha")], jobs));
  const all = rows(layout(s, { ...ctx, rows: 60 })).join("\n");
  const shown = [...all.matchAll(/│([0-9a-f]{8}) completed/g)].map((m) => m[1]);
  const newest = jobs.slice(-20).reverse().map((j) => j.id.slice(0, 8));
  assert.deepEqual(shown, newest);
});

Deno.test("diamond(): green while a job runs, dim when idle, empty when disabled, ◈ when broken", () => {
  const running = [job("alpha", "running")];
  assert.deepEqual(diamond(pylon("alpha"), running), { text: "◆", tone: "green" });
  assert.deepEqual(diamond(pylon("alpha"), [job("alpha", "completed")]), {
    text: "◆",
    tone: "dim",
  });
  assert.deepEqual(diamond(pylon("beta"), running), { text: "◆", tone: "dim" });
  assert.deepEqual(diamond(pylon("alpha", { state: "disabled" }), running), {
    text: "◇",
    tone: "dim",
  });
  assert.deepEqual(diamond(pylon("alpha", { state: "not_loaded" }), []), {
    text: "◈",
    tone: "red",
  });
});
