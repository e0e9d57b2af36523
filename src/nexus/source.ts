/**
 * Where `pylon nexus` reads from and acts through: the running daemon's control API and event
 * stream when one answers, else the files themselves (pylon folders, and the job databases
 * opened read-only beside nothing, through `openStoresForReading`).
 *
 * Design note: every refresh re-reads a whole {@linkcode Snapshot} (pylons, the newest jobs, the
 * waiting ones) instead of patching a client-side copy from events. The event stream only says
 * *when* to refresh (and feeds the log pane), so a dropped event can never leave the screen
 * wrong; SQLite stays the one source of truth (STYLE.md).
 *
 * @module
 */

import { join } from "node:path";
import { writeDisabledFlag } from "../config/mod.ts";
import { PylonError } from "../errors.ts";
import { jobToJson } from "../store/mod.ts";
import type { CommandContext } from "../cli/command.ts";
import { connectDaemon, type DaemonConnection } from "../cli/daemon_client.ts";
import { openStoresForReading } from "../cli/job_stores.ts";
import { readSse } from "../cli/sse_client.ts";
import { readDaemonToken } from "../daemon/mod.ts";
import {
  type JobView,
  type NexusAction,
  parseDaemonPylons,
  parseJob,
  parseToolCalls,
  type Snapshot,
  spentSince,
  startOfUtcDay,
  type ToolCallView,
} from "./model.ts";
import { readPylonFiles } from "./pylon_files.ts";

/** How many of the newest jobs one refresh reads (history tables and today's spend). */
export const RECENT_JOBS = 500;

/** The outside world of the data layer: a command context with its output kept off-screen. */
export interface SourceDeps {
  ctx: CommandContext;
}

/** The daemon, when one answers; cached briefly so a refresh does not probe twice. */
export async function daemonOf(deps: SourceDeps): Promise<DaemonConnection | null> {
  return await connectDaemon(deps.ctx);
}

/** Reads pylons, jobs and waiting work, from the daemon or (without one) from the files. */
export async function readSnapshot(deps: SourceDeps): Promise<Snapshot> {
  const now = deps.ctx.clock.now();
  const files = await readPylonFiles(deps.ctx.paths, deps.ctx.env, now);
  const daemon = await daemonOf(deps);
  let jobs: JobView[];
  let waiting: JobView[];
  let toolCalls: ToolCallView[] = [];
  if (daemon) {
    const [pylonsRaw, recent, held] = await Promise.all([
      daemon.call("GET", "/api/pylons"),
      daemon.call("GET", `/api/jobs?limit=${RECENT_JOBS}`),
      daemon.call("GET", "/api/jobs?status=awaiting_approval,held&limit=200"),
    ]);
    const facts = parseDaemonPylons(pylonsRaw);
    for (const p of files) {
      const f = facts.get(p.name);
      if (!f) continue;
      p.state = p.problem ? "not_loaded" : f.state;
      if (f.state === "not_loaded") p.problem ??= f.reason ?? "the daemon cannot load it";
      p.webhookUrl = f.webhookUrl ?? p.webhookUrl;
      if (f.trigger?.type === "cron" && p.trigger?.type === "cron") {
        p.trigger.nextRun = f.trigger.nextRun ?? p.trigger.nextRun;
        p.trigger.timezone = f.trigger.timezone ?? p.trigger.timezone;
      }
      p.costToday = f.costToday;
      p.costMonth = f.costMonth;
      p.successRate = f.successRate;
    }
    jobs = asJobs(recent);
    const running = jobs.filter((j) => j.status === "running" && j.waiting !== null);
    waiting = [...asJobs(held), ...running];
    toolCalls = (await Promise.all(running.map((j) => readToolCalls(daemon, j)))).flat();
  } else {
    await using open = await openStoresForReading(deps.ctx);
    const read = await open.stores.listAcross({ limit: RECENT_JOBS });
    jobs = read.map((j) => parseJob(jobToJson(j))).filter((j): j is JobView => j !== null);
    const held = await open.stores.listAcross({
      status: ["awaiting_approval", "held"],
      limit: 200,
    });
    waiting = held.map((j) => parseJob(jobToJson(j))).filter((j): j is JobView => j !== null);
  }
  const today = startOfUtcDay(now);
  for (const p of files) p.costToday ??= spentSince(jobs, p.name, today);
  return { pylons: files, jobs, waiting, toolCalls, daemon: daemon !== null };
}

