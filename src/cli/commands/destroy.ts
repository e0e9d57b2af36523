/**
 * `pylon destroy <name> [--yes] [--force]`: deletes a pylon's config folder, its data folder
 * (job database) and its jobs' logs and workspaces. Goes through the running daemon when there
 * is one (`DELETE /api/pylons/<name>`), which stops the jobs and closes the database first;
 * otherwise works on the files under the home lock.
 *
 * @module
 */

import { displayPath } from "../../config/mod.ts";
import {
  allJobIds,
  CANCELLED_REASON,
  type DestroyReport,
  existingFiles,
  KILLED_REASON,
  pylonFolderExists,
  pylonFolderProblem,
  removeJobFolders,
  removePylonFolders,
  UNFINISHED_STATUSES,
  unfinishedJobsError,
  waitForHomeLock,
} from "../../daemon/mod.ts";
import { createDockerClient } from "../../docker/mod.ts";
import { PylonError, shortId, UsageError } from "../../errors.ts";
import { createLogger } from "../../log/mod.ts";
import { LABELS } from "../../runner/mod.ts";
import { type Job, type JobStore, openJobStore } from "../../store/mod.ts";
import { createGitRunner, removeWorkspace } from "../../workspace/mod.ts";
import type { Command, CommandContext } from "../command.ts";
import { connectDaemon, type DaemonConnection } from "../daemon_client.ts";

export const destroyCommand: Command = {
  name: "destroy",
  summary: "Delete a pylon, its job history and its jobs' files",
  usage: "destroy <name> [--yes] [--force]",
  description:
    `Removes $PYLON_HOME/pylons/<name>/ (pylon.yaml, .env), $PYLON_HOME/data/<name>/ (the job
database) and the logs and workspaces of its jobs. Irreversible. Refused while the pylon has a
running, queued or awaiting_approval job, unless --force kills them. Goes through the daemon
when it runs. <name> can be any folder in pylons/, also one that is not a valid pylon name.`,
  options: {
    yes: { type: "boolean", short: "y", description: "Do not ask for confirmation" },
    force: {
      type: "boolean",
      short: "f",
      description: "Kill the pylon's running jobs and cancel its waiting ones",
    },
  },
  positionals: { min: 1, max: 1, completion: "pylon" },
  async run(args, ctx) {
    const name = args.positionals[0]!;
    const problem = pylonFolderProblem(name);
    if (problem) {
      throw new UsageError(`Cannot destroy "${name}": ${problem}`, {
        hint: "give the name of a folder in $PYLON_HOME/pylons/ (see `pylon list`)",
      });
    }
    if (!await pylonFolderExists(ctx.paths, name)) {
      throw new PylonError(`Pylon "${name}" does not exist`, {
        hint: "run `pylon list` to see your pylons",
      });
    }
    if (!args.values.yes) {
      const home = ctx.env.HOME;
      ctx.io.out(
        `This deletes pylon "${name}" (${displayPath(ctx.paths.pylonDir(name), home)}) and all ` +
          `its job history (${displayPath(ctx.paths.pylonDataDir(name), home)}, job logs).\n` +
          "Are you sure? [y/N] ",
      );
      const answer = (await ctx.io.readLine())?.trim().toLowerCase();
      if (answer === undefined) {
        ctx.io.out("\nCancelled: no answer (use --yes in scripts).\n");
        return 1;
      }
      if (answer !== "y" && answer !== "yes") {
        ctx.io.out("Cancelled.\n");
        return 0;
      }
    }
    const force = args.values.force === true;
    const daemon = await connectDaemon(ctx);
    const report = daemon
      ? await throughDaemon(daemon, name, force)
      : await destroyOffline(name, force, ctx);
    ctx.io.out(describe(report, ctx));
    return 0;
  },
};

