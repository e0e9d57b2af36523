/**
 * The dashboard's state and what each key does to it, as a pure reducer: `handleKey(state,
 * key)` returns the next state and the effects to run (API calls, suspending the screen for a
 * CLI wizard, starting the daemon). The controller runs the effects; the view only draws. So
 * every key binding is unit-tested without a terminal.
 *
 * Rules kept here (issue 16): `x` on a finished job changes nothing (ARCHITECTURE.md §3.3);
 * destructive or costly actions ask first (`y` confirms, anything else cancels). On a pylon,
 * `a` opens the message template builder as in the reference, so approving the selected job
 * there is `A` (in "needs you", where nothing else competes, `a` approves).
 *
 * @module
 */

import {
  DECIDABLE_STATUSES,
  type JobView,
  KILLABLE_STATUSES,
  type NexusAction,
  type PylonView,
  RETRYABLE_STATUSES,
  type Snapshot,
  type ToolCallView,
} from "./model.ts";
import {
  type Builder,
  builderTemplate,
  moveRow,
  newBuilder,
  toggleRow,
} from "./template_builder.ts";

/** What the controller does after a key. */
export type Effect =
  | { kind: "action"; action: NexusAction }
  | { kind: "cli"; argv: string[]; ask?: string }
  | { kind: "daemon"; start: boolean }
  | { kind: "copy"; text: string }
  | { kind: "open_log"; job: string }
  | { kind: "close_log" }
  | { kind: "open_builder"; pylon: string; job: string }
  | { kind: "save_message"; pylon: string; template: string }
  | { kind: "refresh" }
  | { kind: "quit" };

/** The right panel. */
export type View = "home" | "needs" | "log" | "builder";

/** A question waiting for `y`. */
export interface Confirm {
  question: string;
  effects: Effect[];
}

/** The open log pane. */
export interface LogPane {
  job: string;
  lines: string[];
  /** A line not yet ended by a newline. */
  partial: string;
  /** Lines scrolled up from the end (0: follows new output). */
  scroll: number;
}

/** Everything the screen shows. */
export interface NexusState {
  snap: Snapshot | null;
  loadError: string | null;
  /** The selected pylon, by name (stable across refreshes). */
  selected: string | null;
  focus: "list" | "detail";
  view: View;
  jobIndex: number;
  needsIndex: number;
  showPrompt: boolean;
  showTable: boolean;
  confirm: Confirm | null;
  flash: { text: string; error: boolean } | null;
  log: LogPane | null;
  /** A newer release's version, when the background check found one. */
  upgrade: string | null;
  /** The open message template builder. */
  builder: Builder | null;
}

/** Most lines kept in the log pane. */
export const LOG_LINES = 2000;

/** How many jobs the history table lists. */
export const HISTORY = 20;

/** The state before the first refresh. */
export function initialState(): NexusState {
  return {
    snap: null,
    loadError: null,
    selected: null,
    focus: "list",
    view: "home",
    jobIndex: 0,
    needsIndex: 0,
    showPrompt: false,
    showTable: true,
    confirm: null,
    flash: null,
    log: null,
    upgrade: null,
    builder: null,
  };
}

/** The pylon the sidebar has selected. */
export function selectedPylon(s: NexusState): PylonView | undefined {
  const pylons = s.snap?.pylons ?? [];
  return pylons.find((p) => p.name === s.selected) ?? pylons[0];
}

/** The newest jobs of a pylon, at most {@linkcode HISTORY}. */
export function historyOf(s: NexusState, pylon: string | undefined): JobView[] {
  if (!pylon) return [];
  return (s.snap?.jobs ?? []).filter((j) => j.pylon === pylon).slice(0, HISTORY);
}

/** The job selected in the history table. */
export function selectedJob(s: NexusState): JobView | undefined {
  const jobs = historyOf(s, selectedPylon(s)?.name);
  return jobs[Math.min(s.jobIndex, jobs.length - 1)];
}

