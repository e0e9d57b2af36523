/**
 * `/dashboard/jobs/<id>`: one job — its status timeline, payload (collapsible JSON), rendered
 * prompt, the log (the saved tail now; the client script streams the rest from the offset the
 * page ends at), tool events, pending tool calls with Allow/Deny, the result as sanitised
 * Markdown, cost/tokens/turns, links, follow-ups as a conversation, and the buttons its status
 * allows.
 *
 * Sizes are capped (as sent: escaped, rendered) so a page stays under 150 KB even uncompressed:
 * the log's last {@linkcode LOG_TAIL_BYTES} of HTML, {@linkcode PAYLOAD_BYTES} of payload,
 * {@linkcode RESULT_BYTES} of rendered result, and smaller caps for the rest; each cut says so
 * and links to the whole thing.
 *
 * @module
 */

import { join } from "node:path";
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Redactor } from "../../log/mod.ts";
import { readLogLines, readToolLines, toolData } from "../event_files.ts";
import { ansiToHtml } from "./ansi_html.ts";
import type { ApiCall } from "./api_caller.ts";
import {
  csrfField,
  fitEscaped,
  frame,
  jobDuration,
  short,
  statusBadge,
  usd,
  when,
} from "./layout.ts";
import { renderMarkdown, safeHref } from "./markdown.ts";

type Json = Record<string, unknown>;
type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** The most log HTML a page carries (its end). */
export const LOG_TAIL_BYTES = 36 * 1024;
/** The most bytes of escaped payload JSON shown. */
export const PAYLOAD_BYTES = 20 * 1024;
/** The most bytes of HTML a rendered result takes. */
export const RESULT_BYTES = 36 * 1024;
/** The most bytes of the escaped prompt shown. */
const PROMPT_BYTES = 8 * 1024;
/** The most tool events shown (the latest), and the most bytes they take. */
const TOOL_EVENTS = 60;
const TOOL_BYTES = 12 * 1024;
/** Follow-ups shown (the latest) and the most HTML of each one's result. */
const FOLLOW_UPS = 8;
const FOLLOW_UP_BYTES = 3 * 1024;

const TERMINAL = new Set(["completed", "failed", "timed_out", "killed", "dismissed"]);

/** What the job page needs. */
export interface JobPageDeps {
  callApi: ApiCall;
  csrf: string;
  /** `$PYLON_HOME/jobs` (log and tool events); absent: the page has no log. */
  jobsDir?: string | undefined;
  /**
   * The redactor of a pylon's secrets, for the tool events its agents wrote (the log is redacted
   * as it is written); absent: the page shows no tool events.
   */
  redactorOf?: ((pylon: string) => Redactor) | undefined;
  now: Date;
  notice?: { text: string; kind: "error" | "info" } | undefined;
}

