/**
 * Pieces several dashboard pages share: the jobs table (whose rows the client script updates and
 * prepends live) and a pylon's card (trigger, state, last job, success rate, cost, toggle and
 * Run now). Fields the API does not (yet) send are left out, not shown as errors.
 *
 * @module
 */

import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { csrfField, jobDuration, short, statusBadge, usd, when } from "./layout.ts";

type Json = Record<string, unknown>;
type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** Filters a table was rendered with, so the script inserts only jobs that match. */
export interface TableFilter {
  pylon?: string | undefined;
  status?: string | undefined;
  trigger?: string | undefined;
  q?: string | undefined;
}

/** The jobs table; `live` lets the script prepend new jobs (first page only). */
export function jobsTable(
  jobs: Json[],
  o: { now: Date; live: boolean; filter?: TableFilter; empty?: string },
): Html {
  const f = o.filter ?? {};
  return html`
    <table${o.live
      ? html`
        data-live-insert="1"
      `
      : ""} data-filter-pylon="${f.pylon ?? ""}" data-filter-status="${f.status ?? ""}"
      data-filter-trigger="${f.trigger ?? ""}" data-filter-q="${f.q ?? ""}">
    <thead><tr><th>Job</th><th>Pylon</th><th>Status</th><th>Trigger</th><th>Started</th><th>Duration</th><th>Cost</th></tr></thead>
    <tbody>${jobs.map((j) => jobRow(j, o.now))}</tbody></table>${jobs.length === 0
      ? html`<p id="no-jobs" class="muted">${o.empty ?? "No jobs."}</p>`
      : ""}
  `;
}

function jobRow(job: Json, now: Date): Html {
  const id = String(job.id ?? "");
  const pylon = String(job.pylon ?? "");
  return html`
    <tr data-job-id="${id}">
      <td><a class="mono" href="/dashboard/jobs/${encodeURIComponent(id)}">${short(id)}</a></td>
      <td><a href="/dashboard/pylons/${encodeURIComponent(pylon)}">${pylon}</a></td>
      <td data-col="status">${statusBadge(job)}${toolsWaiting(job)}</td>
      <td>${String(job.trigger ?? "")}</td>
      <td data-col="started">${when(job.started_at ?? job.created_at)}</td>
      <td data-col="duration">${jobDuration(job, now)}</td>
      <td data-col="cost">${usd(job.cost_usd)}</td>
    </tr>
  `;
}

function toolsWaiting(job: Json): Html | string {
  const n = job.tool_calls_waiting;
  return typeof n === "number" && n > 0
    ? html`
      <span class="badge s-waiting">${n} tool call${n === 1 ? "" : "s"}</span>
    `
    : "";
}

/** One pylon: what triggers it, where it stands, and its buttons. */
export function pylonCard(p: Json, o: { csrf: string; back: string; link: boolean }): Html {
  const name = String(p.name ?? "");
  const state = String(p.state ?? (p.enabled === false ? "disabled" : "active"));
  const trigger = (p.trigger ?? null) as Json | null;
  const last = (p.last_job ?? null) as Json | null;
  const cost = (p.cost ?? {}) as Json;
  const counts = (p.jobs ?? null) as Record<string, number> | null;
  const rate = successRate(p.success_rate);
  const enc = encodeURIComponent(name);
  return html`<section class="card" data-pylon-card="${name}">
<h2>${o.link ? html`<a href="/dashboard/pylons/${enc}">${name}</a>` : name} <span class="badge s-${
    state === "active" ? "completed" : "held"
  }">${state}</span></h2>
<dl class="kv">${triggerRows(trigger, p)}
${field("Workspace", describe(p.workspace))}${field("Agent", describe(p.agent))}${
    field("Channels", describe(p.channels ?? p.channel))
  }
<dt>Last job</dt><dd data-last-job-for="${name}">${
    last
      ? html`
        <a class="mono" href="/dashboard/jobs/${encodeURIComponent(String(last.id))}">${short(
          last.id,
        )}</a> ${statusBadge(last)} <span
          class="muted">${when(last.finished_at ?? last.created_at)}</span>
      `
      : html`<span class="muted">none</span>`
  }</dd>
${field("Success rate", rate)}${field("Not loaded", typeof p.reason === "string" ? p.reason : "")}
${field("Cost today", usd(p.cost_today_usd ?? cost.today_usd ?? cost.today))}${
    field("Cost this month", usd(p.cost_month_usd ?? cost.month_usd ?? cost.month))
  }
${counts ? field("Jobs", countsText(counts)) : ""}
</dl>
<div class="actions">
${
    state === "not_loaded" ? "" : html`
      <form method="post"
        action="/dashboard/act/${state === "disabled" ? "enable" : "disable"}">${csrfField(
          o.csrf,
        )}<input type="hidden" name="pylon" value="${name}"><input type="hidden" name="back" value="${o
          .back}"><button type="submit">${state === "disabled"
          ? "Enable"
          : "Disable"}</button></form>
    `
  }
</div>
${
    state === "active"
      ? html`
        <details>
          <summary>Run now</summary>
          <form method="post" action="/dashboard/act/trigger">${csrfField(o.csrf)}
        <input type="hidden" name="pylon" value="${name}"><input type="hidden" name="back" value="${o
          .back}">
        <label>Payload (JSON object, optional)<textarea name="payload" spellcheck="false" placeholder="{}"></textarea></label>
        <button class="primary" type="submit">Run ${name} now</button></form>
        </details>
      `
      : ""
  }
</section>`;
}

