/**
 * Announces jobs on their pylon's channel and turns what people answer into job changes.
 *
 * Every change of a job calls {@linkcode Notifier.changed}; it compares the job's status with
 * the last status announced (`job.notified`, stored with the job) and posts what is owed: the
 * thread and first message (with Investigate/Ignore when the job awaits approval), the "started"
 * notice, then the result or the failure. A post that fails is retried with backoff and, because
 * `notified` lags behind, again after a restart: channel outages never block or lose a job.
 * Button presses approve or dismiss; replies in a finished job's thread start follow-ups.
 *
 * @module
 */

import { join } from "node:path";
import {
  type ActionEvent,
  type Channel,
  ChannelError,
  type Destination,
  isReporter,
  isToolAction,
  type Reporter,
  type ReportState,
  type ThreadRef,
} from "../channel/channel.ts";
import type { Budget } from "../config/mod.ts";
import { shortId, TemplateError } from "../errors.ts";
import { type Logger, type Redactor, redactorFor } from "../log/mod.ts";
import { approveJob, type Dispatcher } from "../queue/mod.ts";
import { readAgentFile } from "../runner/mod.ts";
import {
  conversationUsage,
  isTerminalStatus,
  type Job,
  type JobStore,
  type JobUsage,
  type StoreRegistry,
} from "../store/mod.ts";
import { renderTemplate } from "../template/mod.ts";
import type { ActivePylon } from "../daemon/pylon_table.ts";
import type {
  ToolApprovalListener,
  ToolApprovals,
  ToolCallDecided,
  ToolCallRequest,
} from "../tools/types.ts";
import { type Note, type Notes, readNotes, writeNotes } from "./_notes.ts";
import { BudgetNotices } from "./budget_notices.ts";
import { showHead } from "./head.ts";
import { decideToolPress, showToolCall, type ToolCallDeps } from "./tool_calls.ts";

export { readNotes } from "./_notes.ts";
import {
  decisionLine,
  finishedText,
  helpText,
  jobLink,
  progressText,
  runningText,
  startedText,
} from "./messages.ts";

/** What the notifier needs. */
export interface NotifierDeps {
  stores: StoreRegistry;
  dispatcher: Dispatcher;
  pylonOf(name: string): ActivePylon | undefined;
  /** Every destination the pylon reports to (`channel.type` may list several). */
  channelsFor(pylon: ActivePylon): Destination[];
  jobsDir: string;
  log: Logger;
  clock: { now(): Date };
  /** Delays between retries of a failed post. */
  retryMs?: number[];
  /** How often tool events of running jobs are shown (one edited message). */
  progressMs?: number;
  /** Also told of every job change (the daemon's event stream). */
  onChanged?(job: Job): void;
  /** `server.public_url`: messages link to the job's dashboard page when it is set. */
  publicUrl?: (() => string | undefined) | undefined;
  /** The cap on all pylons together (`budget` in config.yaml), for the budget notices. */
  globalBudget?: (() => Budget | undefined) | undefined;
  /** The record of budget notices already posted (see `budget_notices.ts`). */
  noticesFile?: string | undefined;
  /** Decides tool calls pressed in chat (or later: {@linkcode Notifier.useToolApprovals}). */
  toolApprovals?: ToolApprovals | undefined;
}

/** Posts that keep failing are given up after this many tries (until the next start). */
const MAX_ATTEMPTS = 12;

/** The key under which replies find their job. */
export function threadKey(channelKey: string, thread: ThreadRef): string {
  const sorted = Object.fromEntries(Object.entries(thread).sort(([a], [b]) => a.localeCompare(b)));
  return `${channelKey}|${JSON.stringify(sorted)}`;
}

/**
 * Queues a follow-up question to `parent`'s agent: the same agent session and, through the first
 * job of the conversation, the same workspace and agent state; its messages go to the same chat
 * threads. `created` is false when `deliveryId` was seen before (the job is that earlier one).
 */