/** Renders the page, or undefined when the API has no such job (with its answer's status). */
export async function jobPage(
  id: string,
  d: JobPageDeps,
): Promise<{ status: number; body: Html; error?: string }> {
  const answer = await d.callApi("GET", `/jobs/${encodeURIComponent(id)}`);
  if (!answer.ok) {
    const e = (answer.data as Json | null)?.error;
    return {
      status: answer.status,
      body: html``,
      error: typeof e === "string" ? e : "no such job",
    };
  }
  const job = answer.data as Json;
  const jobId = String(job.id);
  const status = String(job.status ?? "");
  const terminal = TERMINAL.has(status);
  const log = d.jobsDir
    ? await logTail(d.jobsDir, jobId, terminal)
    : { html: "", offset: 0, cut: false };
  const { events: tools, end: toolsEnd } = d.jobsDir && d.redactorOf
    ? await toolEvents(d.jobsDir, jobId, d.redactorOf(String(job.pylon)))
    : { events: [], end: 0 };
  const calls = await pendingToolCalls(d.callApi, jobId);
  const followUps = await childJobs(d.callApi, job);
  const back = `/dashboard/jobs/${encodeURIComponent(jobId)}`;
  const content = html`
    <h1>Job <span class="mono">${short(jobId)}</span> ${statusBadge(job)}</h1>
    <p
      class="muted"><a href="/dashboard/pylons/${encodeURIComponent(String(job.pylon))}">${String(
        job.pylon,
      )}</a> · ${String(job.trigger ?? "")}${job.attempt && Number(job.attempt) > 1
        ? ` · attempt ${job.attempt}`
        : ""}${job.parent_id
        ? html`
          · from <a class="mono" href="/dashboard/jobs/${encodeURIComponent(
            String(job.parent_id),
          )}">${short(job.parent_id)}</a>
        `
        : ""} · <span class="mono">${jobId}</span></p>
    ${jobButtons(job, d.csrf, back)}
    ${calls.length > 0 ? toolCallsSection(calls, jobId, d.csrf, back) : ""}
    <div class="grid">
      <section class="card">
        <h2>Run</h2>
        <dl class="kv">
    <dt>Created</dt><dd>${when(job.created_at)}</dd>
    ${job.started_at
      ? html`
        <dt>Started</dt>
        <dd>${when(job.started_at)}</dd>
      `
      : ""}
    ${job.finished_at
      ? html`
        <dt>Finished</dt>
        <dd>${when(job.finished_at)}</dd>
      `
      : ""}
    ${job.started_at
      ? html`
        <dt>Duration</dt>
        <dd>${jobDuration(job, d.now)}</dd>
      `
      : ""}
    ${usageRows(job)}
    ${job.exit_code !== null && job.exit_code !== undefined
      ? html`
        <dt>Exit code</dt>
        <dd>${String(job.exit_code)}</dd>
      `
      : ""}
    ${linkRows(job)}
        </dl>
      </section>
      <section class="card"><h2>Timeline</h2>${timeline(job)}</section>
    </div>
    ${job.error
      ? html`
        <h2>Error</h2>
        <pre class="json">${String(job.error)}</pre>
      `
      : ""}
    ${resultSection(job)}
    ${followUps.length > 0 || terminal
      ? conversation(followUps, jobId, d.csrf, terminal ? whyNotAsk(job, followUps) : "")
      : ""}
    <h2>Log ${terminal ? "" : html`<span class="muted">(streams while it runs)</span>`}</h2>
    ${log.cut
      ? html`
        <p
          class="muted">Earlier lines are left out; <a href="/api/jobs/${encodeURIComponent(
            jobId,
          )}/log">the whole log</a>.</p>
      `
      : ""}
    <pre class="log" id="log">${raw(log.html)}${log.html
      ? ""
      : html`<span id="log-empty" class="muted">No output yet.</span>`}</pre>
    <h2>Tool events</h2>
    <ol class="tools" id="tools" data-tools-offset="${String(toolsEnd)}">${tools.map((t) =>
      html`<li><strong>${t.tool}</strong> ${t.summary}</li>`
    )}</ol>
    ${tools.length === 0 ? html`<p id="tools-empty" class="muted">None yet.</p>` : ""}
    ${promptSection(job)}
    ${payloadSection(job)}
  `;
  const body = frame({
    title: `Job ${short(jobId)}`,
    nav: "jobs",
    csrf: d.csrf,
    notice: d.notice?.text,
    noticeKind: d.notice?.kind,
    data: {
      page: "job",
      job: jobId,
      "job-status": status,
      "job-waiting": typeof job.waiting === "string" ? job.waiting : "",
      "log-offset": String(log.offset),
    },
  }, content);
  return { status: 200, body };
}

function actionForm(
  action: string,
  label: string,
  o: { csrf: string; back: string; job: string; kind?: string; confirm?: string },
): Html {
  return html`
    <form method="post" action="/dashboard/act/${action}"
      ${o.confirm
        ? html`
          data-confirm="${o.confirm}"
        `
        : ""}>${csrfField(o.csrf)}<input type="hidden" name="job" value="${o
        .job}"><input type="hidden" name="back" value="${o
        .back}"><button type="submit" class="${o.kind ??
        ""}" data-action="${action}">${label}</button></form>
  `;
}

/** The buttons a job's status allows (Approve, Ignore, Kill or Cancel, Retry), as forms. */
export function jobButtons(job: Json, csrf: string, back: string): Html {
  const status = String(job.status);
  const o = { csrf, back, job: String(job.id) };
  const list: Html[] = [];
  if (status === "awaiting_approval" || status === "held") {
    list.push(actionForm("approve", status === "held" ? "Run once over budget" : "Approve", {
      ...o,
      kind: "primary",
    }));
  }
  if (status === "awaiting_approval") list.push(actionForm("ignore", "Ignore", o));
  if (["running", "queued", "held", "awaiting_approval"].includes(status)) {
    list.push(actionForm("kill", status === "running" ? "Kill" : "Cancel", {
      ...o,
      kind: "danger",
      confirm: `Kill job ${short(job.id)}?`,
    }));
  }
  if (TERMINAL.has(status) && status !== "dismissed") list.push(actionForm("retry", "Retry", o));
  return list.length > 0 ? html`<div class="actions">${list}</div>` : html``;
}

