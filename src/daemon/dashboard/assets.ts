/**
 * The dashboard's only assets, embedded so the compiled binary serves them: one stylesheet and
 * one small client script (served from `/dashboard/assets/`; the CSP allows scripts and styles
 * from our origin only, so nothing is inline).
 *
 * The script is progressive enhancement: every page works without it (forms post, links
 * navigate). With it: one `EventSource` on `/api/events` (the session cookie authenticates it)
 * updates job rows and statuses, appends log lines (ANSI colours as classes, text set with
 * `textContent`, never parsed as HTML) and tool events, reloads a job's page when its status
 * changes (so buttons and the result follow), counts down to cron runs, and asks before a kill.
 *
 * @module
 */

/** `/dashboard/assets/app.css`. */
export const APP_CSS = `
:root{--bg:#fff;--fg:#1b1f24;--mute:#656d76;--line:#d0d7de;--card:#f6f8fa;--acc:#0969da;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--mute:#8d96a0;--line:#30363d;--card:#161b22;--acc:#4493f8;--ok:#3fb950;--bad:#f85149;--warn:#d29922}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg)}
header.top{display:flex;gap:1.2em;align-items:center;padding:.6em 1.2em;border-bottom:1px solid var(--line);background:var(--card)}
header.top .brand{font-weight:700;margin-right:1em}
header.top nav a{margin-right:1em}
header.top form{margin-left:auto}
main{padding:1em 1.2em;max-width:1200px}
a{color:var(--acc);text-decoration:none}a:hover{text-decoration:underline}
h1{font-size:1.4em;margin:.2em 0 .6em}h2{font-size:1.1em;margin:1.4em 0 .5em}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--mute);font-weight:600}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.muted{color:var(--mute)}
.badge{display:inline-block;padding:0 .5em;border-radius:1em;border:1px solid var(--line);font-size:12px;white-space:nowrap}
.s-completed{color:var(--ok);border-color:var(--ok)}
.s-failed,.s-timed_out,.s-killed{color:var(--bad);border-color:var(--bad)}
.s-running{color:var(--acc);border-color:var(--acc)}
.s-awaiting_approval,.s-held,.s-waiting{color:var(--warn);border-color:var(--warn)}
.card{border:1px solid var(--line);border-radius:6px;padding:.8em 1em;margin:.6em 0;background:var(--card)}
.card h2{margin-top:0}
.card>p:first-child{margin-top:0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:.8em}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em}
.kv dt{color:var(--mute)}.kv dd{margin:0;overflow-wrap:anywhere}
.actions{display:flex;gap:.5em;flex-wrap:wrap;margin:.6em 0}
.actions form{display:inline}
button{font:inherit;padding:.3em .9em;border-radius:6px;border:1px solid var(--line);background:var(--bg);color:var(--fg);cursor:pointer}
button.primary{background:var(--acc);border-color:var(--acc);color:#fff}
button.danger{color:var(--bad);border-color:var(--bad)}
.danger-zone{margin-top:2em}
.danger-zone label{display:block;margin:.4em 0}
.danger-zone input[name=confirm]{margin-left:.5em}
label.check input{width:auto;margin-right:.4em}
input,select,textarea{font:inherit;padding:.3em .5em;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
textarea{width:100%;min-height:4em}
form.filters{display:flex;gap:.5em;flex-wrap:wrap;margin-bottom:.8em}
.notice{padding:.5em .8em;border-radius:6px;border:1px solid var(--acc);margin-bottom:1em}
.notice.error{border-color:var(--bad)}
pre.log{background:#0d1117;color:#e6edf3;padding:.8em;border-radius:6px;max-height:32em;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;margin:0}
pre.log .line{min-height:1.2em}
pre.json{background:var(--card);padding:.6em;border-radius:6px;overflow:auto;max-height:30em;white-space:pre-wrap;overflow-wrap:anywhere}
.result{border:1px solid var(--line);border-radius:6px;padding:.2em 1em;overflow-wrap:anywhere}
.result pre{background:var(--card);padding:.5em;overflow:auto}
ol.timeline{list-style:none;padding:0;margin:0}ol.timeline li{padding:.15em 0}
ol.tools{padding-left:1.2em}ol.tools li{margin:.15em 0}
.conv .msg{border-left:3px solid var(--line);padding:.2em .8em;margin:.5em 0}
.conv .msg.you{border-color:var(--acc)}
.a-b{font-weight:700}.a-d{opacity:.7}.a-i{font-style:italic}.a-u{text-decoration:underline}
.a-f0{color:#6e7681}.a-f1{color:#ff7b72}.a-f2{color:#3fb950}.a-f3{color:#d29922}.a-f4{color:#58a6ff}.a-f5{color:#bc8cff}.a-f6{color:#39c5cf}.a-f7{color:#b1bac4}
.a-f8{color:#8b949e}.a-f9{color:#ffa198}.a-f10{color:#56d364}.a-f11{color:#e3b341}.a-f12{color:#79c0ff}.a-f13{color:#d2a8ff}.a-f14{color:#56d4dd}.a-f15{color:#fff}
.a-g0{background:#484f58}.a-g1{background:#8e1519}.a-g2{background:#0f5323}.a-g3{background:#693e00}.a-g4{background:#0c2d6b}.a-g5{background:#5a1e8c}.a-g6{background:#0a4a52}.a-g7{background:#6e7681}
.a-g8{background:#6e7681}.a-g9{background:#b62324}.a-g10{background:#196c2e}.a-g11{background:#845306}.a-g12{background:#1158c7}.a-g13{background:#8250df}.a-g14{background:#1b7c83}.a-g15{background:#b1bac4}
.pager{margin-top:.8em}
details summary{cursor:pointer}
`;