/** One row of the "needs you" view. */
export type NeedsItem = { kind: "tool"; call: ToolCallView; job: JobView | undefined } | {
  kind: "job";
  job: JobView;
};

/** Everything waiting for a person: tool calls first (an agent is blocked), then jobs. */
export function needsItems(s: NexusState): NeedsItem[] {
  const snap = s.snap;
  if (!snap) return [];
  const byId = new Map([...snap.jobs, ...snap.waiting].map((j) => [j.id, j]));
  const items: NeedsItem[] = snap.toolCalls.map((call) => ({
    kind: "tool",
    call,
    job: byId.get(call.jobId),
  }));
  const seen = new Set<string>();
  for (const job of snap.waiting) {
    if (seen.has(job.id) || !DECIDABLE_STATUSES.includes(job.status)) continue;
    seen.add(job.id);
    items.push({ kind: "job", job });
  }
  return items;
}

/** How many things wait for a person. */
export function needsCount(s: NexusState): number {
  return needsItems(s).length;
}

/** A new snapshot arrived: keep the selection on the same pylon and in range. */
export function withSnapshot(s: NexusState, snap: Snapshot): NexusState {
  const names = snap.pylons.map((p) => p.name);
  const selected = s.selected && names.includes(s.selected) ? s.selected : names[0] ?? null;
  const next = { ...s, snap, loadError: null, selected };
  const jobs = historyOf(next, selected ?? undefined).length;
  const needs = needsItems(next).length;
  return {
    ...next,
    jobIndex: Math.max(0, Math.min(s.jobIndex, jobs - 1)),
    needsIndex: Math.max(0, Math.min(s.needsIndex, needs - 1)),
  };
}

/**
 * Longest line kept (characters): a terminal shows a few hundred at most, and an agent that
 * prints megabytes without a newline must not grow the pane without bound.
 */
export const LOG_LINE_CHARS = 4096;

/**
 * Where to cut `text` to at most `max` characters without splitting a colour sequence (half of
 * one, painted raw, would swallow the characters after it).
 */
function cutAt(text: string, max: number): number {
  const esc = text.lastIndexOf("\x1b", max - 1);
  if (esc < 0 || esc < max - 32) return max;
  const end = text.indexOf("m", esc);
  return end >= 0 && end < max ? max : Math.max(1, esc);
}

/** `line` cut to {@linkcode LOG_LINE_CHARS}, with its colours reset and an ellipsis. */
function capLine(line: string): string {
  if (line.length <= LOG_LINE_CHARS) return line;
  return `${line.slice(0, cutAt(line, LOG_LINE_CHARS))}\x1b[0m…`;
}

/** Appends log text (already sanitised) to the open pane of `job`. */
export function withLogText(s: NexusState, job: string, text: string): NexusState {
  if (!s.log || s.log.job !== job) return s;
  const parts = (s.log.partial + text).split("\n");
  let partial = parts.pop() ?? "";
  // A line that never ends is shown in pieces rather than held whole.
  while (partial.length > LOG_LINE_CHARS) {
    const at = cutAt(partial, LOG_LINE_CHARS);
    parts.push(partial.slice(0, at));
    partial = partial.slice(at);
  }
  const lines = [...s.log.lines, ...parts.map(capLine)];
  const dropped = Math.max(0, lines.length - LOG_LINES);
  const scroll = s.log.scroll === 0 ? 0 : s.log.scroll + parts.length;
  return {
    ...s,
    log: {
      ...s.log,
      lines: dropped ? lines.slice(dropped) : lines,
      partial,
      scroll: Math.min(scroll, LOG_LINES),
    },
  };
}

/** Shows a message in the status line until the next key. */
export function withFlash(s: NexusState, text: string, error = false): NexusState {
  return { ...s, flash: { text, error } };
}

/** The result of a key. */
export interface KeyResult {
  state: NexusState;
  effects: Effect[];
}