async function pendingToolCalls(callApi: ApiCall, id: string): Promise<Json[]> {
  const answer = await callApi("GET", `/jobs/${encodeURIComponent(id)}/tool-calls`);
  return answer.ok && Array.isArray(answer.data) ? answer.data as Json[] : [];
}

/** Pending tool calls with Allow (once, or for the rest of the job) and Deny. */
export function toolCallsSection(calls: Json[], job: string, csrf: string, back: string): Html {
  return html`<section class="card"><h2>Tool calls waiting for you</h2>${
    calls.map((call) => {
      const id = String(call.call_id ?? "");
      const form = (action: string, label: string, forJob: boolean, kind = "") =>
        html`
          <form method="post"
            action="/dashboard/act/${action}">${csrfField(
              csrf,
            )}<input type="hidden" name="job" value="${job}"><input type="hidden" name="call" value="${id}"><input type="hidden" name="back" value="${back}">${forJob
              ? html`<input type="hidden" name="for_job" value="1">`
              : ""}<button type="submit" class="${kind}" data-action="${action}${forJob
              ? "-job"
              : ""}">${label}</button></form>
        `;
      // The summary is the Markdown the chats get (`**Bash**` and the command in a code block),
      // built from the agent's input: rendered through the sanitising renderer.
      const summary = String(call.summary ?? "") || `**${String(call.tool ?? "")}**`;
      return html`<div class="card" data-call-id="${id}"><div class="result tool-summary">${
        raw(renderWithin(summary, 8000).html)
      }</div>
<dl class="kv">${
        call.rule
          ? html`
            <dt>Rule</dt>
            <dd>${String(call.rule)}</dd>
          `
          : ""
      }${
        call.expires_at
          ? html`
            <dt>Expires</dt>
            <dd>${when(call.expires_at)}</dd>
          `
          : ""
      }</dl>
${
        call.input !== undefined
          ? html`
            <details>
              <summary>Input</summary>
              <pre class="json">${fitEscaped(prettyJson(call.input), 4000)
                .text}</pre>
            </details>
          `
          : ""
      }
<div class="actions">${form("allow", "Allow", false, "primary")}${
        form("allow", "Allow for this job", true)
      }${form("deny", "Deny", false, "danger")}</div></div>`;
    })
  }</section>`;
}

function usageRows(job: Json): Html {
  const usage = (job.usage ?? null) as Json | null;
  return html`${
    job.cost_usd !== null && job.cost_usd !== undefined
      ? html`
        <dt>Cost</dt>
        <dd>${usd(job.cost_usd)}${job.cost_basis === "oauth"
          ? html`
            <span class="muted">(at API prices)</span>
          `
          : ""}</dd>
      `
      : ""
  }${
    usage
      ? html`
        <dt>Tokens</dt>
        <dd>${String(usage.total_tokens ?? "")} <span class="muted">(${String(
          usage.input_tokens ?? 0,
        )} in, ${String(usage.output_tokens ?? 0)} out)</span></dd>
      `
      : ""
  }${
    job.num_turns !== null && job.num_turns !== undefined
      ? html`
        <dt>Turns</dt>
        <dd>${String(job.num_turns)}</dd>
      `
      : ""
  }${
    Array.isArray(job.models) && job.models.length > 0
      ? html`
        <dt>Models</dt>
        <dd>${job.models.map(String).join(", ")}</dd>
      `
      : ""
  }`;
}

/** Links the API gives a job (`links`: chat thread, pull request…), only when they are http(s). */
function linkRows(job: Json): Html {
  const found: [string, string][] = [];
  const add = (label: string, value: unknown) => {
    const href = typeof value === "string" ? safeHref(value) : undefined;
    if (href && /^https?:/i.test(href)) found.push([label, href]);
  };
  const links = job.links;
  if (Array.isArray(links)) {
    for (const l of links as Json[]) add(String(l.kind ?? "link").replace(/_/g, " "), l.url);
  } else if (links && typeof links === "object") {
    for (const [k, v] of Object.entries(links as Json)) add(k, v);
  }
  return html`${
    found.map(([label, href]) =>
      html`
        <dt>${label}</dt>
        <dd><a href="${href}" rel="noopener noreferrer">${href}</a></dd>
      `
    )
  }`;
}

