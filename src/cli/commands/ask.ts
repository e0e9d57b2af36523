/**
 * `pylon ask <job> <text...> [--follow]`: asks a finished job's agent a follow-up question in
 * the same session, as a reply in the job's chat thread would, through the running daemon
 * (`POST /api/jobs/<id>/follow-up`). The answer is a new job; `--follow` streams its output
 * like `pylon logs -f` and prints the answer when it is done.
 *
 * Only through the daemon: the follow-up must run where the agent's session and workspace are
 * kept, and be announced in the job's threads, which only the daemon can do.
 *
 * @module
 */

import { PylonError, shortId } from "../../errors.ts";
import { sanitizeAnsi } from "../../log/mod.ts";
import type { Command } from "../command.ts";
import { connectDaemon } from "../daemon_client.ts";
import { followThroughDaemon } from "../follow_stream.ts";
import { findJob } from "../job_stores.ts";
import { statusLine } from "./logs.ts";

/** What `pylon ask` waits with; tests may shorten it. */
export interface AskDeps {
  sleep?: (ms: number) => Promise<void>;
}

/** Creates the command; {@linkcode askCommand} is the real one. */
export function createAskCommand(deps: AskDeps = {}): Command {
  const sleep = deps.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    name: "ask",
    summary: "Ask a finished job's agent a follow-up question (same session)",
    usage: "ask <job> <text...> [--follow]",
    description: `<job> is a job id or its unique first 8 characters. The question goes to the
agent of the job's conversation, in the same session and workspace, exactly like a reply in the
job's chat thread; the answer is a new job (trigger follow-up), posted in the same thread.
Needs the running daemon. With --follow, its output is streamed like \`pylon logs -f\` and the
answer printed when it is done.`,
    options: {
      follow: {
        type: "boolean",
        short: "f",
        description: "Stream the answer's output until it is done",
      },
    },
    positionals: { min: 2, max: Infinity, completion: "job" },
    async run(args, ctx) {
      const [id, ...words] = args.positionals;
      const message = words.join(" ").trim();
      if (message === "") throw new PylonError("The question is empty; write it after the job id");
      const daemon = await connectDaemon(ctx);
      if (!daemon) {
        throw new PylonError("Cannot ask a job's agent: the daemon is not running", {
          hint: "start it with `pylon start` (follow-ups run in the daemon, where the agent's " +
            "session is kept)",
        });
      }
      const answer = await daemon.call(
        "POST",
        `/api/jobs/${encodeURIComponent(id!)}/follow-up`,
        { message },
      );
      const jobId = String(answer.job_id);
      if (args.values.follow !== true) {
        ctx.io.out(
          `Asked as job ${shortId(jobId)} (${answer.status}); follow it with ` +
            `\`pylon logs -f ${shortId(jobId)}\`.\n`,
        );
        return 0;
      }
      ctx.io.out(`Asked as job ${shortId(jobId)}; waiting for the answer...\n`);
      const job = await findJob(ctx, jobId);
      const ended = await followThroughDaemon(ctx, job, { sleep }) ?? await findJob(ctx, jobId);
      ctx.io.out(statusLine(ended));
      if (ended.status === "completed" && ended.result) {
        ctx.io.out(`\n${sanitizeAnsi(ended.result).trimEnd()}\n`);
      }
      return ended.status === "completed" ? 0 : 1;
    },
  };
}

export const askCommand: Command = createAskCommand();