export async function createFollowUp(
  store: JobStore,
  parent: Job,
  prompt: string,
  deliveryId: string | null = null,
): Promise<{ job: Job; created: boolean }> {
  const notes: Notes = {};
  for (const [key, note] of Object.entries(readNotes(parent))) {
    notes[key] = {
      ...(note.thread !== undefined ? { thread: note.thread } : {}),
      ...(note.link ? { link: note.link } : {}),
      ...(note.head ? { head: note.head } : {}),
      ...(note.state ? { state: note.state } : {}),
    };
  }
  const inserted = await store.insert({
    id: crypto.randomUUID(),
    pylon: parent.pylon,
    status: "queued",
    trigger: "follow-up",
    payload: parent.payload,
    headers: parent.headers,
    // The runner reuses the parent's workspace and agent state: a chain of follow-ups all
    // continue in the first job's, where every answer so far was written.
    parentId: parent.trigger === "follow-up" && parent.parentId ? parent.parentId : parent.id,
    sessionId: parent.sessionId,
    thread: writeNotes(notes),
    deliveryId,
  });
  if (!inserted.created) return inserted;
  const job = await store.update(inserted.job.id, { prompt, threadKey: parent.threadKey });
  await store.addThreadKeys(inserted.job.id, await store.threadKeys(parent.id));
  return { job: job ?? inserted.job, created: true };
}

/** Posts job changes to channels and handles answers; shows tool calls waiting for a person. */
export class Notifier implements ToolApprovalListener {
  readonly #d: NotifierDeps;
  readonly #budget: BudgetNotices;
  #toolApprovals: ToolApprovals | undefined;
  readonly #chains = new Map<string, Promise<void>>();
  readonly #retries = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #progress = new Map<string, ReturnType<typeof setInterval>[]>();
  readonly #attempts = new Map<string, number>();
  #stopped = false;