function timeline(job: Json): Html {
  const history = Array.isArray(job.history) ? job.history as Json[] : [];
  if (history.length === 0) {
    return html`
      <ol class="timeline">
        <li>${when(job.created_at)} ${statusBadge(job)}</li>
      </ol>
    `;
  }
  return html`<ol class="timeline">${
    history.map((h) =>
      html`<li><span class="muted">${when(h.at)}</span> ${statusBadge({ status: h.status })}${
        h.reason
          ? html`
            <span class="muted">${String(h.reason)}</span>
          `
          : ""
      }</li>`
    )
  }</ol>`;
}

function resultSection(job: Json): Html {
  if (typeof job.result !== "string" || job.result === "") return html``;
  const shown = renderWithin(job.result, RESULT_BYTES);
  return html`<h2>Result</h2><div class="result" id="result">${raw(shown.html)}</div>${
    shown.omitted > 0
      ? html`
        <p
          class="muted">${shown
            .omitted} more characters are in <a href="/api/jobs/${encodeURIComponent(
              String(job.id),
            )}">the job's JSON</a>.</p>
      `
      : ""
  }`;
}

/** Markdown rendered from as much of `text` as fits in `maxBytes` of HTML. */
function renderWithin(text: string, maxBytes: number): { html: string; omitted: number } {
  let source = fitEscaped(text, maxBytes).text;
  for (;;) {
    const out = renderMarkdown(source);
    if (new TextEncoder().encode(out).length <= maxBytes || source.length < 64) {
      return { html: out, omitted: text.length - source.length };
    }
    source = source.slice(0, Math.floor(source.length * 0.7));
  }
}

/** The job's follow-ups (newest {@linkcode FOLLOW_UPS}, oldest first), each in full. */
async function childJobs(callApi: ApiCall, job: Json): Promise<Json[]> {
  let ids: string[];
  if (Array.isArray(job.follow_ups)) {
    ids = (job.follow_ups as Json[]).filter((f) => f.trigger !== "retry").map((f) => String(f.id));
  } else {
    const answer = await callApi(
      "GET",
      `/jobs?pylon=${encodeURIComponent(String(job.pylon))}&limit=200`,
    );
    if (!answer.ok || !Array.isArray(answer.data)) return [];
    ids = (answer.data as Json[]).filter((j) => j.parent_id === job.id && j.trigger !== "retry")
      .map((j) => String(j.id)).reverse();
  }
  const out: Json[] = [];
  for (const id of ids.slice(-FOLLOW_UPS)) {
    const answer = await callApi("GET", `/jobs/${encodeURIComponent(id)}`);
    if (answer.ok && answer.data && typeof answer.data === "object") out.push(answer.data as Json);
  }
  return out;
}

/** The question a follow-up job asked: its prompt (or a message field, on older daemons). */
function question(j: Json): string {
  const payload = (j.payload ?? {}) as Json;
  for (const v of [j.prompt, j.message, payload.message, payload.question]) {
    if (typeof v === "string" && v) return fitEscaped(v, 4000).text;
  }
  return "";
}

/**
 * Why the box to ask a follow-up is not offered (undefined: it is), by the rule the follow-up API
 * applies to the conversation's newest job: finished, not dismissed, with an agent session.
 */
function whyNotAsk(job: Json, followUps: Json[]): string | undefined {
  if (job.status === "dismissed") return "This job was dismissed: it has no agent to ask.";
  const newest = followUps.at(-1) ?? job;
  if (!TERMINAL.has(String(newest.status))) {
    return "A follow-up is still running; ask the next question when it has finished.";
  }
  if (typeof newest.session_id !== "string" || newest.session_id === "") {
    return "Its agent reported no session to resume, so it cannot be asked a follow-up; " +
      "start a new job instead.";
  }
  return undefined;
}