const none = (state: NexusState): KeyResult => ({ state, effects: [] });

/**
 * What key `key` does. Key names: single characters as typed (`j`, `D`, `?`), plus `up`,
 * `down`, `enter`, `esc`, `pageup`, `pagedown`, `ctrl+c`.
 */
export function handleKey(s0: NexusState, key: string): KeyResult {
  const s = { ...s0, flash: null };
  if (key === "ctrl+c") return { state: s, effects: [{ kind: "quit" }] };
  if (s.confirm) {
    const effects = key === "y" || key === "Y" ? s.confirm.effects : [];
    return {
      state: {
        ...s,
        confirm: null,
        flash: effects.length ? null : { text: "cancelled", error: false },
      },
      effects,
    };
  }
  if (s.view === "log") return logKey(s, key);
  if (s.view === "builder") return builderKey(s, key);
  if (s.view === "needs") return needsKey(s, key);
  return s.focus === "detail" ? detailKey(s, key) : listKey(s, key);
}

function ask(s: NexusState, question: string, ...effects: Effect[]): KeyResult {
  return none({ ...s, confirm: { question, effects } });
}

function globalKey(s: NexusState, key: string): KeyResult | undefined {
  const pylon = selectedPylon(s);
  switch (key) {
    case "q":
      return { state: s, effects: [{ kind: "quit" }] };
    case "c":
      return { state: s, effects: [{ kind: "cli", argv: ["construct"], ask: "name" }] };
    case "g":
      return { state: s, effects: [{ kind: "cli", argv: ["setup"] }] };
    case "?":
      return { state: s, effects: [{ kind: "cli", argv: ["doctor"] }] };
    case "u":
      return s.upgrade
        ? { state: s, effects: [{ kind: "cli", argv: ["upgrade"] }] }
        : none(withFlash(s, "no update available"));
    case "d":
      return s.snap?.daemon
        ? ask(s, "Stop the daemon? Running agents keep running. [y/N]", {
          kind: "daemon",
          start: false,
        })
        : {
          state: withFlash(s, "starting the daemon…"),
          effects: [{ kind: "daemon", start: true }],
        };
    case "n":
    case "w":
      return none({ ...s, view: "needs" });
    case "e":
      return pylon ? { state: s, effects: [{ kind: "cli", argv: ["edit", pylon.name] }] } : none(s);
    case "D":
      return pylon
        ? { state: s, effects: [{ kind: "cli", argv: ["destroy", pylon.name] }] }
        : none(s);
  }
  return undefined;
}

function move(index: number, delta: number, length: number): number {
  return Math.max(0, Math.min(length - 1, index + delta));
}

function listKey(s: NexusState, key: string): KeyResult {
  const pylons = s.snap?.pylons ?? [];
  const at = Math.max(0, pylons.findIndex((p) => p.name === selectedPylon(s)?.name));
  const pylon = selectedPylon(s);
  switch (key) {
    case "j":
    case "down":
      return none({
        ...s,
        selected: pylons[move(at, 1, pylons.length)]?.name ?? null,
        jobIndex: 0,
      });
    case "k":
    case "up":
      return none({
        ...s,
        selected: pylons[move(at, -1, pylons.length)]?.name ?? null,
        jobIndex: 0,
      });
    case "l":
    case "enter":
      return pylon ? none({ ...s, focus: "detail" }) : none(s);
    case "x":
      if (!pylon) return none(s);
      return {
        state: s,
        effects: [{
          kind: "action",
          action: { kind: pylon.state === "disabled" ? "enable" : "disable", pylon: pylon.name },
        }],
      };
  }
  return globalKey(s, key) ?? none(s);
}

