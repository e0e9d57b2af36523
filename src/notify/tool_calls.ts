/**
 * Tool calls waiting for a person, in chat and webhook destinations (issue 14 §4): the request
 * posted in the job's threads with Allow / Deny / Allow for this job, a press turned into a
 * decision of the tool-approval service (`ToolApprovals` in `src/tools/types.ts`), and the
 * message edited once the call is decided or timed out. The tool name, rule and summary are
 * redacted again with the pylon's secrets before they are shown.
 *
 * @module
 */

import {
  type ActionEvent,
  type Channel,
  type Destination,
  isReporter,
} from "../channel/channel.ts";
import type { ActivePylon } from "../daemon/pylon_table.ts";
import { shortId } from "../errors.ts";
import { type Logger, redactorFor } from "../log/mod.ts";
import type { StoreRegistry } from "../store/mod.ts";
import type {
  DecisionVia,
  ToolApprovals,
  ToolCallDecided,
  ToolCallRequest,
} from "../tools/types.ts";
import { readNotes, writeNotes } from "./_notes.ts";
import { DECISION_OF, toolDecidedText, toolRequestText } from "./tool_messages.ts";

/** What showing and deciding tool calls needs from the notifier. */
export interface ToolCallDeps {
  stores: StoreRegistry;
  pylonOf(name: string): ActivePylon | undefined;
  channelsFor(pylon: ActivePylon): Destination[];
  clock: { now(): Date };
  log: Logger;
  /** The job's dashboard page, when `server.public_url` is set. */
  jobUrl(jobId: string): string | null;
}

/** The chat channels a tool call may be decided from, as `DecisionSource.via`. */
const CHAT_VIAS: readonly DecisionVia[] = ["telegram", "slack"];

/**
 * A press of Allow / Deny / Allow for this job: decides the call through the tool-approval
 * service, with who pressed and where; `onDecided` shows the decision (also one taken before).
 */
export async function decideToolPress(
  d: ToolCallDeps,
  approvals: ToolApprovals | undefined,
  channel: Channel,
  e: ActionEvent,
  onDecided: (decided: ToolCallDecided) => void,
): Promise<void> {
  const decision = DECISION_OF[e.action];
  const via = CHAT_VIAS.find((v) => v === channel.kind);
  const log = d.log.with({ job: shortId(e.jobId), call: e.callId, via: channel.kind });
  if (!decision || !e.callId || !via) return log.warn("tool.press_unusable");
  if (!approvals) return log.warn("tool.press_unhandled", { reason: "no tool approvals" });
  const by = e.userName ?? e.userId;
  const result = await approvals.decide(e.jobId, e.callId, decision, { by, via });
  if (result.ok) {
    log.info("tool.decided", { decision, by });
    return onDecided(result.decided);
  }
  if (result.code === "already_decided") return onDecided(result.decided);
  log.info("tool.press_refused", { code: result.code, reason: result.reason });
  await channel.post(e.thread ?? null, `_Cannot decide call \`${e.callId}\`: ${result.reason}._`);
}

/**
 * Posts a waiting call in each chat thread of its job with its buttons, and tells reporters
 * (webhook); or, with `decision`, edits those messages (dropping the buttons) and tells
 * reporters. Each destination is told each thing once (remembered in the job's notes).
 */
export async function showToolCall(
  d: ToolCallDeps,
  request: ToolCallRequest,
  decision?: ToolCallDecided,
): Promise<void> {
  const store = d.stores.get(request.pylon);
  const job = await store?.get(request.jobId).catch(() => null);
  const pylon = d.pylonOf(request.pylon);
  if (!store || !job || !pylon) return;
  const redactor = redactorFor(pylon.resolved);
  const safe: ToolCallRequest = {
    ...request,
    summary: redactor.redact(request.summary),
    tool: redactor.redact(request.tool),
    rule: redactor.redact(request.rule),
  };
  const decided = decision ? { ...decision, request: safe } : undefined;
  const jobUrl = d.jobUrl(job.id);
  const notes = readNotes(job);
  let touched = false;
  for (const destination of d.channelsFor(pylon)) {
    const note = notes[destination.key] ??= {};
    const tools = note.tools ??= {};
    const entry = tools[request.callId];
    if (decided ? entry?.done : entry) continue;
    try {
      if (isReporter(destination)) {
        if (!destination.toolCall) continue;
        await destination.toolCall(
          decided
            ? { kind: "decided", decided, jobUrl }
            : { kind: "requested", request: safe, jobUrl },
        );
        tools[request.callId] = { ...entry, ...(decided ? { done: true } : {}) };
      } else if (decided) {
        if (!entry?.message) continue; // never shown here: nothing to edit
        await destination.edit(
          note.thread ?? null,
          entry.message,
          redactor.redact(
            toolDecidedText(decided, jobUrl),
          ),
        );
        tools[request.callId] = { ...entry, done: true };
      } else {
        const text = redactor.redact(toolRequestText(safe, d.clock.now(), jobUrl));
        const message = await destination.post(note.thread ?? null, text, {
          tool: { jobId: job.id, callId: request.callId },
        });
        tools[request.callId] = { message };
      }
      touched = true;
    } catch (e) {
      d.log.warn("tool.notify_failed", {
        pylon: job.pylon,
        job: shortId(job.id),
        call: request.callId,
        channel: destination.kind,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
  if (touched) await store.update(job.id, { thread: writeNotes(notes) });
}
