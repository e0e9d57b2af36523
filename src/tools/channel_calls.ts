/**
 * Tool approval over the agent channel (issue 18): with `docker.mounts: none` and on Swarm the
 * hook has no bind mount to write into, so it sends its request and long-polls its decision over
 * the job's channel (`/agent/v1/jobs/<id>/tool-calls`). This file is only that transport: a
 * request, checked exactly as a request file is ({@linkcode parseRequest}), is put where the
 * hook would have written it (the job's requests folder on the daemon's host), and the decision
 * is the file the service writes. {@linkcode ToolApprovalService} is the same for both paths, so
 * chat buttons, `pylon allow|deny`, the dashboard, timeouts, "allow for this job", the flood cap
 * and restart recovery behave the same.
 *
 * @module
 */

import { join } from "node:path";
import type { ApprovalFolders } from "../runner/mod.ts";
import { parseRequest } from "./request_file.ts";
import { MAX_CALLS_PER_JOB } from "./service.ts";

/** A decision as the hook gets it over the channel (the decision file's fields, plus who). */
export interface ChannelDecision {
  "call_id": string;
  digest: string;
  decision: "allow" | "deny";
  /** Who decided (`@ada`, `cli`, `pylon` for a timeout); absent in files of older daemons. */
  by?: string;
  reason: string;
}

/** What {@linkcode submitToolCall} did, with the HTTP status the route answers. */
export type SubmitOutcome =
  | { ok: true; callId: string; digest: string; fresh: boolean }
  | { ok: false; status: 400 | 404 | 409 | 429; reason: string };

/** Whether the job's pylon approves tools (its approval config exists). */
async function approvesToolsFor(folders: ApprovalFolders): Promise<boolean> {
  return await Deno.lstat(join(folders.dir, "config.json")).then((s) => s.isFile, () => false);
}

/**
 * Checks a request the hook sent and spools it into the job's requests folder for the service.
 * Idempotent: the same call sent again (a retry after a lost answer) is accepted once more; the
 * same call id with another input is refused (409).
 */
export async function submitToolCall(
  folders: ApprovalFolders,
  bytes: Uint8Array,
): Promise<SubmitOutcome> {
  if (!await approvesToolsFor(folders)) {
    return { ok: false, status: 404, reason: "this job's pylon has no agent.approve_tools" };
  }
  const parsed = parseRequest(bytes, undefined);
  if (!parsed.ok) return { ok: false, status: 400, reason: parsed.reason };
  const { callId, digest } = parsed.request;
  const seen = await knownDigest(folders, callId);
  if (seen !== undefined) {
    return seen === digest
      ? { ok: true, callId, digest, fresh: false }
      : { ok: false, status: 409, reason: `call ${callId} was sent before with another input` };
  }
  if (await callCount(folders) >= MAX_CALLS_PER_JOB) {
    return {
      ok: false,
      status: 429,
      reason: `this job asked about ${MAX_CALLS_PER_JOB} tool calls already`,
    };
  }
  await Deno.mkdir(folders.requests, { recursive: true, mode: 0o700 });
  const file = join(folders.requests, `${callId}.json`);
  const temp = join(folders.requests, `.${callId}.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeFile(temp, bytes, { mode: 0o600 });
    // A link, not a rename: of two requests racing for one call id, only the first is kept.
    await Deno.link(temp, file);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    return await knownDigest(folders, callId) === digest
      ? { ok: true, callId, digest, fresh: false }
      : { ok: false, status: 409, reason: `call ${callId} was sent before with another input` };
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
  return { ok: true, callId, digest, fresh: true };
}

/**
 * The decision of `callId`, `waiting` while there is none, `unknown` for a call never sent.
 * A decided call's request is removed (the hook has its answer; in the bind-mount mode the hook
 * removes its own).
 */
export async function readChannelDecision(
  folders: ApprovalFolders,
  callId: string,
): Promise<ChannelDecision | "waiting" | "unknown"> {
  const text = await Deno.readTextFile(join(folders.decisions, `${callId}.json`)).catch(() => null);
  if (text !== null) {
    const d = JSON.parse(text) as ChannelDecision;
    await Deno.remove(join(folders.requests, `${callId}.json`)).catch(() => {});
    return {
      "call_id": d.call_id,
      digest: d.digest,
      decision: d.decision === "allow" ? "allow" : "deny",
      ...(typeof d.by === "string" ? { by: d.by } : {}),
      reason: String(d.reason ?? ""),
    };
  }
  const waits = await Deno.lstat(join(folders.requests, `${callId}.json`)).then(
    () => true,
    () => false,
  );
  return waits ? "waiting" : "unknown";
}

/** Waits up to `waitMs` for the decision of `callId` (a long poll), reading every `pollMs`. */
export async function waitForChannelDecision(
  folders: ApprovalFolders,
  callId: string,
  o: { waitMs: number; signal?: AbortSignal | undefined; pollMs?: number | undefined },
): Promise<ChannelDecision | "waiting" | "unknown"> {
  const until = Date.now() + o.waitMs;
  for (;;) {
    const found = await readChannelDecision(folders, callId);
    if (found !== "waiting" || Date.now() >= until || o.signal?.aborted) return found;
    const pause = AbortSignal.timeout(Math.min(o.pollMs ?? 200, Math.max(0, until - Date.now())));
    const either = o.signal ? AbortSignal.any([pause, o.signal]) : pause;
    await new Promise((resolve) => either.addEventListener("abort", resolve, { once: true }));
  }
}

/** The digest already recorded for `callId` (its request or its decision), if any. */
async function knownDigest(folders: ApprovalFolders, callId: string): Promise<string | undefined> {
  for (const dir of [folders.decisions, folders.requests]) {
    const text = await Deno.readTextFile(join(dir, `${callId}.json`)).catch(() => null);
    if (text === null) continue;
    try {
      const digest = (JSON.parse(text) as { digest?: unknown }).digest;
      return typeof digest === "string" ? digest : "";
    } catch {
      return "";
    }
  }
  return undefined;
}

/** How many calls the job has sent: waiting requests and decisions. */
async function callCount(folders: ApprovalFolders): Promise<number> {
  let n = 0;
  for (const dir of [folders.requests, folders.decisions]) {
    try {
      for await (const entry of Deno.readDir(dir)) {
        if (entry.name.endsWith(".json") && !entry.name.startsWith(".")) n++;
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return n;
}