/** The follow-ups, and the box to ask another unless `notAsking` says why not ("": not yet). */
function conversation(
  followUps: Json[],
  job: string,
  csrf: string,
  notAsking: string | undefined,
): Html {
  return html`<h2>Follow-ups</h2><div class="conv">${
    followUps.map((f) =>
      html`
        <div class="msg you">
          <p>${question(f) || html`<span class="muted">(question)</span>`}</p>
        </div>
        <div
          class="msg"><p><a class="mono" href="/dashboard/jobs/${encodeURIComponent(
            String(f.id),
          )}">${short(f.id)}</a> ${statusBadge(f)}</p>${typeof f.result === "string" && f.result
            ? html`<div class="result">${raw(renderWithin(f.result, FOLLOW_UP_BYTES).html)}</div>`
            : ""}</div>
      `
    )
  }</div>${
    notAsking === undefined
      ? html`
        <form method="post"
          action="/dashboard/act/follow-up">${csrfField(
            csrf,
          )}<input type="hidden" name="job" value="${job}"><input type="hidden" name="back" value="/dashboard/jobs/${encodeURIComponent(
            job,
          )}">
        <label>Ask a follow-up (same session)<textarea name="message" required maxlength="20000"></textarea></label>
        <button type="submit" class="primary">Ask</button></form>
      `
      : notAsking
      ? html`<p class="muted" data-no-follow-up>${notAsking}</p>`
      : ""
  }`;
}

function promptSection(job: Json): Html {
  if (typeof job.prompt !== "string" || job.prompt === "") return html``;
  const shown = fitEscaped(job.prompt, PROMPT_BYTES);
  return html`
    <details>
      <summary>Prompt (${job.prompt.length} characters)</summary>
      <pre class="json">${shown.text}${shown.omitted > 0
        ? `\n… ${shown.omitted} more characters`
        : ""}</pre>
    </details>
  `;
}

/**
 * JSON indented for reading. A sender's payload can be nested deeper than indenting can recurse
 * (`JSON.stringify` with a gap overflows the stack some 10,000 levels down, where the compact
 * form still works): such a value is shown compact instead of failing the page.
 */
function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? "";
  } catch {
    try {
      return JSON.stringify(value) ?? "";
    } catch {
      return "(nested too deeply to show here; see the job's JSON)";
    }
  }
}

function payloadSection(job: Json): Html {
  const text = prettyJson(job.payload ?? null);
  const shown = fitEscaped(text, PAYLOAD_BYTES);
  return html`
    <details>
      <summary>Payload (${text.length} characters)</summary>
      <pre class="json" id="payload">${shown.text}${shown.omitted > 0
        ? `\n… ${shown.omitted} more characters (see the job's JSON)`
        : ""}</pre>
    </details>${job.headers && typeof job.headers === "object"
      ? html`
        <details>
          <summary>Headers</summary>
          <pre class="json">${fitEscaped(prettyJson(job.headers), 6000).text}</pre>
        </details>
      `
      : ""}
  `;
}

/** The end of a job's log as HTML lines, and the offset the live stream resumes from. */
async function logTail(
  jobsDir: string,
  id: string,
  final: boolean,
): Promise<{ html: string; offset: number; cut: boolean }> {
  let size = 0;
  try {
    size = (await Deno.stat(join(jobsDir, `${id}.log`))).size;
  } catch {
    return { html: "", offset: 0, cut: false };
  }
  // Read a little more than the budget: escaping makes HTML longer than the text it shows.
  const from = Math.max(0, size - LOG_TAIL_BYTES);
  const read = await readLogLines(jobsDir, id, from, final);
  const lines = from > 0 ? read.lines.slice(1) : read.lines; // the first may be a piece
  const parts: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = `<div class="line">${ansiToHtml(lines[i]!.text)}</div>`;
    if (bytes + line.length > LOG_TAIL_BYTES) break;
    parts.push(line);
    bytes += line.length;
  }
  return {
    html: parts.reverse().join(""),
    offset: read.consumed,
    cut: from > 0 || parts.length < lines.length,
  };
}

async function toolEvents(
  jobsDir: string,
  id: string,
  redactor: Redactor,
): Promise<{ events: { tool: string; summary: string }[]; end: number }> {
  const read = await readToolLines(jobsDir, id, 0);
  const out: { tool: string; summary: string }[] = [];
  for (const line of read.lines) {
    const data = toolData(line.text, redactor);
    if (data) out.push(data);
  }
  const kept: { tool: string; summary: string }[] = [];
  let bytes = 0;
  for (const e of out.slice(-TOOL_EVENTS).reverse()) {
    bytes += fitEscaped(e.tool + e.summary, TOOL_BYTES).text.length * 2 + 30;
    if (bytes > TOOL_BYTES) break;
    kept.unshift(e);
  }
  // Where the page's list ends in the file: the script skips stream events up to there (the
  // stream may replay recent ones the page already shows).
  return { events: kept, end: read.lines.at(-1)?.end ?? 0 };
}
