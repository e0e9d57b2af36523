/**
 * The dashboard's list pages: pylons (`/dashboard/`), one pylon (`/dashboard/pylons/<name>`),
 * jobs (`/dashboard/jobs`, filtered by pylon, status, trigger and text, paged with `before=`)
 * and needs-you (`/dashboard/needs-you`: jobs waiting for approval, held over budget, or waiting
 * for a tool approval). Each reads the control API as the logged-in user.
 *
 * @module
 */

import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { ApiCall } from "./api_caller.ts";
import { jobsTable, pylonCard, type TableFilter } from "./components.ts";
import { jobButtons, toolCallsSection } from "./job_page.ts";
import { csrfField, frame, short, statusBadge, when } from "./layout.ts";

type Json = Record<string, unknown>;
type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What a list page needs. */
export interface ListPageDeps {
  callApi: ApiCall;
  csrf: string;
  now: Date;
  notice?: { text: string; kind: "error" | "info" } | undefined;
}

/** Jobs per page of `/dashboard/jobs`. */
export const PAGE_SIZE = 25;
/** The statuses the filter offers. */
const STATUSES = [
  "awaiting_approval",
  "queued",
  "held",
  "running",
  "completed",
  "failed",
  "timed_out",
  "killed",
  "dismissed",
];
/** The trigger kinds the filter offers. */
const TRIGGERS = ["webhook", "cron", "manual", "retry", "follow-up"];

async function listOf(callApi: ApiCall, path: string): Promise<Json[]> {
  const answer = await callApi("GET", path);
  return answer.ok && Array.isArray(answer.data) ? answer.data as Json[] : [];
}

function frameOf(d: ListPageDeps, o: Parameters<typeof frame>[0], content: Html) {
  return frame({ ...o, csrf: d.csrf, notice: d.notice?.text, noticeKind: d.notice?.kind }, content);
}

/** `/dashboard/`: every pylon. */
export async function pylonsPage(d: ListPageDeps): Promise<Html> {
  const pylons = await listOf(d.callApi, "/pylons");
  const content = html`<h1>Pylons</h1>${
    pylons.length === 0
      ? html`<p class="muted">No pylons yet: <code>pylon construct &lt;name&gt;</code> makes one.</p>`
      : ""
  }<div class="grid">${
    pylons.map((p) => pylonCard(p, { csrf: d.csrf, back: "/dashboard/", link: true }))
  }</div>`;
  return frameOf(
    d,
    { title: "Pylons", nav: "pylons", csrf: d.csrf, data: { page: "pylons" } },
    content,
  );
}

/**
 * Deleting a pylon (its folder, jobs database and logs, through `DELETE /api/pylons/<name>`):
 * folded away, and only after typing its name; unfinished jobs block it unless the box to kill
 * them is checked.
 */
function deleteForm(name: string, csrf: string, back: string): Html {
  return html`
    <details class="danger-zone">
      <summary>Delete this pylon</summary>
      <form method="post"
        action="/dashboard/act/destroy">${csrfField(
          csrf,
        )}<input type="hidden" name="pylon" value="${name}"><input type="hidden" name="back" value="${back}">
    <p class="muted">Removes its folder, its jobs and their logs. This cannot be undone.</p>
    <label>Type <code>${name}</code> to confirm<input name="confirm" autocomplete="off" spellcheck="false" required></label>
    <label class="check"><input type="checkbox" name="force" value="1"> Kill its unfinished jobs first</label>
    <button type="submit" class="danger" data-action="destroy">Delete ${name}</button></form>
    </details>
  `;
}

/** `/dashboard/pylons/<name>`: one pylon and its latest jobs; undefined when there is none. */
export async function pylonPage(name: string, d: ListPageDeps): Promise<Html | undefined> {
  const pylon = (await listOf(d.callApi, "/pylons")).find((p) => p.name === name);
  if (!pylon) return undefined;
  const jobs = await listOf(
    d.callApi,
    `/jobs?pylon=${encodeURIComponent(name)}&limit=${PAGE_SIZE}`,
  );
  const back = `/dashboard/pylons/${encodeURIComponent(name)}`;
  const content = html`<h1>${name}</h1>${pylonCard(pylon, { csrf: d.csrf, back, link: false })}
<h2>Latest jobs <a class="muted" href="/dashboard/jobs?pylon=${
    encodeURIComponent(name)
  }">(all)</a></h2>
${jobsTable(jobs, { now: d.now, live: true, filter: { pylon: name } })}
${deleteForm(name, d.csrf, back)}`;
  return frameOf(d, {
    title: name,
    nav: "pylons",
    csrf: d.csrf,
    data: { page: "pylon", pylon: name },
  }, content);
}