function detailKey(s: NexusState, key: string): KeyResult {
  const pylon = selectedPylon(s);
  const jobs = historyOf(s, pylon?.name);
  const job = selectedJob(s);
  switch (key) {
    case "h":
    case "esc":
      return none({ ...s, focus: "list" });
    case "j":
    case "down":
      return none({ ...s, jobIndex: move(s.jobIndex, 1, jobs.length) });
    case "k":
    case "up":
      return none({ ...s, jobIndex: move(s.jobIndex, -1, jobs.length) });
    case "p":
      return none({ ...s, showPrompt: !s.showPrompt });
    case "t":
      return none({ ...s, showTable: !s.showTable });
    case "y":
      return pylon?.webhookUrl
        ? {
          state: withFlash(s, `copied ${pylon.webhookUrl}`),
          effects: [{ kind: "copy", text: pylon.webhookUrl }],
        }
        : none(withFlash(s, "only webhook pylons have a URL to copy"));
    case "f":
      if (pylon?.trigger?.type !== "cron") {
        return none(
          withFlash(s, "f fires cron pylons; webhook pylons run when their sender calls"),
        );
      }
      return ask(s, `Fire ${pylon.name} now? [y/N]`, {
        kind: "action",
        action: { kind: "fire", pylon: pylon.name },
      });
    case "a":
      return openBuilder(s, pylon?.name, jobs[0]);
    case "A":
      return job ? approveKey(s, job) : none(s);
    case "i":
      return job ? ignoreKey(s, job) : none(s);
    case "l":
    case "enter":
      return job ? openLog(s, job.id) : none(s);
    case "x":
      return job ? killKey(s, job) : none(s);
    case "r":
      if (!job) return none(s);
      if (!RETRYABLE_STATUSES.includes(job.status)) {
        return none(
          withFlash(s, `job ${job.id.slice(0, 8)} is ${job.status}: only finished jobs retry`),
        );
      }
      return ask(s, `Retry job ${job.id.slice(0, 8)}? [y/N]`, {
        kind: "action",
        action: { kind: "retry", job: job.id },
      });
  }
  return globalKey(s, key) ?? none(s);
}

function openLog(s: NexusState, job: string): KeyResult {
  return {
    state: { ...s, view: "log", log: { job, lines: [], partial: "", scroll: 0 } },
    effects: [{ kind: "open_log", job }],
  };
}

function killKey(s: NexusState, job: JobView): KeyResult {
  if (!KILLABLE_STATUSES.includes(job.status)) {
    return none(
      withFlash(s, `job ${job.id.slice(0, 8)} is ${job.status}: a finished job stays as it is`),
    );
  }
  return ask(s, `Kill job ${job.id.slice(0, 8)} (${job.status})? [y/N]`, {
    kind: "action",
    action: { kind: "kill", job: job.id },
  });
}

function approveKey(s: NexusState, job: JobView): KeyResult {
  if (!DECIDABLE_STATUSES.includes(job.status)) {
    return none(withFlash(s, `job ${job.id.slice(0, 8)} is ${job.status}: nothing to approve`));
  }
  return { state: s, effects: [{ kind: "action", action: { kind: "approve", job: job.id } }] };
}

function ignoreKey(s: NexusState, job: JobView): KeyResult {
  if (job.status !== "awaiting_approval") {
    return none(
      withFlash(
        s,
        `job ${
          job.id.slice(0, 8)
        } is ${job.status}: only a job awaiting approval is ignored (x kills)`,
      ),
    );
  }
  return { state: s, effects: [{ kind: "action", action: { kind: "ignore", job: job.id } }] };
}

