/**
 * `/agent/v1`: the channel of agent containers in `docker.mounts: none` (issue 18). Mounted
 * outside the control API's bearer check; every route is per job,
 * `/agent/v1/jobs/<id>/…`, and wants that job's own token (`Authorization: Bearer <token>`): a
 * wrong, expired or revoked token, or another job's, gets 401.
 *
 * - `GET  bundle`          the job's files (prompt, settings) and what to clone
 * - `GET  git-credential`  the repository's credential, for the image's credential helper (the
 *                          clone, and pushes with `workspace.push` in both mount modes)
 * - `DELETE git-credential` the init step is done with it (cloned, no `workspace.push`): from
 *                          then on the job's token (which the agent may hold, e.g. for the model
 *                          gateway) gets no credential
 * - `POST events`          tool events (NDJSON lines), appended to `out/events.ndjson`
 * - `PUT  result`          `result.json`
 * - `GET  state`           the saved agent state (tar; 204 when there is none)
 * - `PUT  state`           the agent state at the end (tar, checked, size-capped)
 * - `POST tool-calls`      the approval hook's request (`agent.approve_tools`): checked like a
 *                          request file and handed to the same tool-approval service
 * - `GET  tool-calls/<call>?wait=<s>` the call's decision (200), or 202 while it waits: a long
 *                          poll of at most 4 s
 *
 * With `docker.mounts: host` only `git-credential` is served (`gitCredentialOnly`): the rest
 * goes through bind mounts there.
 *
 * What a container sends is hostile input: every body is read within a size and a time limit,
 * JSON is parsed and checked, archives are checked entry by entry and never extracted here.
 *
 * @module
 */

import { Hono } from "hono";
import {
  channelFiles,
  checkStateTar,
  stateArchive,
  verifyJobToken,
  writeAtomically,
} from "../../agent_channel/mod.ts";
import type { JobAccess } from "../../agent_channel/mod.ts";
import type { Logger } from "../../log/mod.ts";
import { shortId } from "../../errors.ts";
import { approvalFolders } from "../../runner/mod.ts";
import {
  CALL_ID_REGEXP,
  MAX_REQUEST_BYTES,
  submitToolCall,
  waitForChannelDecision,
} from "../../tools/mod.ts";
import { readBody } from "./body.ts";

/** Limits of what a container may send. */
export const CHANNEL_LIMITS = {
  /** One POST of tool events. */
  eventsBody: 256 * 1024,
  /** All of a job's `events.ndjson`. */
  eventsFile: 16 * 1024 * 1024,
  /** One tool event line. */
  eventLine: 64 * 1024,
  /** `result.json` (as in the bind-mount mode). */
  result: 1024 * 1024,
  /** The agent state archive. */
  state: 256 * 1024 * 1024,
  /** How long a body may take to arrive. */
  bodyMs: 30_000,
  /** How long the state archive may take to arrive. */
  stateMs: 300_000,
  /** One tool call request (as a request file). */
  toolCall: MAX_REQUEST_BYTES,
  /**
   * The longest long poll of a tool call's decision: below the daemon's 5 s drain, so a stop
   * never has to cut one off (the hook asks again at once).
   */
  toolCallWaitMs: 4_000,
  /** Long polls one job may hold open at once. */
  toolCallPolls: 32,
} as const;

/** What the channel routes need. */
export interface AgentChannelDeps {
  /** `$PYLON_HOME/jobs`. */
  jobsDir: string;
  clock: { now(): Date };
  log: Logger;
  /** Overrides of {@linkcode CHANNEL_LIMITS} (tests). */
  limits?: Partial<Record<keyof typeof CHANNEL_LIMITS, number>>;
  /** Serve `git-credential` alone (`docker.mounts: host`, issue 19 item 4). */
  gitCredentialOnly?: boolean;
  /**
   * Aborted when the daemon stops: open long polls of tool-call decisions answer at once
   * (`202`, still waiting) instead of holding the drain; the hook asks again.
   */
  stopping?: AbortSignal | undefined;
}