  constructor(deps: NotifierDeps) {
    this.#d = deps;
    this.#toolApprovals = deps.toolApprovals;
    this.#budget = new BudgetNotices({
      stores: deps.stores,
      pylonOf: deps.pylonOf,
      channelsFor: deps.channelsFor,
      globalBudget: deps.globalBudget,
      file: deps.noticesFile,
      clock: deps.clock,
      log: deps.log,
    });
  }

  /** Sets the service that Allow / Deny / Allow for this job presses decide with. */
  useToolApprovals(approvals: ToolApprovals): void {
    this.#toolApprovals = approvals;
  }

  /** Wires a channel's buttons and replies to this notifier (once per channel). */
  listen(channel: Channel): void {
    channel.onAction((e) => this.#guard("action", () => this.#onAction(channel, e)));
    channel.onMessage((e) => this.#guard("message", () => this.#onMessage(channel, e)));
  }

  /** A job changed: announce what is owed (serialised per job). */
  changed(job: Job): void {
    this.#d.onChanged?.(job);
    if (this.#stopped) return;
    // A job nothing was announced about yet, and that no announcement is under way for, is
    // exactly the row in hand (only announcements write `thread` and `notified`): reading it
    // again cost a sixteenth of the daemon's CPU under a webhook flood (issue 17).
    const fresh = !this.#chains.has(job.id) && job.notified === null && job.thread === null
      ? job
      : undefined;
    this.#enqueue(job.id, () => this.#announce(job.pylon, job.id, fresh));
    this.#budget.changed(job);
  }

  /** A tool call waits: post it in the job's threads with its buttons; tell webhook reporters. */
  requested(request: ToolCallRequest): void {
    if (this.#stopped) return;
    this.#enqueue(request.jobId, () => showToolCall(this.#toolDeps(), request));
  }

  /** A tool call was decided (or timed out): edit its messages, drop the buttons. */
  decided(decided: ToolCallDecided): void {
    if (this.#stopped) return;
    this.#enqueue(
      decided.request.jobId,
      () => showToolCall(this.#toolDeps(), decided.request, decided),
    );
  }

  /** Runs `work` after what is already queued for the job (one change of its notes at a time). */
  #enqueue(jobId: string, work: () => Promise<void>): void {
    const previous = this.#chains.get(jobId) ?? Promise.resolve();
    const next = previous.then(work).catch((e) =>
      this.#d.log.error("channel.notify_failed", {
        job: shortId(jobId),
        error: e instanceof Error ? e.message : String(e),
      })
    ).finally(() => {
      if (this.#chains.get(jobId) === next) this.#chains.delete(jobId);
    });
    this.#chains.set(jobId, next);
  }

  /**
   * Start-up: listens on every pylon's channels, and announces what a previous daemon could not
   * (recent jobs only).
   */
  async resume(): Promise<void> {
    for (const name of this.#d.stores.names()) {
      // Listen on the pylon's channels from the start: a channel is otherwise created (and
      // starts polling) only when a job of its pylon changes, so after a restart a press on a
      // message posted before it (Allow while a re-attached job waits, Run anyway, Investigate)
      // would go unheard until then.
      const pylon = this.#d.pylonOf(name);
      try {
        if (pylon) this.#d.channelsFor(pylon);
      } catch (e) {
        this.#d.log.error("channel.resume_failed", {
          pylon: name,
          error: e instanceof Error ? e.message : String(e),
        });
      }
      for (const job of await this.#d.stores.get(name)!.list({ limit: 200 })) {
        // Replays what chat and webhook destinations were not told; stdout is not replayed.
        if (job.notified !== job.status) {
          this.#enqueue(job.id, () => this.#announce(job.pylon, job.id, undefined, true));
        }
      }
    }
  }

  /**
   * Waits for the posts in flight about these jobs, then drops their timers (progress edits,
   * retries): their pylon is being destroyed, and nothing may touch its store afterwards.
   */
  async settle(jobIds: readonly string[]): Promise<void> {
    await Promise.allSettled(jobIds.flatMap((id) => this.#chains.get(id) ?? []));
    for (const id of jobIds) {
      this.#stopProgress(id);
      clearTimeout(this.#retries.get(id));
      this.#retries.delete(id);
      this.#attempts.delete(id);
    }
  }

  /** Stops posting and timers; waits for posts in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#retries.values()) clearTimeout(t);
    for (const timers of this.#progress.values()) timers.forEach(clearInterval);
    this.#retries.clear();
    this.#progress.clear();
    await Promise.allSettled([...this.#chains.values()]);
    await this.#budget.settled();
  }

  /** The job's dashboard page, when `server.public_url` is set. */
  #jobUrl(jobId: string): string | null {
    const base = this.#d.publicUrl?.()?.replace(/\/+$/, "");
    return base ? `${base}/dashboard/jobs/${jobId}` : null;
  }

  async #announce(
    pylonName: string,
    jobId: string,
    fresh?: Job,
    replay = false,
  ): Promise<void> {
    if (this.#stopped) return;
    // The job's own store: looking it up across every pylon's store costs O(pylons).
    const job = fresh ?? await this.#d.stores.get(pylonName)?.get(jobId).catch(() => null);
    if (!job || job.notified === job.status) return;
    // Claimed, but the agent has not started (its image, workspace or container may still
    // fail): "started" is announced when it has; the dispatcher tells of the change then.
    if (job.status === "running" && this.#d.dispatcher.preparing?.(job.id)) return;
    const pylon = this.#d.pylonOf(job.pylon);
    const destinations = pylon ? this.#d.channelsFor(pylon) : [];
    if (!pylon || destinations.length === 0) return;
    const store = this.#d.stores.get(job.pylon)!;
    const notes = readNotes(job);
    // What is posted carries no secret of the pylon (issue 12, item 18).
    const redactor = redactorFor(pylon.resolved);
    const shown = redactJob(job, redactor);
    // A finished follow-up also shows what its whole conversation used.
    const conversation = isTerminalStatus(job.status)
      ? await conversationUsage(store, job).catch(() => null)
      : null;
    // Each destination on its own: an outage of one never holds back (or repeats) the others.
    // What was posted is written once, at the end, also when a post failed (so a retry goes on
    // from there instead of posting again).
    let failure: { error: unknown; kind: string } | undefined;
    const newThreadKeys: string[] = [];
    const reportTo = async (reporter: Reporter, state: ReportState | undefined) => {
      if (reporter.progress) await this.#reportProgress(shown, reporter, redactor);
      const data = { body: job.payload, headers: job.headers };
      return await reporter.report({
        job: shown,
        topic: render(pylon.resolved.channel.topic, data, redactor) ?? null,
        message: render(pylon.resolved.channel.message, data, redactor) ?? null,
        conversation,
        jobUrl: this.#jobUrl(job.id),
      }, state);
    };
    let tracked = 0;
    for (const destination of destinations) {
      if (isReporter(destination) && destination.ephemeral) {
        // Nothing to store or retry: it keeps its own account, and is not replayed.
        if (replay) continue;
        await reportTo(destination, undefined).catch((e) =>
          this.#d.log.warn("channel.post_failed", {
            pylon: job.pylon,
            job: shortId(job.id),
            channel: destination.kind,
            error: e instanceof Error ? e.message : String(e),
          })
        );
        continue;
      }
      tracked++;
      const note = notes[destination.key] ??= {};
      if (note.notified === job.status) continue;
      try {
        if (isReporter(destination)) {
          const state = await reportTo(destination, note.state);
          if (state) note.state = state;
        } else {
          await this.#post(
            shown,
            pylon,
            destination,
            note,
            (key) => newThreadKeys.push(key),
            conversation,
          );
        }
        note.notified = job.status;
      } catch (e) {
        failure ??= { error: e, kind: destination.kind };
      }
    }
    // Only ephemeral destinations (stdout): nothing to write.
    if (tracked === 0) return;
    try {
      // Nothing is read back: an UPDATE ... RETURNING here cost a tenth of the daemon's CPU
      // under a webhook flood (issue 17).
      await store.patch(job.id, {
        thread: writeNotes(notes),
        ...(newThreadKeys.length > 0 && !job.threadKey ? { threadKey: newThreadKeys[0] } : {}),
        ...(failure ? {} : { notified: job.status }),
      });
      // Replies in any of the job's chat threads find it.
      await store.addThreadKeys(job.id, newThreadKeys);
    } catch (e) {
      failure ??= { error: e, kind: "store" };
    }
    if (!failure) {
      this.#retries.delete(job.id);
      this.#attempts.delete(job.id);
      return;
    }
    const log = this.#d.log.with({ pylon: job.pylon, job: shortId(job.id), channel: failure.kind });
    const error = failure.error instanceof Error ? failure.error.message : String(failure.error);
    const attempt = this.#attempts.get(job.id) ?? 0;
    if (attempt >= MAX_ATTEMPTS) {
      // Kept in the job record; the next daemon start tries once more.
      this.#attempts.delete(job.id);
      log.error("channel.post_gave_up", { error, attempts: attempt + 1 });
      return;
    }
    this.#attempts.set(job.id, attempt + 1);
    const delays = this.#d.retryMs ?? [2000, 10_000, 60_000, 300_000];
    const asked = failure.error instanceof ChannelError && failure.error.retryAfter
      ? failure.error.retryAfter * 1000
      : 0;
    const delay = Math.max(asked, delays[Math.min(attempt, delays.length - 1)]!);
    log.warn("channel.post_failed", {
      error,
      retry_in_s: Math.round(delay / 1000),
      attempt: attempt + 1,
    });
    clearTimeout(this.#retries.get(job.id));
    // By id: what was posted before the failure is in the stored row now, not in `job`.
    this.#retries.set(
      job.id,
      setTimeout(() => this.#enqueue(job.id, () => this.#announce(job.pylon, job.id)), delay),
    );
  }

  /** Posts what a chat channel is owed: thread, first message, "started", the result. */
  async #post(
    job: Job,
    pylon: ActivePylon,
    channel: Channel,
    note: Note,
    onThread: (threadKey: string) => void,
    conversation: JobUsage | null = null,
  ): Promise<void> {
    const data = { body: job.payload, headers: job.headers };
    const redactor = redactorFor(pylon.resolved);
    if (note.thread === undefined) {
      const title = render(pylon.resolved.channel.topic, data, redactor) ??
        `${job.pylon} ${shortId(job.id)}`;
      note.thread = await channel.createThread(title.slice(0, 120));
      if (note.thread) onThread(threadKey(channel.key, note.thread));
    }
    const thread = note.thread ?? null;
    const head = render(pylon.resolved.channel.message, data, redactor) ??
      `New ${job.trigger} job for **${job.pylon}** (\`${shortId(job.id)}\`).`;
    const url = this.#jobUrl(job.id);
    await showHead(
      channel,
      thread,
      note,
      job,
      head,
      url,
      () => this.#d.stores.get(job.pylon)?.history(job.id).catch(() => []) ?? Promise.resolve([]),
    );
    // Asked after the head is shown, so a thread link never delays an approval message; a
    // failed ask is asked again with the job's next change.
    if (thread && note.link === undefined && channel.threadUrl) {
      const link = await this.#threadUrl(channel, thread, job);
      if (link !== undefined) note.link = link ?? "";
    }
    const agent = pylon.resolved.agent.type;
    if (job.status === "running" && !note.status) {
      note.status = await channel.post(thread, startedText(job, agent));
      this.#watchProgress(job, agent, channel, note, redactor);
    }
    if (isTerminalStatus(job.status)) {
      this.#stopProgress(job.id);
      if (job.status === "dismissed" && note.head) {
        await channel.edit(thread, note.head, finishedText(job, conversation));
      } else if (job.status !== "dismissed") {
        await channel.post(thread, finishedText(job, conversation) + jobLink(job, url));
      }
    }
  }

  /** The thread's link for the job's page: null when there is none, undefined (logged) on error. */
  async #threadUrl(
    channel: Channel,
    thread: ThreadRef,
    job: Job,
  ): Promise<string | null | undefined> {
    try {
      return await channel.threadUrl?.(thread) ?? null;
    } catch (e) {
      this.#d.log.warn("channel.thread_link_failed", {
        pylon: job.pylon,
        job: shortId(job.id),
        channel: channel.kind,
        error: e instanceof Error ? e.message : String(e),
      });
      return undefined;
    }
  }

  #watchProgress(
    job: Job,
    agent: string,
    channel: Channel,
    note: Note,
    redactor: Redactor,
  ): void {
    if (!note.status) return;
    const thread = note.thread ?? null;
    const file = join(this.#d.jobsDir, job.id, "out", "events.ndjson");
    let shown = "";
    const timer = setInterval(async () => {
      await channel.typing?.(thread).catch(() => {});
      const events = await readEvents(file, redactor);
      const text = redactor.redact(progressText(job, agent, events.slice(-6)));
      if (text === shown || events.length === 0) return;
      shown = text;
      await channel.edit(thread, note.status!, text).catch((e) =>
        this.#d.log.debug("channel.progress_failed", { error: String(e) })
      );
    }, this.#d.progressMs ?? 3000);
    const timers = this.#progress.get(job.id) ?? [];
    timers.push(timer);
    this.#progress.set(job.id, timers);
  }

  /**
   * Hands a reporter that shows tool events (stdout) those of a running job every few seconds,
   * and once more when the job ended (the events since the last look come before the outcome).
   */
  async #reportProgress(job: Job, reporter: Reporter, redactor: Redactor): Promise<void> {
    if (job.status !== "running" && !isTerminalStatus(job.status)) return;
    const file = join(this.#d.jobsDir, job.id, "out", "events.ndjson");
    const show = async () => {
      try {
        const events = await readEvents(file, redactor);
        if (events.length > 0) reporter.progress?.(job, events);
      } catch (e) {
        this.#d.log.debug("channel.progress_failed", { error: String(e) });
      }
    };
    if (isTerminalStatus(job.status)) {
      this.#stopProgress(job.id);
      return await show();
    }
    const timer = setInterval(show, this.#d.progressMs ?? 3000);
    this.#progress.set(job.id, [...(this.#progress.get(job.id) ?? []), timer]);
  }

  #stopProgress(jobId: string): void {
    this.#progress.get(jobId)?.forEach(clearInterval);
    this.#progress.delete(jobId);
  }

  async #onAction(channel: Channel, e: ActionEvent) {
    if (e.action === "run_anyway") return await this.#runAnyway(channel, e);
    if (isToolAction(e.action)) return await this.#decideTool(channel, e);
    if (e.action !== "investigate" && e.action !== "ignore") return;
    const job = await this.#d.stores.findJob(e.jobId).catch(() => null);
    if (!job) return;
    const store = this.#d.stores.get(job.pylon)!;
    const to = e.action === "investigate" ? "queued" : "dismissed";
    const by = `${e.action === "investigate" ? "approved" : "dismissed"} · by ${
      e.userName ?? e.userId
    } via ${channel.kind}`;
    const moved = await store.transition(job.id, "awaiting_approval", to, {}, by);
    if (!moved) return; // a second click, or decided elsewhere: nothing to do
    this.#d.log.info(e.action === "investigate" ? "job.approved" : "job.dismissed", {
      pylon: job.pylon,
      job: shortId(job.id),
      by: e.userName ?? e.userId,
      via: channel.kind,
    });
    // The approval message loses its buttons in every chat channel that shows it.
    const pylon = this.#d.pylonOf(job.pylon);
    const base = render(pylon?.resolved.channel.message, {
      body: job.payload,
      headers: job.headers,
    }, redactorFor(pylon?.resolved)) ?? `Job \`${shortId(job.id)}\` for **${job.pylon}**`;
    const text = `${base}\n\n${decisionLine(e.action, e.userName ?? e.userId)}`;
    const notes = readNotes(job);
    const others = pylon ? this.#d.channelsFor(pylon) : [];
    for (const destination of [channel, ...others.filter((d) => d !== channel)]) {
      if (isReporter(destination)) continue;
      const note = notes[destination.key];
      const message = destination === channel ? e.message ?? note?.head : note?.head;
      if (!message) continue;
      await destination.edit(note?.thread ?? e.thread ?? null, message, text)
        .catch((err) => this.#d.log.warn("channel.edit_failed", { error: String(err) }));
    }
    if (to === "queued") this.#d.dispatcher.wake();
    this.changed(moved);
  }

  /**
   * Run anyway: releases one held job like `pylon approve` (it starts once over budget); its
   * history records who pressed and where, and the head message is edited when it is announced.
   */
  async #runAnyway(channel: Channel, e: ActionEvent): Promise<void> {
    const job = await this.#d.stores.findJob(e.jobId).catch(() => null);
    if (!job || job.status !== "held") return; // released already, or gone
    const store = this.#d.stores.get(job.pylon);
    if (!store) return;
    const by = e.userName ?? e.userId;
    const moved = await approveJob(store, job, { by, via: channel.kind });
    if (!moved) return; // a second press, or released elsewhere
    this.#d.log.info("job.run_anyway", {
      pylon: job.pylon,
      job: shortId(job.id),
      by,
      via: channel.kind,
    });
    this.#d.dispatcher.wake();
    this.changed(moved);
  }

  /** Allow / Deny / Allow for this job: decided through the tool-approval service. */
  async #decideTool(channel: Channel, e: ActionEvent): Promise<void> {
    await decideToolPress(
      this.#toolDeps(),
      this.#toolApprovals,
      channel,
      e,
      (d) => this.decided(d),
    );
  }

  #toolDeps(): ToolCallDeps {
    const d = this.#d;
    return { ...d, jobUrl: (id) => this.#jobUrl(id) };
  }

  async #onMessage(channel: Channel, e: Parameters<Parameters<Channel["onMessage"]>[0]>[0]) {
    const text = e.text.trim();
    const command = /^\/?(done|status|agents|help)(@\S+)?$/i.exec(text)?.[1]?.toLowerCase();
    const job = e.thread
      ? await this.#d.stores.findByThreadKey(threadKey(channel.key, e.thread))
      : null;
    if (command === "help") return void await channel.post(e.thread ?? null, helpText());
    if (command === "status" || command === "agents") {
      const running: Job[] = [];
      for (const name of this.#d.stores.names()) {
        running.push(...await this.#d.stores.get(name)!.list({ status: "running", limit: 50 }));
      }
      return void await channel.post(e.thread ?? null, runningText(running, this.#d.clock.now()));
    }
    if (!job || !e.thread) return; // chatter outside a job's thread
    if (command === "done") {
      await channel.close?.(e.thread);
      return void await channel.post(e.thread, "Closed. Start a new job from its trigger.");
    }
    if (!isTerminalStatus(job.status) || job.status === "dismissed") {
      const why = job.status === "awaiting_approval"
        ? "this job waits for approval; press Investigate first"
        : job.status === "dismissed"
        ? "this job was dismissed"
        : "the agent is still working; wait for its answer";
      return void await channel.post(e.thread, `_${why}._`);
    }
    const store = this.#d.stores.get(job.pylon);
    if (!store || !this.#d.pylonOf(job.pylon)) return;
    const { job: follow } = await createFollowUp(store, job, text);
    this.#d.log.info("job.follow_up", {
      pylon: job.pylon,
      job: shortId(follow.id),
      of: shortId(job.id),
    });
    this.#d.dispatcher.wake();
    this.changed(follow);
  }

  #guard(what: string, fn: () => Promise<void>): Promise<void> {
    return fn().catch((e) =>
      this.#d.log.error(`channel.${what}_failed`, {
        error: e instanceof Error ? e.message : String(e),
      })
    );
  }
}

