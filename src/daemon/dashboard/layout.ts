/**
 * The frame every dashboard page shares (header, navigation, logout, the CSRF token for the
 * client script) and the small formatters pages use. Built with hono's `html` template, which
 * escapes every interpolated value; `raw()` appears only for the sanitised Markdown and ANSI
 * output (see `markdown.ts`, `ansi_html.ts`).
 *
 * @module
 */

import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { VERSION } from "../../version.ts";

/** Anything hono's `html` accepts as a piece of a page. */
export type Piece = HtmlEscapedString | Promise<HtmlEscapedString> | string | null | undefined;
/** What hono's `html` returns. */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What a page frame needs. */
export interface FrameOptions {
  title: string;
  /** The navigation entry to mark. */
  nav?: "pylons" | "jobs" | "needs-you";
  csrf: string;
  /** `data-*` attributes of `<body>` for the client script (keys without `data-`). */
  data?: Record<string, string | undefined>;
  /** A one-line message after an action (`?notice=`), shown escaped. */
  notice?: string | undefined;
  noticeKind?: "error" | "info" | undefined;
}

/** A whole page: the frame around `content`. */
export function frame(o: FrameOptions, content: Piece): Html {
  const attrs = Object.entries(o.data ?? {}).filter(([, v]) => v !== undefined)
    .map(([k, v]) =>
      html`
        data-${raw(k.replace(/[^a-z-]/g, ""))}="${v}"
      `
    );
  const link = (key: NonNullable<FrameOptions["nav"]>, href: string, label: string) =>
    html`
      <a href="${href}" ${raw(o.nav === key ? ' aria-current="page"' : "")}>${label}</a>
    `;
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="same-origin">
        <title>${o.title} · pylon</title>
        <link rel="stylesheet" href="/dashboard/assets/app.css?v=${VERSION}">
        <link rel="icon" href="data:,">
        <script src="/dashboard/assets/app.js?v=${VERSION}" defer></script>
      </head>
      <body${attrs}>
        <header class="top"><span class="brand">pylon</span>
    <nav>${link("pylons", "/dashboard/", "Pylons")}${link("jobs", "/dashboard/jobs", "Jobs")}${link(
      "needs-you",
      "/dashboard/needs-you",
      "Needs you",
    )}</nav>
    <span id="live" class="badge muted" title="live updates">static</span>
    <form method="post" action="/dashboard/logout"><input type="hidden" name="_csrf" value="${o
      .csrf}"><button type="submit">Log out</button></form>
        </header>
        <main>${o.notice
          ? html`<p class="notice${o.noticeKind === "error" ? " error" : ""}" role="status">${
            o.notice.slice(0, 500)
          }</p>`
          : ""}${content}</main>
        </body>
        </html>
  `;
}

/** A page for someone not logged in (or a failed login): no frame, no data. */
export function loggedOutPage(title: string, message: string): Html {
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>${title} · pylon</title>
        <link rel="stylesheet" href="/dashboard/assets/app.css?v=${VERSION}">
        <link rel="icon" href="data:,">
      </head>
      <body>
        <main>
          <h1>${title}</h1>
          <p>${message}</p>
          <p>On the machine where the daemon runs, <code>pylon dashboard</code> prints a new one-time login link.</p>
        </main>
      </body>
    </html>
  `;
}

/** A hidden CSRF field for a form. */
export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`;
}

/** A status badge (with the tool-approval wait when the job has one). */
export function statusBadge(job: Record<string, unknown>): Html {
  const status = String(job.status ?? "unknown");
  const waiting = typeof job.waiting === "string" && job.waiting ? job.waiting : undefined;
  return html`<span class="badge s-${status.replace(/[^a-z_]/g, "")}${
    waiting ? " s-waiting" : ""
  }">${waiting ? `${status} (waiting: ${waiting})` : status}</span>`;
}

/** An ISO time as `YYYY-MM-DD HH:MM:SSZ` (empty when absent). */
export function when(iso: unknown): string {
  if (typeof iso !== "string") return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().slice(0, 19).replace("T", " ") + "Z";
}

/** Milliseconds as `3s`, `4m 10s`, `2h 5m`, `3d 4h`. */
export function duration(ms: number): string {
  if (!(ms >= 0)) return "";
  let s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  let m = Math.floor(s / 60);
  s %= 60;
  if (m < 60) return `${m}m ${s}s`;
  const h = Math.floor(m / 60);
  m %= 60;
  return h < 48 ? `${h}h ${m}m` : `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A job's run time so far (or in total), empty before it started. */
export function jobDuration(job: Record<string, unknown>, now: Date): string {
  if (typeof job.started_at !== "string") return "";
  const end = typeof job.finished_at === "string" ? Date.parse(job.finished_at) : now.getTime();
  return duration(end - Date.parse(job.started_at));
}

/** Dollars, with more digits for small amounts (empty when unknown). */
export function usd(value: unknown): string {
  return typeof value === "number" && Number.isFinite(value)
    ? `$${value.toFixed(value < 1 ? 4 : 2)}`
    : "";
}

/** The first 8 characters of a job id. */
export function short(id: unknown): string {
  return String(id ?? "").slice(0, 8);
}

/** Text cut to `max` characters, with a note of how much was left out. */
export function cut(text: string, max: number): { text: string; omitted: number } {
  return text.length <= max
    ? { text, omitted: 0 }
    : { text: text.slice(0, max), omitted: text.length - max };
}

/**
 * The longest start of `text` whose escaped HTML takes at most `maxBytes` (UTF-8), with how many
 * characters were left out: page budgets count what is sent, and escaping `<` sends four bytes.
 */
export function fitEscaped(text: string, maxBytes: number): { text: string; omitted: number } {
  let bytes = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    bytes += ch === 38
      ? 5
      : ch === 60 || ch === 62
      ? 4
      : ch === 34
      ? 6
      : ch === 39
      ? 5
      : ch < 0x80
      ? 1
      : ch < 0x800
      ? 2
      : 3;
    if (bytes > maxBytes) break;
  }
  return { text: text.slice(0, i), omitted: text.length - i };
}