function triggerRows(trigger: Json | null, p: Json): Html | string {
  if (!trigger) return field("Trigger", "unknown (not loaded)");
  if (trigger.type === "cron") {
    const next = typeof trigger.next_run === "string" ? trigger.next_run : undefined;
    return html`
      <dt>Trigger</dt>
      <dd>cron <code>${String(trigger.cron ?? "")}</code>${trigger.description
        ? html`
          <span class="muted">(${String(trigger.description)})</span>
        `
        : ""} in ${String(trigger.timezone ?? "")}</dd>
      <dt>Next run</dt>
      <dd>${next
        ? html`
          <time datetime="${next}" title="${when(next)}">${zoned(next, trigger.timezone)}</time>
          <span class="muted" data-countdown="${next}"></span>
        `
        : html`<span class="muted">none</span>`}</dd>
    `;
  }
  return html`<dt>Trigger</dt><dd>webhook <code>${String(trigger.path ?? "")}</code></dd>${
    typeof (p.webhook_url ?? trigger.url) === "string"
      ? field("Webhook URL", String(p.webhook_url ?? trigger.url), true)
      : ""
  }`;
}

/**
 * A time as the pylon's clock shows it (`Mon 7 Dec, 09:00 CET`): a cron schedule is written in
 * its zone, so that is the time a user checks; the UTC time is the element's title. A zone
 * `Intl` does not know falls back to UTC.
 */
export function zoned(iso: string, zone: unknown): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  try {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: typeof zone === "string" && zone ? zone : "UTC",
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      timeZoneName: "short",
    }).format(d);
  } catch {
    return when(iso);
  }
}

function field(label: string, value: string, mono = false): Html | string {
  if (!value) return "";
  return html`
    <dt>${label}</dt>
    <dd${mono
      ? html`
        class="mono"
      `
      : ""}>${value}</dd>
  `;
}

/** A config summary the API may send as text, a list or an object. */
function describe(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (Array.isArray(value)) return value.map(describe).filter((s) => s).join(", ");
  if (typeof value === "object") {
    const o = value as Json;
    const main = o.type ?? o.kind ?? o.name;
    const rest = Object.entries(o).filter(([k, v]) =>
      !["type", "kind", "name"].includes(k) && (typeof v === "string" || typeof v === "number")
    ).map(([k, v]) => `${k}: ${v}`);
    return [main, ...rest].filter((s) => s !== undefined && s !== "").join(" · ");
  }
  return "";
}

/** `67% (2 of 3 in 30 days)` from a number or the API's `{completed, finished, rate, days}`. */
function successRate(value: unknown): string {
  if (typeof value === "number") return `${Math.round(value * 100)}%`;
  if (!value || typeof value !== "object") return "";
  const r = value as Json;
  if (typeof r.rate !== "number") return typeof r.finished === "number" ? "no finished jobs" : "";
  return `${Math.round(r.rate * 100)}% (${r.completed} of ${r.finished}${
    typeof r.days === "number" ? ` in ${r.days} days` : ""
  })`;
}

function countsText(counts: Record<string, number>): string {
  return Object.entries(counts).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(", ") ||
    "none yet";
}
