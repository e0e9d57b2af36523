/**
 * The control API (ARCHITECTURE.md §3.10) behind the bearer token: list and show jobs, trigger a
 * pylon, approve, ignore, kill or retry a job, ask a finished job a follow-up, and destroy a
 * pylon. Every status change is one guarded UPDATE.
 *
 * @module
 */

import { Hono } from "hono";
import { JOB_STATUSES, type JobStatus } from "../../config/mod.ts";
import { PylonError, shortId } from "../../errors.ts";
import { type Logger, redactorFor } from "../../log/mod.ts";
import { approveJob, type Dispatcher, type QueueDepth } from "../../queue/mod.ts";
import {
  type Job,
  JobNotFoundError,
  MAX_SEARCH_CHARS,
  type StoreRegistry,
  TERMINAL_STATUSES,
  TRIGGER_KINDS,
  type TriggerKind,
} from "../../store/mod.ts";
import { historyToJson, jobToJson } from "../../store/mod.ts";
import type { DestroyReport } from "../destroy_pylon.ts";
import { KeyedLock } from "../keyed_lock.ts";
import { pylonFolderProblem, UnfinishedJobsError } from "../pylon_folders.ts";
import type { PylonTable } from "../pylon_table.ts";
import { readBody } from "./body.ts";
import { followUpHandler, jobRelations } from "./follow_up.ts";
import { jobLinks } from "./job_links.ts";
import { MAX_LOG_READ, readLogSlice } from "./job_log.ts";
import { listPylons, type PylonsDeps } from "./pylons.ts";
import { reject, unreadable } from "./webhook.ts";
import { createToolCallRoutes } from "./tool_calls.ts";
import type { ToolApprovals } from "../../tools/mod.ts";

/** What the control API needs. */
export interface ApiDeps extends PylonsDeps {
  table: PylonTable;
  stores: StoreRegistry;
  dispatcher: Dispatcher;
  depth: QueueDepth;
  log: Logger;
  newJobId(): string;
  maxQueue(): number;
  /** Largest request body (default 1 MiB). */
  maxBody?(): number;
  /** How long a body may take to arrive (default 30 s). */
  bodyTimeoutMs?: number;
  onChange?(job: Job): void;
  /** `$PYLON_HOME/jobs`, where `<id>.log` is. Absent: `GET /api/jobs/<id>/log` answers 501. */
  jobsDir?: string;
  /**
   * Writes `disabled: true` into a pylon's file (or removes it) and applies it now; null when
   * there is no such pylon. Absent: answers 501.
   */
  setEnabled?(name: string, enabled: boolean): Promise<{ changed: boolean } | null>;
  /** Destroys a pylon (see `destroyPylon`); null when there is none. Absent: answers 501. */
  destroyPylon?(name: string, options: { force: boolean }): Promise<DestroyReport | null>;
  /** `GET /events`, the event stream (`routes/events.ts`), when the daemon has one. */
  events?: Hono;
  /** Tool approval (`/jobs/<id>/tool-calls`, `routes/tool_calls.ts`), when the daemon has it. */
  toolApprovals?: ToolApprovals;
}

