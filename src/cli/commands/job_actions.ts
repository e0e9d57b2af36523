/**
 * `pylon approve|ignore|kill|retry <job>`: act on a job by id or unique 8-character prefix,
 * through the running daemon when there is one, else directly on the job database (a queued
 * job then runs when the daemon starts).
 *
 * @module
 */

import { createDockerClient } from "../../docker/mod.ts";
import { PylonError, shortId } from "../../errors.ts";
import { approveJob } from "../../queue/mod.ts";
import { LABELS } from "../../runner/mod.ts";
import { TERMINAL_STATUSES } from "../../store/mod.ts";
import { openStoresForWriting } from "../job_stores.ts";
import type { Command, CommandContext } from "../command.ts";
import { connectDaemon } from "../daemon_client.ts";

type Action = "approve" | "ignore" | "kill" | "retry";

const SUMMARIES: Record<Action, string> = {
  approve: "Approve a job that waits for approval, or run a held job once over budget",
  ignore: "Dismiss a job that waits for approval",
  kill: "Kill a running job, or cancel a waiting one",
  retry: "Run a finished job again with the same payload (attempt + 1)",
};

function actionCommand(action: Action): Command {
  return {
    name: action,
    summary: SUMMARIES[action],
    usage: `${action} <job>`,
    description: "<job> is a job id or its unique first 8 characters (see `pylon jobs`).",
    options: {},
    positionals: { min: 1, max: 1, completion: "job" },
    async run(args, ctx) {
      const id = args.positionals[0]!;
      const daemon = await connectDaemon(ctx);
      if (daemon) {
        const answer = await daemon.call("POST", `/api/jobs/${encodeURIComponent(id)}/${action}`);
        ctx.io.out(describe(action, answer));
        return 0;
      }
      return await offline(action, id, ctx);
    },
  };
}

function describe(action: Action, answer: Record<string, unknown>): string {
  const id = shortId(String(answer.job_id ?? answer.id ?? ""));
  switch (action) {
    case "approve":
      return `Job ${id} approved: ${answer.status}.\n`;
    case "ignore":
      return `Job ${id} dismissed.\n`;
    case "kill":
      return answer.kill_requested
        ? `Killing job ${id}: its container is being stopped (pylon logs ${id} -f shows the end).\n`
        : `Job ${id} cancelled: ${answer.status}.\n`;
    case "retry":
      return `Retrying as job ${id} (attempt ${answer.attempt}): ${answer.status}. ` +
        `Follow it: pylon logs ${id} -f\n`;
  }
}

async function offline(action: Action, idOrPrefix: string, ctx: CommandContext): Promise<number> {
  await using open = await openStoresForWriting(ctx);
  const stores = open.stores;
  const job = await stores.findJob(idOrPrefix);
  const store = stores.get(job.pylon)!;
  // What waits for a daemon is said so; a dismissal is done now, with nothing left to run.
  const note = "; it runs when the daemon starts (none runs now)";
  if (action === "approve" && job.status === "held") {
    const moved = await approveJob(store, job);
    if (!moved) throw conflict(job.id, job.status, action, "awaiting_approval or held");
    ctx.io.out(`Job ${shortId(job.id)} released to run once over budget${note}.\n`);
    return 0;
  }
  if (action === "approve" || action === "ignore") {
    const moved = await store.transition(
      job.id,
      "awaiting_approval",
      action === "approve" ? "queued" : "dismissed",
    );
    if (!moved) throw conflict(job.id, job.status, action, "awaiting_approval");
    ctx.io.out(
      action === "approve"
        ? `Job ${shortId(job.id)} approved: queued${note}.\n`
        : `Job ${shortId(job.id)} dismissed.\n`,
    );
    return 0;
  }
  if (action === "retry") {
    if (
      !(TERMINAL_STATUSES as readonly string[]).includes(job.status) || job.status === "dismissed"
    ) {
      throw conflict(job.id, job.status, action, "completed, failed, timed_out or killed");
    }
    const { job: again } = await store.insert({
      id: crypto.randomUUID(),
      pylon: job.pylon,
      status: "queued",
      trigger: "retry",
      payload: job.payload,
      headers: job.headers,
      attempt: job.attempt + 1,
      parentId: job.id,
    });
    ctx.io.out(
      `Retrying as job ${shortId(again.id)} (attempt ${again.attempt}): queued${note}.\n`,
    );
    return 0;
  }
  if (job.status === "running") {
    // No daemon watches it: kill its container directly, then record the outcome.
    using docker = createDockerClient({ env: ctx.env });
    for (const c of await docker.listContainers({ labels: { [LABELS.job]: job.id } })) {
      await docker.killContainer(c.Id).catch(() => {});
    }
    await store.transition(job.id, "running", "killed", { error: "killed by request" });
    ctx.io.out(`Job ${shortId(job.id)} killed.\n`);
    return 0;
  }
  const moved = await store.transition(job.id, ["queued", "held", "awaiting_approval"], "killed", {
    error: "killed before it started",
  });
  if (!moved) {
    throw conflict(job.id, job.status, action, "running, queued, held or awaiting_approval");
  }
  ctx.io.out(`Job ${shortId(job.id)} cancelled.\n`);
  return 0;
}

function conflict(id: string, status: string, action: string, needed: string): PylonError {
  return new PylonError(`Cannot ${action} job ${shortId(id)}: it is ${status}, not ${needed}`);
}

export const approveCommand = actionCommand("approve");
export const ignoreCommand = actionCommand("ignore");
export const killCommand = actionCommand("kill");
export const retryCommand = actionCommand("retry");