/** `/dashboard/jobs`: filtered and paged. */
export async function jobsPage(query: URLSearchParams, d: ListPageDeps): Promise<Html> {
  const f: TableFilter = {
    pylon: query.get("pylon")?.trim() || undefined,
    status: query.get("status")?.trim() || undefined,
    trigger: query.get("trigger")?.trim() || undefined,
    q: query.get("q")?.trim().slice(0, 200) || undefined,
  };
  const before = query.get("before")?.trim() || undefined;
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [k, v] of Object.entries({ ...f, before })) if (v) params.set(k, v);
  const answer = await d.callApi("GET", `/jobs?${params}`);
  const error = answer.ok
    ? undefined
    : String((answer.data as Json | null)?.error ?? answer.status);
  // The API filters by trigger and text where it can; filtering again here costs nothing and
  // keeps the page right with a daemon whose API ignores those parameters.
  const jobs = (answer.ok && Array.isArray(answer.data) ? answer.data as Json[] : [])
    .filter((j) => !f.trigger || j.trigger === f.trigger)
    .filter((j) => !f.q || matchesText(j, f.q));
  const pylons = (await listOf(d.callApi, "/pylons")).map((p) => String(p.name));
  const nextLink = /<([^>]+)>;\s*rel="next"/.exec(answer.headers.get("link") ?? "")?.[1];
  const nextBefore = nextLink ? new URL(nextLink, "http://x").searchParams.get("before") : null;
  const next = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) next.set(k, v);
  if (nextBefore) next.set("before", nextBefore);
  const select = (name: string, options: string[], current: string | undefined, all: string) =>
    html`
      <select name="${name}"
        aria-label="${name}"><option value="">${all}</option>${options.map((o) =>
          html`
            <option value="${o}" ${o === current
              ? html`
                selected
              `
              : ""}>${o}</option>
          `
        )}</select>
    `;
  const content = html`<h1>Jobs</h1>
<form class="filters" method="get" action="/dashboard/jobs">
${select("pylon", pylons, f.pylon, "all pylons")}${
    select("status", STATUSES, f.status, "any status")
  }${select("trigger", TRIGGERS, f.trigger, "any trigger")}
<input type="search" name="q" value="${
    f.q ?? ""
  }" placeholder="text in id, result, error" aria-label="text">
<button type="submit">Filter</button>${
    Object.values(f).some((v) => v)
      ? html`
        <a href="/dashboard/jobs">clear</a>
      `
      : ""
  }</form>
${error ? html`<p class="notice error">${error}</p>` : ""}
${jobsTable(jobs, { now: d.now, live: before === undefined, filter: f, empty: "No jobs match." })}
<p class="pager">${
    before
      ? html`
        <a href="/dashboard/jobs?${pageParams(f)}">newest</a> ·
      `
      : ""
  }${
    nextBefore ? html`<a href="/dashboard/jobs?${next.toString()}" rel="next">older →</a>` : ""
  }</p>`;
  return frameOf(d, { title: "Jobs", nav: "jobs", csrf: d.csrf, data: { page: "jobs" } }, content);
}

function pageParams(f: TableFilter): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) p.set(k, v);
  return p.toString();
}

function matchesText(job: Json, q: string): boolean {
  const needle = q.toLowerCase();
  return [job.id, job.pylon, job.result, job.error, job.trigger].some((v) =>
    typeof v === "string" && v.toLowerCase().includes(needle)
  );
}

/** A job waiting for a decision, with the buttons to make it here. */
function waitingJob(job: Json, csrf: string): Html {
  const id = String(job.id ?? "");
  const pylon = String(job.pylon ?? "");
  return html`
    <section class="card"
      data-needs-job="${id}"><p><a class="mono" href="/dashboard/jobs/${encodeURIComponent(
        id,
      )}">${short(id)}</a> <a href="/dashboard/pylons/${encodeURIComponent(
        pylon,
      )}">${pylon}</a> ${statusBadge(job)} <span class="muted">${String(
        job.trigger ?? "",
      )} job, created ${when(job.created_at)}</span></p>${jobButtons(
        job,
        csrf,
        "/dashboard/needs-you",
      )}</section>
  `;
}

/** `/dashboard/needs-you`: everything waiting for a person, each with its decision buttons. */
export async function needsYouPage(d: ListPageDeps): Promise<Html> {
  const waiting = await listOf(d.callApi, "/jobs?status=awaiting_approval,held&limit=100");
  const running = (await listOf(d.callApi, "/jobs?status=running,queued&limit=200"))
    .filter((j) =>
      (typeof j.waiting === "string" && j.waiting) || Number(j.tool_calls_waiting) > 0
    );
  const toolSections: Html[] = [];
  for (const job of running) {
    const id = String(job.id);
    const answer = await d.callApi("GET", `/jobs/${encodeURIComponent(id)}/tool-calls`);
    const calls = answer.ok && Array.isArray(answer.data) ? answer.data as Json[] : [];
    toolSections.push(
      html`
        <h3
          data-needs-job="${id}"><a class="mono" href="/dashboard/jobs/${encodeURIComponent(
            id,
          )}">${short(id)}</a> ${String(job.pylon)} ${statusBadge(job)}</h3>${calls.length > 0
            ? toolCallsSection(calls, id, d.csrf, "/dashboard/needs-you")
            : ""}
      `,
    );
  }
  const content = html`<h1>Needs you</h1>
<h2>Waiting for approval or over budget</h2>
${
    waiting.length > 0
      ? waiting.map((j) => waitingJob(j, d.csrf))
      : html`<p class="muted">Nothing waits for approval.</p>`
  }
<h2>Tool calls waiting</h2>${
    toolSections.length > 0 ? toolSections : html`<p class="muted">No tool call waits.</p>`
  }`;
  return frameOf(d, {
    title: "Needs you",
    nav: "needs-you",
    csrf: d.csrf,
    data: { page: "needs-you" },
  }, content);
}