/** `/dashboard/assets/app.js` (plain ES2020, no modules, no dependencies). */
export const APP_JS = `"use strict";
(function () {
  var body = document.body;
  var page = body.getAttribute("data-page");
  var TERMINAL = ["completed", "failed", "timed_out", "killed", "dismissed"];

  function applySgr(style, params) {
    var codes = params === "" ? [0] : params.split(/[;:]/).map(function (p) { return Number(p || 0); });
    for (var i = 0; i < codes.length; i++) {
      var n = codes[i];
      if (n === 0) { style.fg = style.bg = undefined; style.b = style.d = style.i = style.u = false; }
      else if (n === 1) style.b = true; else if (n === 2) style.d = true;
      else if (n === 3) style.i = true; else if (n === 4) style.u = true;
      else if (n === 22) style.b = style.d = false; else if (n === 23) style.i = false;
      else if (n === 24) style.u = false;
      else if (n >= 30 && n <= 37) style.fg = n - 30; else if (n >= 90 && n <= 97) style.fg = n - 82;
      else if (n === 39) style.fg = undefined;
      else if (n >= 40 && n <= 47) style.bg = n - 40; else if (n >= 100 && n <= 107) style.bg = n - 92;
      else if (n === 49) style.bg = undefined;
      else if (n === 38 || n === 48) {
        var mode = codes[i + 1], value = mode === 5 ? codes[i + 2] : undefined;
        if (value !== undefined && value < 16) { if (n === 38) style.fg = value; else style.bg = value; }
        i += mode === 5 ? 2 : mode === 2 ? 4 : 1;
      }
    }
  }
  function classesOf(s) {
    var c = [];
    if (s.fg !== undefined) c.push("a-f" + s.fg);
    if (s.bg !== undefined) c.push("a-g" + s.bg);
    if (s.b) c.push("a-b"); if (s.d) c.push("a-d"); if (s.i) c.push("a-i"); if (s.u) c.push("a-u");
    return c.join(" ");
  }
  /** A log line (already sanitised by the daemon: only SGR remains) as DOM nodes. */
  function ansiLine(text) {
    var div = document.createElement("div");
    div.className = "line";
    var style = {}, last = 0, re = /\\x1b\\[([0-9;:]*)m/g, m;
    function emit(part) {
      if (!part) return;
      var cls = classesOf(style);
      if (!cls) { div.appendChild(document.createTextNode(part)); return; }
      var span = document.createElement("span");
      span.className = cls;
      span.textContent = part;
      div.appendChild(span);
    }
    while ((m = re.exec(text)) !== null) {
      emit(text.slice(last, m.index));
      applySgr(style, m[1]);
      last = m.index + m[0].length;
    }
    // Any other control character left (there should be none) is dropped, never interpreted.
    emit(text.slice(last).replace(/[\\x00-\\x08\\x0b-\\x1f\\x7f]/g, ""));
    return div;
  }

  function duration(ms) {
    if (!(ms >= 0)) return "";
    var s = Math.round(ms / 1000);
    if (s < 60) return s + "s";
    var m = Math.floor(s / 60); s = s % 60;
    if (m < 60) return m + "m " + s + "s";
    var h = Math.floor(m / 60); m = m % 60;
    if (h < 48) return h + "h " + m + "m";
    return Math.floor(h / 24) + "d " + (h % 24) + "h";
  }
  function when(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return isNaN(d.getTime()) ? "" : d.toISOString().slice(0, 19).replace("T", " ") + "Z";
  }
  function statusText(job) {
    return job.waiting ? job.status + " (waiting: " + job.waiting + ")" : job.status;
  }
  function setBadge(el, job) {
    el.textContent = statusText(job);
    el.className = "badge s-" + job.status + (job.waiting ? " s-waiting" : "");
  }

  // Countdowns to the next cron run.
  function tick() {
    var els = document.querySelectorAll("[data-countdown]");
    for (var i = 0; i < els.length; i++) {
      var at = Date.parse(els[i].getAttribute("data-countdown"));
      var left = at - Date.now();
      els[i].textContent = left > 0 ? "in " + duration(left) : "due";
    }
  }
  if (document.querySelector("[data-countdown]")) { tick(); setInterval(tick, 1000); }

  // Ask before killing, deleting and the like; a Run now payload that is not a JSON object is
  // pointed out here, keeping what was typed (the server's answer would be a page without it).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var payload = form && form.querySelector && form.querySelector("textarea[name=payload]");
    if (payload && payload.value.trim() !== "") {
      var problem = "";
      try {
        var v = JSON.parse(payload.value);
        if (v === null || typeof v !== "object" || Array.isArray(v)) {
          problem = 'The payload must be a JSON object, like {"key": "value"}.';
        }
      } catch (err) {
        problem = "The payload is not valid JSON: " + err.message;
      }
      payload.setCustomValidity(problem);
      if (problem) { e.preventDefault(); payload.reportValidity(); return; }
    }
    var q = form && form.getAttribute && form.getAttribute("data-confirm");
    if (q && !window.confirm(q)) e.preventDefault();
  });
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t && t.name === "payload" && t.setCustomValidity) t.setCustomValidity("");
  });

  if (!window.EventSource || !page) return;

  function jobRow(job) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-job-id", job.id);
    function cell(text, cls) {
      var td = document.createElement("td");
      if (cls) td.className = cls;
      if (text instanceof Node) td.appendChild(text); else td.textContent = text;
      tr.appendChild(td);
      return td;
    }
    var a = document.createElement("a");
    a.href = "/dashboard/jobs/" + encodeURIComponent(job.id);
    a.className = "mono";
    a.textContent = String(job.id).slice(0, 8);
    cell(a);
    var p = document.createElement("a");
    p.href = "/dashboard/pylons/" + encodeURIComponent(job.pylon);
    p.textContent = job.pylon;
    cell(p);
    var badge = document.createElement("span");
    setBadge(badge, job);
    cell(badge).setAttribute("data-col", "status");
    cell(job.trigger || "");
    cell(when(job.started_at || job.created_at)).setAttribute("data-col", "started");
    cell(rowDuration(job)).setAttribute("data-col", "duration");
    cell(cost(job)).setAttribute("data-col", "cost");
    return tr;
  }
  function rowDuration(job) {
    if (!job.started_at) return "";
    var end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
    return duration(end - Date.parse(job.started_at));
  }
  function cost(job) {
    return typeof job.cost_usd === "number" ? "$" + job.cost_usd.toFixed(job.cost_usd < 1 ? 4 : 2) : "";
  }
  function updateRow(tr, job) {
    var b = tr.querySelector("[data-col=status] .badge");
    if (b) setBadge(b, job);
    var s = tr.querySelector("[data-col=started]");
    if (s) s.textContent = when(job.started_at || job.created_at);
    var d = tr.querySelector("[data-col=duration]");
    if (d) d.textContent = rowDuration(job);
    var c = tr.querySelector("[data-col=cost]");
    if (c) c.textContent = cost(job);
  }
  function fits(table, job) {
    var f = function (k) { return table.getAttribute("data-filter-" + k) || ""; };
    if (f("pylon") && f("pylon") !== job.pylon) return false;
    if (f("status") && f("status").split(",").indexOf(job.status) < 0) return false;
    if (f("trigger") && f("trigger") !== job.trigger) return false;
    return !f("q");
  }

  function onJob(job) {
    var rows = document.querySelectorAll("tr[data-job-id]");
    var found = false;
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-job-id") === job.id) { updateRow(rows[i], job); found = true; }
    }
    var table = document.querySelector("table[data-live-insert]");
    if (!found && table && fits(table, job)) {
      var tbody = table.tBodies[0];
      tbody.insertBefore(jobRow(job), tbody.firstChild);
      var empty = document.getElementById("no-jobs");
      if (empty) empty.remove();
    }
    var last = document.querySelector('[data-last-job-for="' + CSS.escape(job.pylon) + '"]');
    if (last) {
      last.textContent = "";
      last.appendChild(jobRow(job).children[0].firstChild);
      last.appendChild(document.createTextNode(" "));
      var b = document.createElement("span");
      setBadge(b, job);
      last.appendChild(b);
    }
    if (page === "job" && job.id === body.getAttribute("data-job")) {
      var rendered = body.getAttribute("data-job-status") + "|" + (body.getAttribute("data-job-waiting") || "");
      if (rendered !== job.status + "|" + (job.waiting || "")) reloadSoon();
    }
    if (page === "needs-you") {
      var shown = document.querySelector('[data-job-id="' + CSS.escape(job.id) + '"]') ||
        document.querySelector('[data-needs-job="' + CSS.escape(job.id) + '"]');
      var waits = job.status === "awaiting_approval" || job.status === "held" || job.waiting ||
        job.tool_calls_waiting > 0;
      if (shown || waits) reloadSoon();
    }
  }
  var reloading = false;
  function reloadSoon() {
    if (reloading) return;
    reloading = true;
    setTimeout(function () { window.location.reload(); }, 300);
  }

  var logEl = document.getElementById("log");
  function onLog(data) {
    if (!logEl) return;
    var near = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 40;
    var empty = document.getElementById("log-empty");
    if (empty) empty.remove();
    logEl.appendChild(ansiLine(String(data.line)));
    if (near) logEl.scrollTop = logEl.scrollHeight;
  }
  var toolsEl = document.getElementById("tools");
  function onTool(data) {
    if (!toolsEl) return;
    // Events the page was rendered with (or already added) are not added again.
    var seen = Number(toolsEl.getAttribute("data-tools-offset") || 0);
    if (typeof data.offset === "number") {
      if (data.offset <= seen) return;
      toolsEl.setAttribute("data-tools-offset", String(data.offset));
    }
    var li = document.createElement("li");
    var b = document.createElement("strong");
    b.textContent = String(data.tool);
    li.appendChild(b);
    li.appendChild(document.createTextNode(" " + String(data.summary || "")));
    toolsEl.appendChild(li);
    var none = document.getElementById("tools-empty");
    if (none) none.remove();
  }

  var url = "/api/events";
  var lastId = "";
  if (page === "job") {
    var id = body.getAttribute("data-job");
    url += "?job=" + encodeURIComponent(id);
    lastId = "log:" + id + ":" + (body.getAttribute("data-log-offset") || "0");
  } else {
    url += "?kinds=job";
    var only = body.getAttribute("data-pylon");
    if (only) url += "&pylon=" + encodeURIComponent(only);
  }
  var live = document.getElementById("live");
  function badge(text, cls) { if (live) { live.textContent = text; live.className = "badge " + cls; } }
  function parse(e) { if (e.lastEventId) lastId = e.lastEventId; try { return JSON.parse(e.data); } catch (_) { return null; } }
  // EventSource retries a dropped stream by itself, but gives up for good on an answer that is
  // not a stream (429 while every stream slot is taken, a daemon restarting behind a proxy):
  // then a new one is opened, after a pause that grows to a minute, from the last event seen.
  var es = null, pause = 1000;
  function connect() {
    es = new EventSource(url + (lastId ? "&last_event_id=" + encodeURIComponent(lastId) : ""));
    es.onopen = function () { pause = 1000; badge("live", "s-completed"); };
    es.onerror = function () {
      badge("reconnecting", "s-held");
      if (es.readyState !== 2) return;
      setTimeout(connect, pause);
      pause = Math.min(pause * 2, 60000);
    };
    es.addEventListener("job", function (e) { var d = parse(e); if (d && d.id) onJob(d); });
    es.addEventListener("log", function (e) { var d = parse(e); if (d) onLog(d); });
    es.addEventListener("tool", function (e) { var d = parse(e); if (d) onTool(d); });
  }
  connect();
  window.addEventListener("pagehide", function () { if (es) es.close(); });
})();
`;
