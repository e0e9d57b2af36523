/**
 * The daemon's tool approval (issue 14 §4): while a job's container runs, it polls the job's
 * requests folder (every 250 ms, like the event follower), keeps the calls that wait, tells the
 * listener (chat, webhook) and the event stream, writes decisions atomically into the folder only
 * the daemon writes, denies what is not answered in time, and records every call and who decided
 * it from where in the job's `tool_calls`.
 *
 * The store is the record: a call's `requested_at` is when the daemon first saw it, so after a
 * restart the re-attached job's calls are found again with their timeout still counting from
 * then, and "Allow for this job" grants are read back from the decided rows.
 *
 * "Allow for this job" (design note): it allows later calls of the same job that match the
 * same `approve_tools` rule, the first rule that matches, as the daemon matches it. Never a
 * wider rule, never another job (a follow-up asks again). Such calls are still recorded, as
 * allowed by the person who granted it, with the rule in the reason.
 *
 * @module
 */

import { join } from "node:path";
import { matchingRule } from "../config/mod.ts";
import { shortId } from "../errors.ts";
import { type Logger, NO_REDACTION, type Redactor } from "../log/mod.ts";
import type { ApprovalFolders } from "../runner/mod.ts";
import type { Job, StoreRegistry, ToolCallRecord } from "../store/mod.ts";
import { writeDecisionFile } from "./decision_file.ts";
import { readRequestFile, requestCallId, summarizeCall } from "./request_file.ts";
import type {
  DecideFailure,
  DecisionSource,
  DecisionVia,
  ToolApprovalListener,
  ToolApprovals,
  ToolCallDecided,
  ToolCallRequest,
  ToolDecision,
} from "./types.ts";

/** What the service needs. */
export interface ToolApprovalServiceDeps {
  stores: StoreRegistry;
  clock: { now(): Date };
  log: Logger;
  /** Chat and webhook destinations (the notifier). */
  listener?: ToolApprovalListener | undefined;
  /** The pylon's redactor: inputs are shown and stored redacted. */
  redactorOf?(pylon: string): Redactor;
  /** A job's waiting calls changed (publish it on the event stream). */
  onWaitingChanged?(job: Job): void;
  /** How often request folders are read. @default {250} */
  intervalMs?: number;
}

/** The most calls one job may have asked about; past it, requests are ignored. */
export const MAX_CALLS_PER_JOB = 500;
/** The most calls of one job that wait at once; more are denied without asking anyone. */
export const MAX_WAITING_PER_JOB = 20;

interface Watched {
  job: Job;
  folders: ApprovalFolders;
  rules: string[];
  timeoutMs: number;
  /** Calls waiting now, by call id. */
  pending: Map<string, ToolCallRequest>;
  /** Call ids recorded or refused already (their files are not read again). */
  known: Set<string>;
  /** "Allow for this job": rule → who granted it. */
  grants: Map<string, DecisionSource>;
  /** Set once the job's records are loaded. */
  ready: Promise<void>;
}

/** Tool approval for the daemon's running jobs (see the module doc). */
export class ToolApprovalService implements ToolApprovals {
  readonly #d: ToolApprovalServiceDeps;
  readonly #jobs = new Map<string, Watched>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #ticking = false;
  #closed = false;

  constructor(deps: ToolApprovalServiceDeps) {
    this.#d = deps;
  }

  /** Starts watching a job's requests (its container runs); reads its records first. */
  watch(job: Job, folders: ApprovalFolders): void {
    if (this.#closed || this.#jobs.has(job.id)) return;
    const w: Watched = {
      job,
      folders,
      rules: [],
      timeoutMs: 10 * 60_000,
      pending: new Map(),
      known: new Set(),
      grants: new Map(),
      ready: Promise.resolve(),
    };
    w.ready = this.#load(w).catch((e) =>
      this.#d.log.error("tool_approval.load_failed", { job: shortId(job.id), error: errorText(e) })
    );
    this.#jobs.set(job.id, w);
    this.#timer ??= setInterval(() => void this.tick(), this.#d.intervalMs ?? 250);
  }