async function throughDaemon(
  daemon: DaemonConnection,
  name: string,
  force: boolean,
): Promise<DestroyReport> {
  const path = `/api/pylons/${encodeURIComponent(name)}`;
  try {
    return await daemon.call(
      "DELETE",
      force ? `${path}?force=1` : path,
    ) as unknown as DestroyReport;
  } catch (e) {
    // A daemon older than this command has no such route: its webhook catch-all answers.
    if (!(e instanceof PylonError) || !e.message.startsWith(`no pylon listens on ${path}`)) throw e;
    throw new PylonError(
      `Cannot destroy pylon "${name}": the running daemon is older than this command`,
      {
        hint: "restart it (`pylon restart`, or stop and start it) and run this again",
      },
    );
  }
}

function describe(r: DestroyReport, ctx: CommandContext): string {
  let text = "";
  for (const id of r.killed) text += `Killed job ${shortId(id)}.\n`;
  for (const id of r.cancelled) text += `Cancelled job ${shortId(id)}.\n`;
  const what = [
    ...r.removed.map((p) => displayPath(p, ctx.env.HOME)),
    ...(r.jobs > 0 ? [`the files of ${r.jobs} job${r.jobs === 1 ? "" : "s"}`] : []),
  ];
  if (what.length > 0) text += `Removed ${what.join(", ")}.\n`;
  return text + `Pylon "${r.pylon}" destroyed.\n`;
}

/** No daemon runs: hold the home lock, stop the jobs in the database, delete the files. */
async function destroyOffline(
  name: string,
  force: boolean,
  ctx: CommandContext,
): Promise<DestroyReport> {
  await using _lock = await waitForHomeLock(ctx.paths, "cli");
  const report: DestroyReport = { pylon: name, killed: [], cancelled: [], jobs: 0, removed: [] };
  const ids: string[] = [];
  // The database under data/, or where it lived before 0.2 if no daemon has moved it yet.
  const dbs = await existingFiles([ctx.paths.pylonDb(name), ctx.paths.legacyPylonDb(name)]);
  const stores: JobStore[] = [];
  try {
    // Opened directly, not through the registry: the folder's name need not be a pylon name.
    for (const db of dbs) stores.push(await openJobStore(db, { pylon: name, clock: ctx.clock }));
    const open: [JobStore, Job][] = [];
    for (const store of stores) {
      for (const job of await store.list({ status: UNFINISHED_STATUSES, limit: 1000 })) {
        open.push([store, job]);
      }
    }
    if (open.length > 0 && !force) throw unfinishedJobsError(name, open.map(([, j]) => j));
    for (const [store, job] of open) await stopJob(store, job, report, ctx);
    for (const store of stores) ids.push(...await allJobIds(store));
  } finally {
    for (const store of stores) await store.close();
  }
  const log = createLogger({ write: (line) => ctx.io.err(line + "\n"), level: "warn" });
  const git = createGitRunner();
  const failed = await removeJobFolders(ctx.paths.jobsDir, ids, {
    removeWorkspace: (jobDir) => removeWorkspace(jobDir, { git, log }),
  });
  for (const problem of failed) {
    ctx.io.err(`Warning: cannot delete ${problem} (remove it with sufficient rights)\n`);
  }
  report.jobs = ids.length;
  report.removed = await removePylonFolders(ctx.paths, name);
  return report;
}

/** Cancels a waiting job; kills (and removes) a running job's container, then records it. */
async function stopJob(
  store: JobStore,
  job: Job,
  report: DestroyReport,
  ctx: CommandContext,
): Promise<void> {
  if (job.status !== "running") {
    const moved = await store.transition(
      job.id,
      ["queued", "held", "awaiting_approval"],
      "killed",
      {
        error: CANCELLED_REASON,
      },
    );
    if (moved) report.cancelled.push(job.id);
    return;
  }
  // No daemon watches it: remove its container directly (the job and its files go too).
  using docker = createDockerClient({ env: ctx.env });
  for (const c of await docker.listContainers({ all: true, labels: { [LABELS.job]: job.id } })) {
    await docker.removeContainer(c.Id, { force: true });
  }
  const moved = await store.transition(job.id, "running", "killed", { error: KILLED_REASON });
  if (moved) report.killed.push(job.id);
}
