/**
 * `pylon logs <job> [-f]`: a job's output — `jobs/<id>.log`, which the daemon writes as the
 * agent prints (with pylon's own lines: egress refusals, runs), or the live container's when
 * there is no such file yet or it is followed without a daemon. With `-f`, the output ends with the job's final status line
 * (`--- job 1a2b3c4d completed in 1m34s ---`) once the container ends.
 *
 * @module
 */

import { join } from "node:path";
import { displayPath, formatDuration } from "../../config/mod.ts";
import { createDockerClient, type DockerClient } from "../../docker/mod.ts";
import { shortId } from "../../errors.ts";
import { LABELS } from "../../runner/mod.ts";
import type { Job } from "../../store/mod.ts";
import { findJob } from "../job_stores.ts";
import { followThroughDaemon } from "../follow_stream.ts";
import { sanitizeAnsi } from "../../log/mod.ts";
import type { Command, CommandContext } from "../command.ts";

/** What `pylon logs` reaches outside the home folder; tests inject fakes. */
export interface LogsDeps {
  /** @default the Engine at `DOCKER_HOST` */
  docker?: (env: Record<string, string>) => DockerClient;
  /** Waits between reads of the job's status after its container ended. */
  sleep?: (ms: number) => Promise<void>;
}

/** How long `-f` waits for the daemon to record the status after the container ended. */
const STATUS_WAIT_MS = 10_000;
const STATUS_POLL_MS = 250;

/** Creates the command with its outside world injected; {@linkcode logsCommand} is the real one. */
export function createLogsCommand(deps: LogsDeps = {}): Command {
  const openDocker = deps.docker ?? ((env) => createDockerClient({ env }));
  const sleep = deps.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    name: "logs",
    summary: "Print a job's output (follow it with -f while it runs)",
    usage: "logs <job> [-f]",
    description: `<job> is a job id or its unique first 8 characters. Shows the job's log file
(the agent's output and pylon's own lines, such as refused egress), or the running container's
output before there is one; -f keeps printing (through the daemon when it runs) and ends with the
job's final status once its container ends.`,
    options: {
      follow: { type: "boolean", short: "f", description: "Keep printing new output" },
    },
    positionals: { min: 1, max: 1, completion: "job" },
    async run(args, ctx) {
      const follow = args.values.follow === true;
      const job = await findJob(ctx, args.positionals[0]!);
      // A running daemon streams the log (GET /api/events); without one, Docker or the file.
      const ended = follow ? await followThroughDaemon(ctx, job, { sleep }) : undefined;
      if (ended) {
        ctx.io.out(statusLine(ended));
        return 0;
      }
      const file = join(ctx.paths.jobsDir, `${job.id}.log`);
      // The file has what Docker's log has of a running job, plus pylon's own lines (egress
      // refusals); Docker is for following without a daemon, or before the file exists.
      const saved = !follow && await Deno.stat(file).then((s) => s.size > 0, () => false);
      if (job.status === "running" && !saved) {
        using docker = openDocker(ctx.env);
        const [container] = await docker.listContainers({ labels: { [LABELS.job]: job.id } });
        if (container) {
          const dec = new TextDecoder();
          for await (const chunk of docker.containerLogs(container.Id, { follow })) {
            (chunk.stream === "stderr" ? ctx.io.err : ctx.io.out)(
              sanitizeAnsi(dec.decode(chunk.data, { stream: true })),
            );
          }
          if (follow) ctx.io.out(statusLine(await finalJob(ctx, job.id, sleep)));
          return 0;
        }
      }
      try {
        ctx.io.out(sanitizeAnsi(await Deno.readTextFile(file)));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        if (job.finishedAt) {
          // It ended before its agent printed anything (a workspace that could not be made, an
          // image that would not build): the reason is all there is to show.
          ctx.io.out(`Job ${shortId(job.id)} printed no output.\n${statusLine(job)}`);
          return 0;
        }
        ctx.io.out(
          `Job ${shortId(job.id)} (${job.status}) has no output yet (${
            displayPath(file, ctx.env.HOME)
          }).\n`,
        );
        return 0;
      }
      if (follow && job.finishedAt) ctx.io.out(statusLine(job));
      return 0;
    },
  };
}

export const logsCommand: Command = createLogsCommand();

/** The job once the daemon has recorded how it ended (or as it is after {@link STATUS_WAIT_MS}). */
async function finalJob(
  ctx: CommandContext,
  id: string,
  sleep: (ms: number) => Promise<void>,
): Promise<Job> {
  for (let waited = 0;; waited += STATUS_POLL_MS) {
    const job = await findJob(ctx, id);
    if (job.finishedAt || job.status !== "running" || waited >= STATUS_WAIT_MS) return job;
    await sleep(STATUS_POLL_MS);
  }
}

/** `--- job 1a2b3c4d completed in 1m34s ---`, with a failed job's reason. */
export function statusLine(job: Job): string {
  const id = shortId(job.id);
  if (!job.finishedAt) {
    return `--- job ${id} container ended; the job is still ${job.status} ` +
      "(see `pylon jobs`) ---\n";
  }
  const took = job.startedAt
    ? ` in ${formatDuration(job.finishedAt.getTime() - job.startedAt.getTime())}`
    : "";
  const why = job.status !== "completed" && job.error ? `: ${job.error.split("\n")[0]}` : "";
  return `--- job ${id} ${job.status}${took}${why} ---\n`;
}
