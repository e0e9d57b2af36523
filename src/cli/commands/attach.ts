/**
 * `pylon attach <job>`: an interactive shell inside a running job's container, through the
 * Engine API (no docker CLI needed).
 *
 * @module
 */

import { createDockerClient } from "../../docker/mod.ts";
import { PylonError, shortId } from "../../errors.ts";
import { LABELS } from "../../runner/mod.ts";
import { findJob } from "../job_stores.ts";
import type { Command } from "../command.ts";

export const attachCommand: Command = {
  name: "attach",
  summary: "Open a shell inside a running job's container",
  usage: "attach <job> [--shell PATH]",
  description: `<job> is a job id or its unique first 8 characters. The shell runs as the agent's
user in /workspace; exit it (Ctrl+D or \`exit\`) to come back. The job keeps running.`,
  options: {
    shell: { type: "string", description: "Program to run (default /bin/sh)", valueName: "PATH" },
  },
  positionals: { min: 1, max: 1, completion: "job" },
  async run(args, ctx) {
    const job = await findJob(ctx, args.positionals[0]!);
    if (job.status !== "running") {
      throw new PylonError(`Job ${shortId(job.id)} is ${job.status}, not running`, {
        hint: `see its output with \`pylon logs ${shortId(job.id)}\``,
      });
    }
    if (!ctx.io.isTty) {
      throw new PylonError("`pylon attach` needs an interactive terminal");
    }
    using docker = createDockerClient({ env: ctx.env });
    const [container] = await docker.listContainers({ labels: { [LABELS.job]: job.id } });
    if (!container || !docker.openExecSession) {
      throw new PylonError(`Job ${shortId(job.id)} has no running container`);
    }
    const session = await docker.openExecSession(container.Id, {
      cmd: [(args.values.shell as string | undefined) ?? "/bin/sh"],
      workingDir: "/workspace",
    });
    const resize = () => {
      const { rows, columns } = Deno.consoleSize();
      session.resize(rows, columns).catch(() => {});
    };
    resize();
    Deno.addSignalListener("SIGWINCH", resize);
    Deno.stdin.setRaw(true);
    const input = (async () => {
      for await (const chunk of Deno.stdin.readable) await session.write(chunk);
    })().catch(() => {});
    try {
      for await (const chunk of session.readable) {
        let written = 0;
        while (written < chunk.length) written += Deno.stdout.writeSync(chunk.subarray(written));
      }
    } finally {
      Deno.stdin.setRaw(false);
      Deno.removeSignalListener("SIGWINCH", resize);
      session.close();
    }
    void input;
    return (await session.exitCode()) ?? 0;
  },
};
