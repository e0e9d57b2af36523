/**
 * What each line of the screen says, as styled segments, computed from the state and the
 * terminal size: the header, the sidebar (pylons with their diamonds and today's spend), the
 * right panel (detail and job history, the "needs you" list, or a job's log) and the two bottom
 * lines (a message or question, and the keys of the current view). Pure, so tests read the
 * screen as text without a terminal; `view.tsx` only paints these lines.
 *
 * Every panel is cut to the rows it has: the layout fits 80×24 and grows with the window.
 *
 * @module
 */

import { stripAnsi } from "../log/mod.ts";
import { dayTime, jobDuration, oneLine, shortTime, span, usd } from "./format.ts";
import type { JobView, PylonView } from "./model.ts";
import { historyOf, needsItems, type NexusState, selectedJob, selectedPylon } from "./state.ts";
import { builderPreview, builderRows, builderTemplate } from "./template_builder.ts";

/** Colour names the view maps to the terminal's palette (ignored under `NO_COLOR`). */
export type Tone = "gold" | "green" | "red" | "yellow" | "cyan" | "dim" | "blue";

/** A run of text in one style. `ansi`: text that carries its own (sanitised) SGR colours. */
export interface Segment {
  text: string;
  tone?: Tone | undefined;
  bold?: boolean;
  inverse?: boolean;
  ansi?: boolean;
}

/** One line of text. */
export type Line = Segment[];

/** The whole screen. */
export interface Screen {
  width: number;
  height: number;
  /** Set when the window is too small: only this message shows. */
  tooSmall?: string;
  header: Line;
  sidebarWidth: number;
  sidebar: Line[];
  panel: Line[];
  status: Line;
  hints: Line;
}

/** Narrowest and shortest usable window. */
export const MIN_COLUMNS = 60;
export const MIN_ROWS = 15;