/** Builds the `/api` routes (mounted behind the token check). */
export function createApiRoutes(deps: ApiDeps): Hono {
  const api = new Hono();
  if (deps.events) api.route("/", deps.events);
  if (deps.toolApprovals) {
    api.route("/", createToolCallRoutes({ stores: deps.stores, approvals: deps.toolApprovals }));
  }
  const destroying = new KeyedLock();
  /** A job as the API shows it: redacted with its pylon's secrets (issue 12, item 18). */
  const shown = (job: Job, options: { payload?: boolean } = {}) =>
    jobToJson(job, { ...options, redactor: redactorFor(deps.table.get(job.pylon)?.resolved) });

  api.get("/jobs", async function listJobs(c) {
    const pylon = c.req.query("pylon");
    const statusText = c.req.query("status");
    const limit = Number(c.req.query("limit") ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return reject(400, "limit must be a whole number from 1 to 1000");
    }
    // Empty entries (`?status=`, `?status=queued,`) are ignored; no status at all: every job.
    const listed = listParam(statusText);
    const bad = listed.find((s) => !(JOB_STATUSES as readonly string[]).includes(s));
    if (bad !== undefined) {
      return reject(
        400,
        `unknown status ${JSON.stringify(bad.slice(0, 40))}; use ${JOB_STATUSES.join(", ")}`,
      );
    }
    const statuses = listed.length > 0 ? listed as JobStatus[] : undefined;
    if (pylon && !deps.stores.has(pylon)) return reject(404, `no pylon named "${pylon}"`);
    const before = c.req.query("before")?.trim() || undefined;
    const triggers = listParam(c.req.query("trigger"));
    const badTrigger = triggers.find((t) => !(TRIGGER_KINDS as readonly string[]).includes(t));
    if (badTrigger !== undefined) {
      return reject(
        400,
        `unknown trigger ${JSON.stringify(badTrigger.slice(0, 40))}; use ${
          TRIGGER_KINDS.join(", ")
        }`,
      );
    }
    const text = c.req.query("q")?.trim() || undefined;
    if (text !== undefined && text.length > MAX_SEARCH_CHARS) {
      return reject(400, `q is longer than ${MAX_SEARCH_CHARS} characters; search for less`);
    }
    // `limit` counts across pylons (newest first); `before=<id>` pages on from that job.
    const jobs = await deps.stores.listAcross({
      pylon,
      status: statuses,
      limit,
      before,
      trigger: triggers.length > 0 ? triggers as TriggerKind[] : undefined,
      text,
    });
    const last = jobs.at(-1);
    if (last && jobs.length === limit) {
      const next = new URL(c.req.url);
      next.searchParams.set("before", last.id);
      c.header("link", `<${next.pathname}${next.search}>; rel="next"`);
    }
    return c.json(jobs.map((j) => shown(j)));
  });

  api.get("/pylons", async function pylons(c) {
    return c.json(await listPylons(deps));
  });

  api.get("/jobs/:id", async function showJob(c) {
    const job = await findJob(deps, c.req.param("id"));
    const store = deps.stores.get(job.pylon)!;
    const history = await store.history(job.id);
    const redactor = redactorFor(deps.table.get(job.pylon)?.resolved);
    return c.json({
      ...shown(job, { payload: true }),
      history: historyToJson(history, redactor),
      prompt: job.prompt === null ? null : redactor.redact(job.prompt),
      ...await jobRelations(store, job),
      links: jobLinks(job),
    });
  });

  api.post("/jobs/:id/follow-up", followUpHandler(deps));

  api.get("/jobs/:id/log", async function jobLog(c) {
    const job = await findJob(deps, c.req.param("id"));
    if (deps.jobsDir === undefined) return reject(501, "this daemon does not serve job logs");
    const offset = Number(c.req.query("offset") ?? 0);
    const limit = Number(c.req.query("limit") ?? MAX_LOG_READ);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      return reject(400, "offset must be a whole number of bytes from 0");
    }
    if (!Number.isSafeInteger(limit) || limit < 1) {
      return reject(400, `limit must be a whole number of bytes from 1 (at most ${MAX_LOG_READ})`);
    }
    const slice = await readLogSlice(`${deps.jobsDir}/${job.id}.log`, offset, limit);
    if (!slice.ok) return reject(409, slice.reason);
    return new Response(slice.bytes, {
      headers: {
        "content-type": "text/plain; charset=utf-8",
        "x-log-size": String(slice.size),
        "x-log-next-offset": String(offset + slice.bytes.length),
        "cache-control": "no-store",
      },
    });
  });

  api.post("/pylons/:name/trigger", async function trigger(c) {
    const name = c.req.param("name");
    const pylon = deps.table.get(name);
    const store = deps.stores.get(name);
    if (!pylon || !store) return reject(404, `no active pylon named "${name}"`);
    const max = deps.maxBody?.() ?? 1_048_576;
    const read = await readBody(c.req.raw, { max, timeoutMs: deps.bodyTimeoutMs });
    if (!read.ok) return unreadable(read.reason, max, deps.log.with({ pylon: name }));
    const text = new TextDecoder().decode(read.bytes);
    let payload: unknown = {};
    if (text.trim() !== "") {
      try {
        payload = JSON.parse(text);
      } catch {
        return reject(400, "body is not valid JSON");
      }
      if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
        return reject(400, "body must be a JSON object");
      }
    }
    if (await deps.depth.value() >= deps.maxQueue()) {
      return reject(429, "the queue is full", { "retry-after": "60" });
    }
    const { job } = await store.insert({
      id: deps.newJobId(),
      pylon: name,
      status: "queued",
      trigger: "manual",
      payload,
      headers: {},
    });
    deps.log.info("job.accepted", { pylon: name, job: shortId(job.id), trigger: "manual" });
    deps.onChange?.(job);
    deps.dispatcher.wake();
    return c.json({ job_id: job.id, status: job.status }, 202);
  });

  api.post("/jobs/:id/approve", async function approve(c) {
    const job = await findJob(deps, c.req.param("id"));
    const moved = await approveJob(deps.stores.get(job.pylon)!, job);
    if (!moved) return conflict(job, "approve", "awaiting_approval or held");
    deps.log.info("job.approved", { pylon: job.pylon, job: shortId(job.id) });
    deps.onChange?.(moved);
    deps.dispatcher.wake();
    return c.json(shown(moved));
  });

  api.post("/jobs/:id/ignore", async function ignore(c) {
    const job = await findJob(deps, c.req.param("id"));
    const moved = await deps.stores.get(job.pylon)!.transition(
      job.id,
      "awaiting_approval",
      "dismissed",
    );
    if (!moved) return conflict(job, "ignore", "awaiting_approval");
    deps.log.info("job.dismissed", { pylon: job.pylon, job: shortId(job.id) });
    deps.onChange?.(moved);
    return c.json(shown(moved));
  });

  api.post("/jobs/:id/kill", async function kill(c) {
    const job = await findJob(deps, c.req.param("id"));
    if (job.status === "running") {
      if (!deps.dispatcher.kill(job.id)) {
        return reject(
          409,
          `job ${shortId(job.id)} runs but not under this daemon; try again shortly`,
        );
      }
      return c.json({ ...shown(job), kill_requested: true }, 202);
    }
    const moved = await deps.stores.get(job.pylon)!.transition(
      job.id,
      ["queued", "held", "awaiting_approval"],
      "killed",
      { error: "killed before it started" },
    );
    if (!moved) return conflict(job, "kill", "running, queued, held or awaiting_approval");
    deps.onChange?.(moved);
    return c.json(shown(moved));
  });

  api.post("/jobs/:id/retry", async function retry(c) {
    const job = await findJob(deps, c.req.param("id"));
    if (
      !(TERMINAL_STATUSES as readonly string[]).includes(job.status) || job.status === "dismissed"
    ) {
      return conflict(job, "retry", "completed, failed, timed_out or killed");
    }
    if (!deps.table.get(job.pylon)) return reject(409, `pylon "${job.pylon}" is not active`);
    const { job: again } = await deps.stores.get(job.pylon)!.insert({
      id: deps.newJobId(),
      pylon: job.pylon,
      status: "queued",
      trigger: "retry",
      payload: job.payload,
      headers: job.headers,
      attempt: job.attempt + 1,
      parentId: job.id,
    });
    deps.log.info("job.retried", { pylon: job.pylon, job: shortId(again.id), of: shortId(job.id) });
    deps.onChange?.(again);
    deps.dispatcher.wake();
    return c.json({ job_id: again.id, status: again.status, attempt: again.attempt }, 202);
  });

  for (const action of ["enable", "disable"] as const) {
    api.post(`/pylons/:name/${action}`, async function toggle(c) {
      const name = c.req.param("name");
      const problem = pylonFolderProblem(name);
      if (problem) return reject(400, `cannot ${action} "${name}": ${problem}`);
      if (!deps.setEnabled) return reject(501, `this daemon cannot ${action} pylons`);
      const enabled = action === "enable";
      // The same lock as destroy: a pylon is not toggled while its folder is being removed.
      const done = await destroying.run(name, () => deps.setEnabled!(name, enabled));
      if (!done) return reject(404, `no pylon named "${name}"`);
      const state = deps.table.get(name)
        ? "active"
        : deps.table.isBlocked(name)
        ? "not_loaded"
        : "disabled";
      deps.log.info(enabled ? "pylon.enable_requested" : "pylon.disable_requested", {
        pylon: name,
        changed: done.changed,
      });
      return c.json({ name, enabled, changed: done.changed, state });
    });
  }

  api.delete("/pylons/:name", async function destroy(c) {
    const name = c.req.param("name");
    const problem = pylonFolderProblem(name);
    if (problem) return reject(400, `cannot destroy "${name}": ${problem}`);
    if (!deps.destroyPylon) return reject(501, "this daemon cannot destroy pylons");
    const force = ["1", "true", "yes"].includes(c.req.query("force") ?? "");
    try {
      const report = await destroying.run(name, () => deps.destroyPylon!(name, { force }));
      if (!report) return reject(404, `no pylon named "${name}"`);
      return c.json(report);
    } catch (e) {
      if (!(e instanceof UnfinishedJobsError)) throw e;
      return c.json({
        error: `${e.message}; ${e.hint}`,
        jobs: e.jobs.map((j) => shown(j)),
      }, 409);
    }
  });

  api.onError(function apiError(err, c) {
    if (err instanceof JobNotFoundError) return c.json({ error: err.message }, 404);
    if (err instanceof PylonError) return c.json({ error: err.message }, 400);
    throw err;
  });
  return api;
}

/** A comma-separated query parameter's entries; empty ones (`?status=`, `a,`) are dropped. */
function listParam(text: string | undefined): string[] {
  return (text ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

async function findJob(deps: ApiDeps, id: string): Promise<Job> {
  return await deps.stores.findJob(id);
}

function conflict(job: Job, action: string, needed: string): Response {
  return reject(409, `cannot ${action} job ${shortId(job.id)}: it is ${job.status}, not ${needed}`);
}