/** Renders a channel template for posting: redacted, like everything posted. */
function render(text: string | undefined, data: unknown, redactor: Redactor): string | undefined {
  if (!text) return undefined;
  try {
    return redactor.redact(renderTemplate("channel", text, data).trim()) || undefined;
  } catch (e) {
    if (e instanceof TemplateError) return redactor.redact(`(template error: ${e.message})`);
    throw e;
  }
}

/** The job as channels may see it: what an agent or a `${VAR}` put in its texts is redacted. */
function redactJob(job: Job, redactor: Redactor): Job {
  if (!redactor.active) return job;
  const redact = (text: string | null) => text === null ? null : redactor.redact(text);
  return {
    ...job,
    result: redact(job.result),
    error: redact(job.error),
    prompt: redact(job.prompt),
    repo: redact(job.repo),
    dedupeKey: redact(job.dedupeKey),
    supersedeKey: redact(job.supersedeKey),
  };
}

/**
 * The most of events.ndjson read for progress (its end); older events are not shown anyway. The
 * built-in agents write summaries of up to 8 Ki characters (the daemon cuts them), and the last
 * six events are shown.
 */
const EVENTS_TAIL_BYTES = 512 * 1024;
/** The longest event shown. */
const EVENT_MAX_CHARS = 300;

/**
 * The tool events of a running job: the end of its `events.ndjson`, which the agent writes. Read
 * like result.json (no links, regular files only, never blocking, capped); anything else shows
 * no progress. Each event is redacted whole before it is cut to the length shown, so no part of
 * a secret is left (issue 12).
 */
async function readEvents(file: string, redactor: Redactor): Promise<string[]> {
  let text: string;
  try {
    const read = await readAgentFile(file, { maxBytes: EVENTS_TAIL_BYTES, whenLarger: "tail" });
    if (read.kind !== "read") return [];
    text = new TextDecoder().decode(read.bytes);
    // Read from the middle of a line: that line is incomplete.
    if (read.truncated) text = text.slice(text.indexOf("\n") + 1);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as { tool?: unknown; summary?: unknown };
      const shown = redactor.redact(
        [e.tool, e.summary].filter((x) => typeof x === "string" && x).join(": "),
      );
      out.push(shown.length > EVENT_MAX_CHARS ? `${shown.slice(0, EVENT_MAX_CHARS - 1)}…` : shown);
    } catch {
      // a partial line being written: skip it
    }
  }
  return out.filter(Boolean);
}