function asJobs(raw: unknown): JobView[] {
  return (Array.isArray(raw) ? raw : []).map(parseJob).filter((j): j is JobView => j !== null);
}

/** A running job's waiting tool calls; none when the daemon has no such route (yet). */
async function readToolCalls(daemon: DaemonConnection, job: JobView): Promise<ToolCallView[]> {
  try {
    return parseToolCalls(job, await daemon.call("GET", `/api/jobs/${job.id}/tool-calls`));
  } catch {
    return [];
  }
}

/** The event payload of `job` (the template builder's sample), from the daemon or the files. */
export async function readJobPayload(deps: SourceDeps, job: string): Promise<unknown> {
  const daemon = await daemonOf(deps);
  if (daemon) return (await daemon.call("GET", `/api/jobs/${job}`)).payload;
  await using open = await openStoresForReading(deps.ctx);
  return (await open.stores.findJob(job)).payload;
}

/**
 * Performs `action`; returns what to tell the user.
 *
 * @throws {PylonError} with the daemon's reason, or when it needs a daemon and none runs
 */
export async function performAction(deps: SourceDeps, action: NexusAction): Promise<string> {
  const daemon = await daemonOf(deps);
  if (!daemon) {
    if (action.kind === "enable" || action.kind === "disable") {
      const changed = await writeDisabledFlag(
        deps.ctx.paths.pylonConfig(action.pylon),
        action.kind === "disable",
      );
      return changed
        ? `${action.pylon} ${action.kind}d (applies when the daemon starts)`
        : `${action.pylon} is already ${action.kind}d`;
    }
    throw new PylonError("No daemon is running: press d to start it");
  }
  const id8 = "job" in action ? action.job.slice(0, 8) : "";
  switch (action.kind) {
    case "approve":
    case "ignore":
    case "retry": {
      const r = await daemon.call("POST", `/api/jobs/${action.job}/${action.kind}`);
      if (action.kind === "retry") return `retry queued as ${String(r.job_id ?? "").slice(0, 8)}`;
      return `job ${id8} ${action.kind === "approve" ? "approved" : "dismissed"}`;
    }
    case "kill": {
      const r = await daemon.call("POST", `/api/jobs/${action.job}/kill`);
      return r.kill_requested ? `kill requested for ${id8}` : `job ${id8} killed`;
    }
    case "fire": {
      const r = await daemon.call(
        "POST",
        `/api/pylons/${encodeURIComponent(action.pylon)}/trigger`,
      );
      return `${action.pylon} fired: job ${String(r.job_id ?? "").slice(0, 8)}`;
    }
    case "enable":
    case "disable": {
      const r = await daemon.call(
        "POST",
        `/api/pylons/${encodeURIComponent(action.pylon)}/${action.kind}`,
      );
      if (!r.changed) return `${action.pylon} is already ${action.kind}d`;
      if (r.state === "not_loaded") return `${action.pylon} enabled, but it does not load`;
      return `${action.pylon} ${action.kind}d`;
    }
    case "allow":
    case "allow_for_job":
    case "deny": {
      const verb = action.kind === "deny" ? "deny" : "allow";
      await daemon.call(
        "POST",
        `/api/jobs/${action.job}/tool-calls/${encodeURIComponent(action.call)}/${verb}`,
        action.kind === "allow_for_job" ? { "for_job": true } : {},
      );
      return `${verb === "allow" ? "allowed" : "denied"} tool call of ${id8}` +
        (action.kind === "allow_for_job" ? " (for the rest of the job)" : "");
    }
  }
}