  /** The job's container ended: its waiting calls are closed (denied) and it is no longer read. */
  unwatch(jobId: string): void {
    const w = this.#jobs.get(jobId);
    if (!w || this.#closed) return;
    this.#jobs.delete(jobId);
    if (this.#jobs.size === 0) this.#stopTimer();
    for (const request of w.pending.values()) {
      void this.#close(w, request, { by: "pylon", via: "timeout" }, "deny", "the job ended")
        .catch((e) =>
          this.#d.log.warn("tool_approval.close_failed", {
            job: shortId(jobId),
            call: request.callId,
            error: errorText(e),
          })
        );
    }
  }

  /** Stops reading (daemon shutdown): waiting calls stay recorded for the next daemon. */
  close(): void {
    this.#closed = true;
    this.#stopTimer();
    this.#jobs.clear();
  }

  pending(jobId?: string): ToolCallRequest[] {
    const jobs = jobId === undefined ? [...this.#jobs.values()] : [this.#jobs.get(jobId)]
      .filter((w) => w !== undefined);
    return jobs.flatMap((w) => [...w.pending.values()])
      .sort((a, b) => a.requestedAt.getTime() - b.requestedAt.getTime());
  }

  async decide(
    jobId: string,
    callId: string,
    decision: ToolDecision,
    source: DecisionSource,
  ): Promise<{ ok: true; decided: ToolCallDecided } | DecideFailure> {
    const w = this.#jobs.get(jobId);
    await w?.ready;
    const request = w?.pending.get(callId);
    if (!w || !request) return await this.#notPending(jobId, callId);
    const reason = decision === "deny" ? `denied by ${source.by}` : `allowed by ${source.by}`;
    const decided = await this.#close(w, request, source, decision, reason);
    if (!decided) return await this.#notPending(jobId, callId);
    if (decision === "allow_for_job") {
      w.grants.set(request.rule, source);
      // Calls of the same rule that wait now are what was allowed too.
      for (const other of [...w.pending.values()]) {
        if (other.rule === request.rule) await this.#grant(w, other, source);
      }
    }
    return { ok: true, decided };
  }

  /** One round: new requests of every watched job, then timeouts. Public for tests. */
  async tick(): Promise<void> {
    if (this.#ticking || this.#closed) return;
    this.#ticking = true;
    try {
      for (const w of [...this.#jobs.values()]) {
        await w.ready;
        try {
          await this.#scan(w);
          await this.#expire(w);
        } catch (e) {
          this.#d.log.warn("tool_approval.scan_failed", {
            job: shortId(w.job.id),
            error: errorText(e),
          });
        }
      }
    } finally {
      this.#ticking = false;
    }
  }

  /** Reads the job's rules and its recorded calls (a restart finds them again). */
  async #load(w: Watched): Promise<void> {
    const config = JSON.parse(await Deno.readTextFile(join(w.folders.dir, "config.json")));
    w.rules = Array.isArray(config.rules) ? config.rules.map(String) : [];
    w.timeoutMs = Number(config.timeout_ms) > 0 ? Number(config.timeout_ms) : w.timeoutMs;
    const store = this.#d.stores.get(w.job.pylon);
    if (!store) return;
    for (const row of await store.toolCalls(w.job.id)) {
      w.known.add(row.callId);
      if (row.decision === null) {
        w.pending.set(row.callId, this.#requestOf(w, row));
      } else if (row.decision === "allow_for_job") {
        w.grants.set(row.rule, { by: row.decidedBy ?? "?", via: viaOf(row.decidedVia) });
      }
      // A decision recorded just before a crash is written (again): the hook may still wait.
      if (row.decision !== null) {
        await writeDecisionFile(w.folders.decisions, {
          callId: row.callId,
          digest: row.digest,
          decision: row.decision === "deny" ? "deny" : "allow",
          by: row.decidedBy ?? "?",
          reason: row.reason ?? row.decision,
        }).catch(() => {});
      }
    }
    if (w.pending.size > 0) this.#changed(w);
  }

  /** New request files of one job. */
  async #scan(w: Watched): Promise<void> {
    if (w.known.size >= MAX_CALLS_PER_JOB) return;
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(w.folders.requests)) {
        const callId = requestCallId(entry.name);
        if (callId !== undefined && !w.known.has(callId)) names.push(callId);
        if (names.length >= 50) break;
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const callId of names) await this.#take(w, callId);
  }

  async #take(w: Watched, callId: string): Promise<void> {
    const read = await readRequestFile(w.folders.requests, callId);
    if (read === "missing") return;
    w.known.add(callId);
    if (!read.ok) {
      this.#d.log.warn("tool_approval.request_refused", {
        job: shortId(w.job.id),
        call: callId,
        reason: read.reason,
      });
      return;
    }
    const store = this.#d.stores.get(w.job.pylon);
    if (!store) return;
    const redactor = this.#d.redactorOf?.(w.job.pylon) ?? NO_REDACTION;
    const shownJson = redactor.redact(read.request.inputJson);
    const input = parseOr(shownJson);
    // The rule is the daemon's own match of the input, never what the file says.
    const rule = matchingRule(w.rules, read.request.tool, read.request.input);
    const now = this.#d.clock.now();
    const row = {
      jobId: w.job.id,
      callId,
      tool: read.request.tool,
      rule: rule ?? "(none)",
      digest: read.request.digest,
      input: shownJson,
      summary: summarizeCall(read.request.tool, input),
      requestedAt: now,
      expiresAt: new Date(now.getTime() + w.timeoutMs),
    };
    await store.recordToolCall(row);
    const request = this.#requestOf(w, { ...row, decision: null } as ToolCallRecord);
    w.pending.set(callId, request);
    if (rule === undefined) {
      // Not a call any rule holds: the hook did not write this; nobody is asked.
      await this.#close(
        w,
        request,
        { by: "pylon", via: "timeout" },
        "deny",
        "no approve_tools rule matches this call",
      );
      return;
    }
    const grant = w.grants.get(rule);
    if (grant) {
      await this.#grant(w, request, grant);
      return;
    }
    if (w.pending.size > MAX_WAITING_PER_JOB) {
      // An agent that floods requests does not flood the chat.
      await this.#close(
        w,
        request,
        { by: "pylon", via: "timeout" },
        "deny",
        `more than ${MAX_WAITING_PER_JOB} calls wait already`,
      );
      return;
    }
    this.#d.log.info("tool_approval.waiting", {
      job: shortId(w.job.id),
      call: callId,
      tool: request.tool,
      rule,
    });
    this.#d.listener?.requested(request);
    this.#changed(w);
  }

  /** Allows a call under an "Allow for this job" grant. */
  async #grant(w: Watched, request: ToolCallRequest, source: DecisionSource): Promise<void> {
    await this.#close(
      w,
      request,
      source,
      "allow",
      `allowed for this job by ${source.by} (rule ${request.rule})`,
    );
  }

  /** Denies what waited past its time. */
  async #expire(w: Watched): Promise<void> {
    const now = this.#d.clock.now().getTime();
    for (const request of [...w.pending.values()]) {
      if (request.expiresAt.getTime() > now) continue;
      const waited = request.expiresAt.getTime() - request.requestedAt.getTime();
      await this.#close(
        w,
        request,
        { by: "pylon", via: "timeout" },
        "deny",
        `no answer within ${shortDuration(waited)}`,
      );
    }
  }

  /**
   * Records a decision (the guarded UPDATE decides races), then writes it for the hook and tells
   * the listener; null when someone decided first.
   */
  async #close(
    w: Watched,
    request: ToolCallRequest,
    source: DecisionSource,
    decision: ToolDecision,
    reason: string,
  ): Promise<ToolCallDecided | null> {
    const store = this.#d.stores.get(w.job.pylon);
    const at = this.#d.clock.now();
    const row = await store?.decideToolCall(w.job.id, request.callId, {
      decision,
      by: source.by,
      via: source.via,
      at,
      reason,
    });
    w.pending.delete(request.callId);
    if (!row) return null;
    await writeDecisionFile(w.folders.decisions, {
      callId: request.callId,
      digest: request.digest,
      decision: decision === "deny" ? "deny" : "allow",
      by: source.by,
      reason,
    });
    this.#d.log.info("tool_approval.decided", {
      job: shortId(w.job.id),
      call: request.callId,
      decision,
      by: source.by,
      via: source.via,
    });
    const decided: ToolCallDecided = { request, decision, source, decidedAt: at, reason };
    this.#d.listener?.decided(decided);
    this.#changed(w);
    return decided;
  }

  /** Why a decision could not be taken: unknown call, or decided before. */
  async #notPending(jobId: string, callId: string): Promise<DecideFailure> {
    const job = await this.#d.stores.findJob(jobId).catch(() => null);
    const row = job
      ? (await this.#d.stores.get(job.pylon)?.toolCalls(job.id))?.find((r) => r.callId === callId)
      : undefined;
    if (!job || !row) {
      return { ok: false, code: "not_found", reason: `no tool call ${callId} waits in this job` };
    }
    if (row.decision === null) {
      return {
        ok: false,
        code: "not_found",
        reason: `the job is not running; call ${callId} is closed`,
      };
    }
    const w = this.#jobs.get(job.id);
    return {
      ok: false,
      code: "already_decided",
      reason: `call ${callId} was decided already (${row.decision} by ${row.decidedBy})`,
      decided: {
        request: w ? this.#requestOf(w, row) : requestOfRow(job.pylon, row),
        decision: row.decision as ToolDecision,
        source: { by: row.decidedBy ?? "?", via: viaOf(row.decidedVia) },
        decidedAt: row.decidedAt ?? new Date(0),
        reason: row.reason ?? undefined,
      },
    };
  }

  #requestOf(w: Watched, row: ToolCallRecord): ToolCallRequest {
    return requestOfRow(w.job.pylon, row);
  }

  /** Publishes the job (re-read: its count of waiting calls changed). */
  #changed(w: Watched): void {
    const notify = this.#d.onWaitingChanged;
    if (!notify) return;
    this.#d.stores.get(w.job.pylon)?.get(w.job.id).then((job) => job && notify(job)).catch(
      () => {},
    );
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function requestOfRow(pylon: string, row: ToolCallRecord): ToolCallRequest {
  return {
    jobId: row.jobId,
    pylon,
    callId: row.callId,
    tool: row.tool,
    input: parseOr(row.input),
    digest: row.digest,
    summary: row.summary,
    rule: row.rule,
    requestedAt: row.requestedAt,
    expiresAt: row.expiresAt,
  };
}

const VIAS: readonly DecisionVia[] = ["cli", "api", "telegram", "slack", "dashboard", "timeout"];

function viaOf(text: string | null): DecisionVia {
  return (VIAS as readonly (string | null)[]).includes(text) ? text as DecisionVia : "api";
}

/** `10m`, `1h30m`, `45s`. */
export function shortDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return [h ? `${h}h` : "", m ? `${m}m` : "", r || (!h && !m) ? `${r}s` : ""].join("");
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * `value` as a {@linkcode ToolApprovalListener} when it has both methods (the notifier, once it
 * shows tool calls), else undefined.
 */
export function asToolApprovalListener(value: unknown): ToolApprovalListener | undefined {
  const v = value as Partial<ToolApprovalListener> | null;
  return v && typeof v.requested === "function" && typeof v.decided === "function"
    ? { requested: (r) => v.requested!(r), decided: (d) => v.decided!(d) }
    : undefined;
}
