/**
 * `pylon allow <job> [<call>] [--for-job]` and `pylon deny <job> [<call>]`: decide a tool call
 * that waits for approval (issue 14 §4), through the running daemon (only it watches running
 * jobs). Without `<call>`: the job's only waiting call; with several, they are listed and one
 * must be named.
 *
 * @module
 */

import { PylonError, shortId } from "../../errors.ts";
import type { Command, CommandContext } from "../command.ts";
import { connectDaemon, type DaemonConnection } from "../daemon_client.ts";
import { table } from "../shared.ts";

type Action = "allow" | "deny";

function decideCommand(action: Action): Command {
  return {
    name: action,
    summary: action === "allow"
      ? "Allow a tool call a running job waits on (--for-job: its rule, for the rest of the job)"
      : "Deny a tool call a running job waits on",
    usage: `${action} <job> [<call>]${action === "allow" ? " [--for-job]" : ""}`,
    description: "<job> is a job id or its unique first 8 characters; <call> is the call's id " +
      "(shown in the chat\nmessage, by `pylon allow <job>` when several wait, and by " +
      "`GET /api/jobs/<id>/tool-calls`).\nNeeds the running daemon.",
    options: action === "allow"
      ? {
        "for-job": {
          type: "boolean",
          description: "Also allow later calls of this job that match the same approve_tools rule",
        },
      }
      : {},
    positionals: { min: 1, max: 2, completion: "job" },
    async run(args, ctx) {
      const daemon = await connectDaemon(ctx);
      if (!daemon) {
        throw new PylonError(`Cannot ${action} a tool call: the daemon is not running`, {
          hint: "tool calls wait only while the daemon runs; start it with `pylon start`",
        });
      }
      const job = args.positionals[0]!;
      const call = args.positionals[1] ?? await onlyWaitingCall(daemon, job, action, ctx);
      if (call === null) return 1;
      const forJob = action === "allow" && args.values["for-job"] === true;
      const answer = await daemon.call(
        "POST",
        `/api/jobs/${encodeURIComponent(job)}/tool-calls/${encodeURIComponent(call)}/${action}`,
        forJob ? { "for_job": true } : undefined,
        { "x-pylon-via": "cli" },
      );
      const what = answer.decision === "deny"
        ? "Denied"
        : answer.decision === "allow_for_job"
        ? "Allowed (and its rule for the rest of the job)"
        : "Allowed";
      ctx.io.out(`${what}: call ${call} of job ${shortId(job)}.\n`);
      return 0;
    },
  };
}

/** The id of the job's only waiting call; null (after listing them) when several wait. */
async function onlyWaitingCall(
  daemon: DaemonConnection,
  job: string,
  action: Action,
  ctx: CommandContext,
): Promise<string | null> {
  const listed = await daemon.call("GET", `/api/jobs/${encodeURIComponent(job)}/tool-calls`);
  const calls = (Array.isArray(listed) ? listed : []) as Record<string, unknown>[];
  if (calls.length === 0) {
    throw new PylonError(`Job ${shortId(job)} has no tool call waiting for approval`, {
      hint: "see `pylon jobs`: a job that waits shows `running (waiting: tool approval)`",
    });
  }
  if (calls.length === 1) return String(calls[0]!.call_id);
  ctx.io.err(`Job ${shortId(job)} has ${calls.length} tool calls waiting; name one:\n\n`);
  ctx.io.err(
    table(
      ["CALL", "TOOL", "RULE", "EXPIRES", "INPUT"],
      calls.map((c) => [
        String(c.call_id),
        String(c.tool),
        String(c.rule),
        String(c.expires_at).slice(11, 19),
        firstLine(c.input),
      ]),
    ),
  );
  ctx.io.err(`\nRun \`pylon ${action} ${job} <call>\`.\n`);
  return null;
}

function firstLine(input: unknown): string {
  const f = typeof input === "object" && input !== null ? input as Record<string, unknown> : {};
  const text = typeof f.command === "string"
    ? f.command
    : typeof f.file_path === "string"
    ? f.file_path
    : typeof f.url === "string"
    ? f.url
    : JSON.stringify(input) ?? "";
  const line = text.split("\n")[0] ?? "";
  return line.length > 60 ? line.slice(0, 59) + "…" : line;
}

export const allowCommand = decideCommand("allow");
export const denyCommand = decideCommand("deny");
