/**
 * `pylon logs <job> [-f]`: a job's output — the live container's while it runs, the saved
 * `jobs/<id>.log` after.
 *
 * @module
 */

import { join } from "node:path";
import { displayPath } from "../../config/mod.ts";
import { createDockerClient } from "../../docker/mod.ts";
import { shortId } from "../../errors.ts";
import { LABELS } from "../../runner/mod.ts";
import { findJob } from "../job_stores.ts";
import type { Command } from "../command.ts";

export const logsCommand: Command = {
  name: "logs",
  summary: "Print a job's output (follow it with -f while it runs)",
  usage: "logs <job> [-f]",
  description: `<job> is a job id or its unique first 8 characters. While the job runs, the
container's output is shown (and followed with -f); afterwards, the saved log file.`,
  options: { follow: { type: "boolean", short: "f", description: "Keep printing new output" } },
  positionals: { min: 1, max: 1, completion: "job" },
  async run(args, ctx) {
    const job = await findJob(ctx, args.positionals[0]!);
    const file = join(ctx.paths.jobsDir, `${job.id}.log`);
    if (job.status === "running") {
      using docker = createDockerClient({ env: ctx.env });
      const [container] = await docker.listContainers({ labels: { [LABELS.job]: job.id } });
      if (container) {
        const dec = new TextDecoder();
        for await (
          const chunk of docker.containerLogs(container.Id, { follow: Boolean(args.values.follow) })
        ) {
          (chunk.stream === "stderr" ? ctx.io.err : ctx.io.out)(
            dec.decode(chunk.data, { stream: true }),
          );
        }
        return 0;
      }
    }
    try {
      ctx.io.out(await Deno.readTextFile(file));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      ctx.io.out(
        `Job ${shortId(job.id)} (${job.status}) has no output yet (${
          displayPath(file, ctx.env.HOME)
        }).\n`,
      );
    }
    return 0;
  },
};