type ChannelEnv = { Variables: { access: JobAccess; jobId: string } };

/** Builds the `/agent/v1` routes. */
export function createAgentChannelRoutes(deps: AgentChannelDeps): Hono {
  const limits = { ...CHANNEL_LIMITS, ...deps.limits };
  const app = new Hono<ChannelEnv>();
  const refuse = (status: number, error: string) =>
    new Response(JSON.stringify({ error }) + "\n", {
      status,
      headers: { "content-type": "application/json" },
    });

  app.use("/jobs/:id/*", async function jobToken(c, next) {
    const id = c.req.param("id");
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    const checked = await verifyJobToken(deps.jobsDir, id, token, deps.clock.now().getTime());
    if (!checked.ok) {
      deps.log.warn("agent_channel.refused", {
        job: shortId(id.slice(0, 64)),
        why: checked.why,
        path: c.req.path.slice(0, 200),
      });
      await c.req.raw.body?.cancel().catch(() => {});
      return refuse(401, "missing, wrong or expired job token");
    }
    c.set("access", checked.access);
    c.set("jobId", id);
    await next();
  });

  app.get("/jobs/:id/git-credential", async function gitCredential(c) {
    const files = channelFiles(deps.jobsDir, c.get("jobId"));
    const text = await Deno.readTextFile(files.gitCredential).catch(() => null);
    if (text === null) return refuse(404, "this job's repository has no credential");
    return new Response(text, {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  });
  app.delete("/jobs/:id/git-credential", async function dropGitCredential(c) {
    await Deno.remove(channelFiles(deps.jobsDir, c.get("jobId")).gitCredential).catch(() => {});
    return c.body(null, 204);
  });
  if (deps.gitCredentialOnly) return app as unknown as Hono;

  app.get("/jobs/:id/bundle", async function bundle(c) {
    const files = channelFiles(deps.jobsDir, c.get("jobId"));
    const text = await Deno.readTextFile(files.bundle).catch(() => null);
    if (text === null) return refuse(404, "this job has no bundle");
    return new Response(text, { headers: { "content-type": "application/json" } });
  });

  app.post("/jobs/:id/events", async function events(c) {
    const files = channelFiles(deps.jobsDir, c.get("jobId"));
    const body = await readBody(c.req.raw, { max: limits.eventsBody, timeoutMs: limits.bodyMs });
    if (!body.ok) return refuse(body.reason === "too_large" ? 413 : 408, body.reason);
    const lines: string[] = [];
    for (const line of new TextDecoder().decode(body.bytes).split("\n")) {
      if (line.trim() === "") continue;
      if (line.length > limits.eventLine) return refuse(413, "a tool event line is too long");
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return refuse(400, "every line must be a JSON object");
      }
      if (!value || typeof value !== "object" || Array.isArray(value)) {
        return refuse(400, "every line must be a JSON object");
      }
      lines.push(JSON.stringify(value));
    }
    if (lines.length === 0) return c.body(null, 204);
    const bytes = new TextEncoder().encode(lines.join("\n") + "\n");
    await Deno.mkdir(files.outDir, { recursive: true, mode: 0o700 });
    const size = await Deno.stat(files.events).then((s) => s.size, () => 0);
    if (size + bytes.length > limits.eventsFile) {
      return refuse(413, `the job's tool events exceed ${limits.eventsFile} bytes`);
    }
    using file = await Deno.open(files.events, { append: true, create: true, mode: 0o600 });
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    return c.body(null, 204);
  });

  app.put("/jobs/:id/result", async function result(c) {
    const files = channelFiles(deps.jobsDir, c.get("jobId"));
    const body = await readBody(c.req.raw, { max: limits.result, timeoutMs: limits.bodyMs });
    if (!body.ok) return refuse(body.reason === "too_large" ? 413 : 408, body.reason);
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(body.bytes));
    } catch {
      return refuse(400, "result.json must be valid JSON");
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      return refuse(400, "result.json must be a JSON object");
    }
    await Deno.mkdir(files.outDir, { recursive: true, mode: 0o700 });
    await writeAtomically(files.result, JSON.stringify(value) + "\n");
    return c.body(null, 204);
  });

  app.get("/jobs/:id/state", async function getState(c) {
    const path = stateArchive(deps.jobsDir, c.get("access").stateJob);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch {
      return c.body(null, 204);
    }
    const { size } = await file.stat();
    return new Response(file.readable, {
      headers: { "content-type": "application/x-tar", "content-length": String(size) },
    });
  });

  app.put("/jobs/:id/state", async function putState(c) {
    const access = c.get("access");
    const body = await readBody(c.req.raw, { max: limits.state, timeoutMs: limits.stateMs });
    if (!body.ok) return refuse(body.reason === "too_large" ? 413 : 408, body.reason);
    const checked = checkStateTar(body.bytes, { maxBytes: limits.state });
    if (!checked.ok) {
      deps.log.warn("agent_channel.state_refused", {
        job: shortId(c.get("jobId")),
        problem: checked.problem.slice(0, 300),
      });
      return refuse(422, `the state archive was refused: ${checked.problem}`);
    }
    const path = stateArchive(deps.jobsDir, access.stateJob);
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true, mode: 0o700 });
    await writeAtomically(path, body.bytes);
    deps.log.info("agent_channel.state_saved", {
      job: shortId(c.get("jobId")),
      entries: checked.entries,
      bytes: body.bytes.length,
    });
    return c.body(null, 204);
  });

  const polls = new Map<string, number>();
  app.post("/jobs/:id/tool-calls", async function toolCall(c) {
    const body = await readBody(c.req.raw, { max: limits.toolCall, timeoutMs: limits.bodyMs });
    if (!body.ok) return refuse(body.reason === "too_large" ? 413 : 408, body.reason);
    const sent = await submitToolCall(approvalFolders(deps.jobsDir, c.get("jobId")), body.bytes);
    if (!sent.ok) {
      deps.log.warn("agent_channel.tool_call_refused", {
        job: shortId(c.get("jobId")),
        status: sent.status,
        reason: sent.reason,
      });
      return refuse(sent.status, sent.reason);
    }
    return c.json({ "call_id": sent.callId, digest: sent.digest, status: "waiting" }, 202);
  });

  app.get("/jobs/:id/tool-calls/:call", async function toolCallDecision(c) {
    const jobId = c.get("jobId");
    const callId = c.req.param("call");
    if (!CALL_ID_REGEXP.test(callId)) return refuse(404, "no such tool call");
    const wait = Number(c.req.query("wait") ?? "0");
    const waitMs = Number.isFinite(wait)
      ? Math.min(Math.max(wait, 0) * 1000, limits.toolCallWaitMs)
      : 0;
    const open = polls.get(jobId) ?? 0;
    if (open >= limits.toolCallPolls) return refuse(429, "too many tool-call polls at once");
    polls.set(jobId, open + 1);
    let found;
    try {
      // Not the request's signal (Deno warns of its legacy abort): a caller that went away
      // holds one of its job's polls until `wait` ends, at most 4 s.
      found = await waitForChannelDecision(approvalFolders(deps.jobsDir, jobId), callId, {
        waitMs,
        signal: deps.stopping,
      });
    } finally {
      const left = (polls.get(jobId) ?? 1) - 1;
      if (left > 0) polls.set(jobId, left);
      else polls.delete(jobId);
    }
    if (found === "unknown") return refuse(404, `no tool call ${callId} in this job`);
    if (found === "waiting") return c.json({ "call_id": callId, status: "waiting" }, 202);
    return c.json(found, 200, { "cache-control": "no-store" });
  });

  return app as unknown as Hono;
}