/** Options of the event-stream readers. */
export interface StreamOptions {
  signal: AbortSignal;
  /** Between reconnection attempts (ms). @default {1000} */
  retryMs?: number;
  /** The stream (re)opened: what changed while it was closed was not announced. */
  onOpen?(): void;
}

/**
 * Calls `onJob` for every job change the daemon announces, until `signal` aborts; reconnects
 * (resuming from the last id) when the stream ends. Returns at once when no daemon answers.
 */
export async function watchJobs(
  deps: SourceDeps,
  onJob: (job: JobView) => void,
  o: StreamOptions,
): Promise<void> {
  let lastId: string | undefined;
  while (!o.signal.aborted) {
    const res = await openEvents(deps, "kinds=job", lastId, o.signal);
    if (!res) return;
    o.onOpen?.();
    try {
      for await (const e of readSse(res.body!)) {
        if (e.id) lastId = e.id;
        if (e.event !== "job") continue;
        const job = parseJob(JSON.parse(e.data));
        if (job) onJob(job);
      }
    } catch {
      // aborted or the daemon went away; the loop decides
    }
    await sleep(o.retryMs ?? 1000, o.signal);
  }
}

/**
 * Streams the log of job `id` (text as written, not yet sanitised) to `onText`: through the
 * daemon's event stream (the log so far, then live) or, without a daemon, by reading the file
 * as it grows. Returns when `signal` aborts.
 */
export async function followLog(
  deps: SourceDeps,
  id: string,
  onText: (text: string) => void,
  o: StreamOptions,
): Promise<void> {
  let lastId: string | undefined;
  let offset = 0;
  while (!o.signal.aborted) {
    const res = await openEvents(deps, `job=${id}&kinds=log`, lastId, o.signal);
    if (res) {
      try {
        for await (const e of readSse(res.body!)) {
          if (e.id) lastId = e.id;
          if (e.event !== "log") continue;
          const data = JSON.parse(e.data) as { line?: unknown; offset?: unknown };
          if (typeof data.offset === "number") offset = data.offset;
          if (typeof data.line === "string") onText(data.line + "\n");
        }
      } catch {
        // the loop reconnects
      }
    } else {
      offset = await readLogFile(deps, id, offset, onText);
    }
    await sleep(o.retryMs ?? 1000, o.signal);
  }
}

/** Reads `<id>.log` from `offset`; returns the new offset. */
async function readLogFile(
  deps: SourceDeps,
  id: string,
  offset: number,
  onText: (text: string) => void,
): Promise<number> {
  try {
    using file = await Deno.open(join(deps.ctx.paths.jobsDir, `${id}.log`), { read: true });
    const size = (await file.stat()).size;
    if (size <= offset) return offset;
    // At most the last 256 KiB on first read: the pane shows the end.
    const from = Math.max(offset, size - 256 * 1024);
    await file.seek(from, Deno.SeekMode.Start);
    const buf = new Uint8Array(size - from);
    let got = 0;
    while (got < buf.length) {
      const n = await file.read(buf.subarray(got));
      if (n === null) break;
      got += n;
    }
    onText(new TextDecoder().decode(buf.subarray(0, got)));
    return from + got;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return offset;
    throw e;
  }
}

async function openEvents(
  deps: SourceDeps,
  query: string,
  lastId: string | undefined,
  signal: AbortSignal,
): Promise<Response | null> {
  const daemon = await daemonOf(deps);
  const token = daemon ? await readDaemonToken(deps.ctx.paths.daemonToken) : null;
  if (!daemon || !token) return null;
  try {
    const res = await fetch(`${daemon.base}/api/events?${query}`, {
      signal,
      headers: {
        authorization: `Bearer ${token}`,
        accept: "text/event-stream",
        ...(lastId ? { "last-event-id": lastId } : {}),
      },
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      return null;
    }
    return res;
  } catch {
    return null;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