/** Facts the layout needs besides the state. */
export interface LayoutContext {
  columns: number;
  rows: number;
  now: Date;
  version: string;
  /** Animation frame of the header spinner. */
  tick: number;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Lays the screen out. */
export function layout(s: NexusState, c: LayoutContext): Screen {
  const base = {
    width: c.columns,
    height: c.rows,
    header: [],
    sidebarWidth: 0,
    sidebar: [],
    panel: [],
    status: [],
    hints: [],
  };
  if (c.columns < MIN_COLUMNS || c.rows < MIN_ROWS) {
    return {
      ...base,
      tooSmall:
        `Terminal too small (${c.columns}×${c.rows}): nexus needs at least ${MIN_COLUMNS}×${MIN_ROWS}. Resize, or press q to quit.`,
    };
  }
  // Header, status line and hints, plus one row left free: Ink repaints the whole screen (a
  // flicker) when its output is as tall as the terminal.
  const bodyRows = c.rows - 4;
  const sidebarWidth = Math.min(28, Math.max(18, Math.floor(c.columns * 0.26)));
  const panelWidth = c.columns - sidebarWidth - 1;
  return {
    ...base,
    header: header(s, c),
    sidebarWidth,
    sidebar: sidebar(s, bodyRows, sidebarWidth).map(safe),
    panel: panel(s, c, bodyRows, panelWidth).map(safe),
    status: safe(statusLine(s)),
    hints: hints(s, c.columns),
  };
}

/**
 * A line with nothing a terminal would act on: job errors, descriptions, prompts and daemon
 * messages can carry an agent's or a stranger's text, so every segment loses its escape and
 * control sequences, and a line break or tab becomes a space. Log lines (`ansi`) were already
 * sanitised with their colours kept.
 */
function safe(line: Line): Line {
  return line.map((seg) =>
    seg.ansi ? seg : { ...seg, text: stripAnsi(seg.text.replace(/[\t\r\n]/g, " ")) }
  );
}

function header(s: NexusState, c: LayoutContext): Line {
  const daemon = s.snap?.daemon;
  const line: Line = [
    { text: `${SPINNER[c.tick % SPINNER.length]} `, tone: "gold" },
    { text: "pylon nexus", tone: "gold", bold: true },
    { text: ` v${c.version}` },
  ];
  if (s.upgrade) line.push({ text: ` (v${s.upgrade} available: u)`, tone: "yellow" });
  line.push({ text: "  daemon " });
  line.push(
    s.snap === null
      ? { text: "…", tone: "dim" }
      : daemon
      ? { text: "ON", tone: "green", bold: true }
      : { text: "OFF", tone: "red", bold: true },
  );
  if (s.snap && !daemon) line.push({ text: " (read-only; d starts it)", tone: "dim" });
  return line;
}

/** The status diamond of a pylon: filled when enabled (green while a job runs), empty when off. */
export function diamond(p: PylonView, jobs: readonly JobView[]): Segment {
  if (p.state === "not_loaded") return { text: "◈", tone: "red" };
  if (p.state === "disabled") return { text: "◇", tone: "dim" };
  const busy = jobs.some((j) => j.pylon === p.name && j.status === "running");
  return busy ? { text: "◆", tone: "green" } : { text: "◆", tone: "dim" };
}

function sidebar(s: NexusState, rows: number, width: number): Line[] {
  const out: Line[] = [];
  const pylons = s.snap?.pylons ?? [];
  const jobs = s.snap?.jobs ?? [];
  const current = selectedPylon(s)?.name;
  const listFocused = s.view === "home" && s.focus === "list";
  out.push([{ text: "PYLONS", tone: "gold", bold: true }]);
  const needs = needsItems(s).length;
  const reserve = 2; // blank + needs-you line
  const room = Math.max(1, rows - 1 - reserve);
  const at = Math.max(0, pylons.findIndex((p) => p.name === current));
  const first = Math.max(0, Math.min(at - room + 1, pylons.length - room));
  for (const p of pylons.slice(Math.max(0, first), Math.max(0, first) + room)) {
    const chosen = p.name === current;
    const cost = p.costToday ? ` ${usd(p.costToday)}` : "";
    const nameWidth = Math.max(4, width - 3 - cost.length);
    const name = p.name.length > nameWidth ? p.name.slice(0, nameWidth - 1) + "…" : p.name;
    out.push([
      { text: chosen ? "▸" : " ", tone: "gold" },
      diamond(p, jobs),
      { text: " " },
      { text: name.padEnd(nameWidth), bold: chosen, inverse: chosen && listFocused },
      { text: cost, tone: "dim" },
    ]);
  }
  if (pylons.length === 0 && s.snap) {
    out.push([{ text: "no pylons yet", tone: "dim" }]);
  }
  while (out.length < rows - 1) out.push([]);
  out.length = rows - 1;
  out.push(
    needs > 0
      ? [{
        text: `⚑ needs you: ${needs} (n)`,
        tone: "yellow",
        bold: true,
        inverse: s.view === "needs",
      }]
      : [{ text: "nothing to decide", tone: "dim" }],
  );
  return out;
}

function panel(s: NexusState, c: LayoutContext, rows: number, width: number): Line[] {
  let lines: Line[];
  if (s.loadError && !s.snap) {
    lines = [[{ text: "Cannot read pylon's state:", tone: "red" }], [{ text: s.loadError }]];
  } else if (!s.snap) {
    lines = [[{ text: "loading…", tone: "dim" }]];
  } else if (s.view === "log") {
    lines = logPanel(s, rows);
  } else if (s.view === "needs") {
    lines = needsPanel(s, c, rows);
  } else if (s.view === "builder") {
    lines = builderPanel(s, rows, width);
  } else if (s.snap.pylons.length === 0) {
    lines = [
      [{ text: "No pylons yet.", bold: true }],
      [],
      [
        { text: "Press " },
        { text: "c", tone: "gold", bold: true },
        {
          text: " to construct one, or ",
        },
        { text: "g", tone: "gold", bold: true },
        { text: " to run the setup wizard." },
      ],
    ];
  } else {
    lines = detailPanel(s, c, rows, width);
  }
  while (lines.length < rows) lines.push([]);
  return lines.slice(0, rows);
}

function field(label: string, value: string, tone?: Tone): Line {
  return [
    { text: `${label.padEnd(10)}`, tone: "dim" },
    tone ? { text: value, tone } : { text: value },
  ];
}

/** The detail of the selected pylon and its job history. */
function detailPanel(s: NexusState, c: LayoutContext, rows: number, width: number): Line[] {
  const p = selectedPylon(s)!;
  const out: Line[] = [];
  const focused = s.focus === "detail";
  out.push([
    { text: p.name, bold: true, tone: "gold" },
    {
      text: p.description ? `  ${oneLine(p.description, width - p.name.length - 2)}` : "",
      tone: "dim",
    },
  ]);
  if (p.problem) {
    out.push(field("State", "does not load", "red"));
    out.push([{ text: oneLine(p.problem, width * 3), tone: "red" }]);
  } else {
    out.push(
      field(
        "State",
        p.state === "disabled" ? "disabled (x enables)" : "active",
        p.state === "disabled" ? "yellow" : "green",
      ),
    );
  }
  const t = p.trigger;
  if (t?.type === "cron") {
    out.push(field("Trigger", `cron ${t.cron}${t.description ? `  (${t.description})` : ""}`));
    out.push(field("Timezone", t.timezone ?? "-"));
    if (t.nextRun) {
      out.push(
        field(
          "Next run",
          `${dayTime(t.nextRun, t.timezone ?? undefined)}  (in ${
            span(t.nextRun.getTime() - c.now.getTime())
          })`,
        ),
      );
    }
  } else if (t) {
    out.push(field("Trigger", `webhook ${t.path ?? ""}`));
    if (p.webhookUrl) {
      out.push([...field("URL", p.webhookUrl), { text: "  [y] copy", tone: "dim" }]);
    }
  }
  if (!p.problem) {
    out.push(field("Workspace", p.workspace || "none"));
    out.push(field("Agent", p.agent));
    out.push(field("Channel", p.channel));
    if (p.topic) out.push(field("Topic", oneLine(p.topic, 36)));
    if (p.message) out.push(field("Message", oneLine(p.message, 36)));
    out.push(field("Auto-run", p.autoRun ? "yes" : "no: jobs wait for approval"));
    const spend = [`today ${usd(p.costToday)}`];
    if (p.costMonth !== null) spend.push(`month ${usd(p.costMonth)}`);
    if (p.successRate !== null) spend.push(`success ${Math.round(p.successRate * 100)}%`);
    out.push(field("Spend", spend.join("  ")));
    if (s.showPrompt) {
      out.push(field("Prompt", ""));
      for (const l of p.prompt.split("\n").slice(0, Math.max(1, rows - out.length - 4))) {
        out.push([{ text: `  ${l}` }]);
      }
    } else {
      out.push([...field("Prompt", oneLine(p.prompt, Math.max(10, width - 18))), {
        text: " [p]",
        tone: "dim",
      }]);
    }
  }
  if (!s.showTable) {
    out.push([{ text: "job history hidden (t shows it)", tone: "dim" }]);
    return out;
  }
  const jobs = historyOf(s, p.name);
  out.push([{ text: jobHeader(width), tone: "dim", bold: true }]);
  if (jobs.length === 0) {
    out.push([{ text: "no jobs yet", tone: "dim" }]);
    return out;
  }
  const selected = selectedJob(s);
  const errorRows = selected?.error && focused ? 1 : 0;
  const room = Math.max(1, rows - out.length - errorRows);
  const at = Math.max(0, jobs.findIndex((j) => j.id === selected?.id));
  const first = Math.max(0, Math.min(at - Math.floor(room / 2), jobs.length - room));
  for (const j of jobs.slice(first, first + room)) {
    const chosen = focused && j.id === selected?.id;
    out.push(jobRow(j, c.now, chosen));
    if (chosen && j.error) out.push([{ text: `  ↳ ${oneLine(j.error, width - 4)}`, tone: "red" }]);
  }
  return out;
}

function jobHeader(width: number): string {
  const cols = "ID       STATUS             TRIGGERED     DURATION  COST";
  return width >= cols.length ? cols : cols.slice(0, width);
}

/** The colour of a status. */
export function statusTone(status: string): Tone | undefined {
  switch (status) {
    case "running":
      return "cyan";
    case "completed":
      return "green";
    case "failed":
    case "timed_out":
      return "red";
    case "awaiting_approval":
    case "held":
      return "yellow";
    case "killed":
    case "dismissed":
      return "dim";
  }
  return undefined;
}

function jobRow(j: JobView, now: Date, chosen: boolean): Line {
  // A running job whose agent waits for a person (`tool approval`) shows what it waits for, in
  // yellow, as `waiting: tool approval` would not fit the column at 80 columns.
  const status = j.waiting ? j.waiting.slice(0, 18) : j.status;
  return [
    { text: j.id.slice(0, 8) + " ", inverse: chosen },
    {
      text: status.padEnd(19),
      tone: j.waiting ? "yellow" : statusTone(j.status),
      inverse: chosen,
    },
    { text: shortTime(j.createdAt).padEnd(14), inverse: chosen },
    { text: jobDuration(j, now).padEnd(10), inverse: chosen },
    { text: usd(j.costUsd), inverse: chosen },
  ];
}

function needsPanel(s: NexusState, c: LayoutContext, rows: number): Line[] {
  const items = needsItems(s);
  const out: Line[] = [[{ text: "NEEDS YOU", tone: "gold", bold: true }, {
    text: "  approvals, held jobs, tool calls",
    tone: "dim",
  }]];
  if (items.length === 0) {
    out.push([{ text: "Nothing is waiting for you.", tone: "dim" }]);
    return out;
  }
  const room = Math.max(1, Math.floor((rows - 1) / 2));
  const first = Math.max(0, Math.min(s.needsIndex - room + 1, items.length - room));
  items.slice(first, first + room).forEach((item, i) => {
    const chosen = first + i === s.needsIndex;
    if (item.kind === "tool") {
      const call = item.call;
      out.push([
        { text: chosen ? "▸ " : "  ", tone: "gold" },
        { text: "tool call", tone: "yellow", inverse: chosen },
        { text: ` ${call.pylon} ${call.jobId.slice(0, 8)} `, inverse: chosen },
        { text: call.tool, bold: true, inverse: chosen },
      ]);
      const expires = call.expiresAt
        ? `  (expires in ${span(call.expiresAt.getTime() - c.now.getTime())})`
        : "";
      out.push([{
        text: `    ${oneLine(call.summary || call.rule || "", 60)}${expires}`,
        tone: "dim",
      }]);
    } else {
      const j = item.job;
      const why = j.status === "held" ? "held: over budget" : "awaiting approval";
      out.push([
        { text: chosen ? "▸ " : "  ", tone: "gold" },
        { text: why, tone: "yellow", inverse: chosen },
        { text: ` ${j.pylon} ${j.id.slice(0, 8)}`, inverse: chosen },
      ]);
      out.push([{ text: `    ${j.trigger} job, created ${shortTime(j.createdAt)}`, tone: "dim" }]);
    }
  });
  return out;
}

/**
 * The message template builder: the newest job's payload fields (groups open with space,
 * fields checked with space), then the template and what it renders to for that payload.
 */
function builderPanel(s: NexusState, rows: number, width: number): Line[] {
  const b = s.builder!;
  const out: Line[] = [[
    { text: "MESSAGE TEMPLATE ", tone: "gold", bold: true },
    { text: b.pylon },
    { text: b.job ? `  fields of job ${b.job.slice(0, 8)}'s payload` : "", tone: "dim" },
  ]];
  if (b.note) {
    out.push([{ text: b.note, tone: "dim" }]);
    return out;
  }
  const template = builderTemplate(b);
  const preview = builderPreview(b);
  // The preview gets up to a third of the panel; the list keeps the rest.
  const previewRows = template
    ? Math.min(Math.max(3, Math.floor(rows / 3)), 2 + preview.length)
    : 1;
  const room = Math.max(1, rows - 1 - previewRows);
  const list = builderRows(b);
  const first = Math.max(0, Math.min(b.index - Math.floor(room / 2), list.length - room));
  list.slice(first, first + room).forEach((row, i) => {
    const chosen = first + i === b.index;
    const mark: Segment = { text: chosen ? "▸ " : "  ", tone: "gold" };
    if (row.kind === "group") {
      out.push([
        mark,
        { text: `${row.open ? "−" : "+"} ${row.group.name}`, bold: true, inverse: chosen },
        {
          text: `  ${row.group.fields.length} field${row.group.fields.length === 1 ? "" : "s"}`,
          tone: "dim",
        },
      ]);
      return;
    }
    const f = row.field;
    const name = f.path.slice(1).join(".") || String(f.path[0] ?? "body");
    const left = `${row.checked ? "[x]" : "[ ]"} ${oneLine(name, 28)}`;
    out.push([
      mark,
      { text: "  " },
      { text: left, inverse: chosen, ...(row.checked ? { tone: "green" as const } : {}) },
      { text: `  ${oneLine(f.sample, Math.max(8, width - left.length - 6))}`, tone: "dim" },
    ]);
  });
  while (out.length < rows - previewRows) out.push([]);
  if (!template) {
    out.push([{ text: "space checks a field; enter saves it as channel.message", tone: "dim" }]);
    return out;
  }
  const n = b.checked.length;
  out.push([{
    text: `channel.message (${n} field${n === 1 ? "" : "s"}) renders as:`,
    tone: "dim",
  }]);
  for (const l of preview.slice(0, previewRows - 1)) {
    out.push([{ text: `  ${oneLine(l, width - 2)}` }]);
  }
  return out;
}

function logPanel(s: NexusState, rows: number): Line[] {
  const log = s.log!;
  const job = [...(s.snap?.jobs ?? []), ...(s.snap?.waiting ?? [])].find((j) => j.id === log.job);
  const head: Line = [
    { text: "LOG ", tone: "gold", bold: true },
    { text: `${job?.pylon ?? ""} ${log.job.slice(0, 8)} ` },
    job ? { text: job.status, tone: statusTone(job.status) } : { text: "" },
    { text: log.scroll ? `  (${log.scroll} lines up; G follows)` : "  (following)", tone: "dim" },
  ];
  const all = log.partial ? [...log.lines, log.partial] : log.lines;
  const room = rows - 1;
  const end = Math.max(0, all.length - log.scroll);
  const shown = all.slice(Math.max(0, end - room), end);
  const out: Line[] = [head];
  if (all.length === 0) out.push([{ text: "(no output yet)", tone: "dim" }]);
  for (const l of shown) out.push([{ text: l.replaceAll("\t", "  "), ansi: true }]);
  return out;
}

function statusLine(s: NexusState): Line {
  if (s.confirm) return [{ text: s.confirm.question, tone: "yellow", bold: true }];
  if (s.flash) return [{ text: s.flash.text, tone: s.flash.error ? "red" : "green" }];
  if (s.loadError && s.snap) return [{ text: `refresh failed: ${s.loadError}`, tone: "red" }];
  return [];
}

/**
 * Key hints that fit `width`: pairs in order of importance, the last one (quit, back) always
 * shown; those that do not fit are left out (`pylon nexus --help` lists them all).
 */
function keys(width: number, pairs: [string, string][]): Line {
  const last = pairs.at(-1)!;
  const size = ([k, what]: [string, string]) => k.length + what.length + 3;
  let room = width - size(last);
  const shown = pairs.slice(0, -1).filter((p) => {
    if (size(p) > room) return false;
    room -= size(p);
    return true;
  });
  const out: Line = [];
  for (const [k, what] of [...shown, last]) {
    out.push({ text: k, tone: "gold", bold: true }, { text: ` ${what}  `, tone: "dim" });
  }
  return out;
}

function hints(s: NexusState, width: number): Line {
  if (s.confirm) return keys(width, [["y", "yes"], ["any other key", "no"]]);
  if (s.view === "log") {
    return keys(width, [["j/k", "scroll"], ["G", "follow"], ["x", "kill"], ["esc", "back"]]);
  }
  if (s.view === "builder") {
    return keys(width, [
      ["space", "check/open"],
      ["enter", "save"],
      ["j/k", "move"],
      ["esc", "cancel"],
    ]);
  }
  if (s.view === "needs") {
    return keys(width, [
      ["a", "approve/allow"],
      ["i", "ignore/deny"],
      ["A", "allow for job"],
      ["x", "kill"],
      ["l", "log"],
      ["j/k", "move"],
      ["esc", "back"],
    ]);
  }
  if (s.focus === "detail") {
    return keys(width, [
      ["l", "log"],
      ["x", "kill"],
      ["r", "retry"],
      ["A", "approve"],
      ["f", "fire"],
      ["a", "template"],
      ["p", "prompt"],
      ["y", "copy"],
      ["t", "table"],
      ["e", "edit"],
      ["j/k", "jobs"],
      ["h", "back"],
    ]);
  }
  return keys(width, [
    ...(s.upgrade ? [["u", "upgrade"] as [string, string]] : []),
    ["c", "new"],
    ["e", "edit"],
    ["x", "on/off"],
    ["D", "del"],
    ["d", "daemon"],
    ["n", "needs"],
    ["g", "setup"],
    ["?", "doctor"],
    ["l", "open"],
    ["j/k", "move"],
    ["q", "quit"],
  ]);
}