function needsKey(s: NexusState, key: string): KeyResult {
  const items = needsItems(s);
  const item = items[Math.min(s.needsIndex, items.length - 1)];
  switch (key) {
    case "h":
    case "esc":
    case "n":
    case "w":
      return none({ ...s, view: "home" });
    case "j":
    case "down":
      return none({ ...s, needsIndex: move(s.needsIndex, 1, items.length) });
    case "k":
    case "up":
      return none({ ...s, needsIndex: move(s.needsIndex, -1, items.length) });
  }
  if (item?.kind === "tool") {
    const { jobId: job, callId: call } = item.call;
    if (key === "a") {
      return { state: s, effects: [{ kind: "action", action: { kind: "allow", job, call } }] };
    }
    if (key === "A") {
      return {
        state: s,
        effects: [{ kind: "action", action: { kind: "allow_for_job", job, call } }],
      };
    }
    if (key === "i") {
      return { state: s, effects: [{ kind: "action", action: { kind: "deny", job, call } }] };
    }
    if (key === "l" || key === "enter") return openLog(s, job);
  } else if (item?.kind === "job") {
    if (key === "a") return approveKey(s, item.job);
    if (key === "i") return ignoreKey(s, item.job);
    if (key === "x") return killKey(s, item.job);
    if (key === "l" || key === "enter") return openLog(s, item.job.id);
  }
  if (key === "q") return { state: s, effects: [{ kind: "quit" }] };
  return none(s);
}

function logKey(s: NexusState, key: string): KeyResult {
  const log = s.log!;
  const max = Math.max(0, log.lines.length - 1);
  const scroll = (n: number) =>
    none({ ...s, log: { ...log, scroll: Math.max(0, Math.min(max, n)) } });
  switch (key) {
    case "esc":
    case "h":
    case "q":
      return { state: { ...s, view: "home", log: null }, effects: [{ kind: "close_log" }] };
    case "k":
    case "up":
      return scroll(log.scroll + 1);
    case "j":
    case "down":
      return scroll(log.scroll - 1);
    case "pageup":
      return scroll(log.scroll + 10);
    case "pagedown":
      return scroll(log.scroll - 10);
    case "G":
      return scroll(0);
    case "x": {
      const job = [...(s.snap?.jobs ?? []), ...(s.snap?.waiting ?? [])].find((j) =>
        j.id === log.job
      );
      return job ? killKey(s, job) : none(s);
    }
  }
  return none(s);
}

/**
 * `a` on a pylon: the message template builder, on the payload of the pylon's newest job (the
 * reference's builder; approving a job from the history table is `A`).
 */
function openBuilder(s: NexusState, pylon: string | undefined, newest: JobView | undefined) {
  if (!pylon) return none(s);
  if (!newest) {
    return none(
      withFlash(
        s,
        `${pylon} has no job yet: the builder lists the fields of the newest job's payload`,
      ),
    );
  }
  return {
    state: { ...s, view: "builder" as const, builder: newBuilder(pylon, null, undefined) },
    effects: [{ kind: "open_builder" as const, pylon, job: newest.id }],
  };
}

/** The payload of the builder's job arrived. */
export function withBuilderPayload(
  s: NexusState,
  pylon: string,
  job: string,
  payload: unknown,
): NexusState {
  if (s.view !== "builder" || s.builder?.pylon !== pylon) return s;
  return { ...s, builder: newBuilder(pylon, job, payload) };
}

function builderKey(s: NexusState, key: string): KeyResult {
  const b = s.builder;
  const back = { ...s, view: "home" as const, builder: null };
  if (!b) return none(back);
  switch (key) {
    case "esc":
    case "q":
      return none(withFlash(back, "template builder closed, nothing saved"));
    case "j":
    case "down":
      return none({ ...s, builder: moveRow(b, 1) });
    case "k":
    case "up":
      return none({ ...s, builder: moveRow(b, -1) });
    case "pagedown":
      return none({ ...s, builder: moveRow(b, 10) });
    case "pageup":
      return none({ ...s, builder: moveRow(b, -10) });
    case " ":
    case "space":
      return none({ ...s, builder: toggleRow(b) });
    case "enter": {
      const template = builderTemplate(b);
      if (!template) return none(withFlash(s, "check fields with space first (esc cancels)"));
      return {
        state: back,
        effects: [{ kind: "save_message", pylon: b.pylon, template }],
      };
    }
  }
  return none(s);
}
