/**
 * The daemon's lifecycle (ARCHITECTURE.md §4): load config and pylons, open the job stores,
 * recover jobs, prune, bind, serve, schedule cron, hot-reload, and shut down cleanly.
 *
 * Side effects stay at the edges: the listener and signals live in `server.ts`, everything
 * else is injected, so tests run a whole daemon on a temp home and port 0.
 *
 * @module
 */

import {
  displayPath,
  ensurePrivateHome,
  type GlobalConfig,
  listPylonNames,
  loadGlobalConfig,
  parseByteSize,
  parseDuration,
  pylonNameProblem,
  type PylonPaths,
  resolveBudget,
  writeDisabledFlag,
} from "../config/mod.ts";
import { systemTimezone } from "../cron/mod.ts";
import { ConfigError, PylonError } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import { Dispatcher, type JobRunner, QueueDepth } from "../queue/mod.ts";
import type { EgressServiceOptions } from "../egress/mod.ts";
import {
  createStoreRegistry,
  isTerminalStatus,
  moveLegacyDatabases,
  StoreError,
  type StoreRegistry,
  WalCheckpointer,
} from "../store/mod.ts";
import { type ChannelFactory, ChannelSet, Notifier, StreamedLines } from "../notify/mod.ts";
import { redactorFor } from "../log/mod.ts";
import { asToolApprovalListener, ToolApprovalService } from "../tools/mod.ts";
import { createApp } from "./app.ts";
import { dashboardSessionsFile, SessionStore } from "./dashboard/mod.ts";
import { PylonTable } from "./pylon_table.ts";
import { problemFields, PylonLoader } from "./pylon_loader.ts";
import { createApiRoutes } from "./routes/api.ts";
import { createAgentChannelRoutes } from "./routes/agent_channel.ts";
import { createGatewayRoutes } from "./routes/gateway.ts";
import { gatewayJobs, GatewayLedger } from "../gateway/mod.ts";
import { createInactiveReader } from "./routes/pylons.ts";
import { createEventStream } from "./event_stream.ts";
import { changedFields } from "./config_diff.ts";
import { destroyPylon } from "./destroy_pylon.ts";
import { handleWebhook } from "./routes/webhook.ts";
import { CronScheduler } from "./scheduler.ts";
import { serveUntilStopped } from "./server.ts";
import { agentRoutesOnly, createAgentApp, wantsAgentListeners } from "./agent_listener.ts";
import { ensureDaemonToken } from "./token.ts";
import { watchConfig } from "./watch.ts";
import { createDaemonMetrics } from "./daemon_metrics.ts";
import { pruneExpiredJobs } from "./retention.ts";
import { KeyedLock } from "./keyed_lock.ts";
import { banner } from "./banner.ts";
import { unsignedExposure } from "./exposure.ts";
import { removePidFile, writePidFile } from "./pidfile.ts";
import { waitForHomeLock } from "./home_lock.ts";

/** Everything the daemon takes from outside. */
export interface DaemonOptions {
  paths: PylonPaths;
  env: Record<string, string>;
  log: Logger;
  clock: { now(): Date };
  /** Writes the human banner (stdout). */
  out(text: string): void;
  /** Start only these pylons (empty: all). */
  only?: string[];
  host?: string | undefined;
  port?: number | undefined;
  /** Runs jobs; without one, jobs are accepted and stay queued. */
  runner?: JobRunner | undefined;
  /** Delays between retries of a channel post that failed (tests shorten them). */
  notifyRetryMs?: number[];
  /** Chat channels by type (`telegram`, `slack`); stdout and webhook are built in. */
  channelFactories?: Partial<Record<string, ChannelFactory>>;
  /** Closes the chat channels' shared connections at shutdown. */
  closeChannels?(): Promise<void>;
  /**
   * Builds the runner once config.yaml is loaded (used when `runner` is not given). `output`
   * prints a line of a job's agent output, so the stdout channel does not print it again.
   */
  createRunner?(
    config: GlobalConfig,
    output: (line: string, jobId: string) => void,
  ): Promise<JobRunner>;
  /** Stops the daemon when aborted (tests); SIGINT/SIGTERM do too. */
  signal?: AbortSignal;
  onListen?(addr: { host: string; port: number }): void;
  newJobId?(): string;
}

/**
 * Runs the daemon until stopped, holding the home lock from before anything is opened until
 * everything is closed.
 *
 * @throws {HomeLockedError} when another daemon runs on this home
 * @throws {PylonError} when it cannot start
 */
export async function runDaemon(o: DaemonOptions): Promise<void> {
  const lock = await waitForHomeLock(o.paths, "daemon");
  try {
    await serve(o);
  } finally {
    lock.release();
  }
}

async function serve(o: DaemonOptions): Promise<void> {
  const log = o.log;
  const home = o.env.HOME;
  const newJobId = o.newJobId ?? (() => crypto.randomUUID());

  const global = await loadGlobalConfig(o.paths, o.env);
  log.info("config.loaded", {
    file: global.exists ? displayPath(o.paths.globalConfig, home) : "built-in defaults",
  });
  const config = global.config;
  const streamed = new StreamedLines();
  // The runner builds the URL containers reach the daemon at: the address given on the command
  // line (`pylon start --port`) wins over config.yaml's, as it does for the listener.
  const runnerConfig = {
    ...config,
    server: {
      ...config.server,
      host: o.host ?? config.server.host,
      port: o.port ?? config.server.port,
    },
  };
  const runner = o.runner ?? await o.createRunner?.(runnerConfig, (line, jobId) => {
    streamed.record(jobId, line);
    o.out(line + "\n");
  });
  const zone = systemTimezone(o.env);
  const table = new PylonTable();
  const only = new Set(o.only ?? []);
  const names = (await listPylonNames(o.paths)).filter((n) => only.size === 0 || only.has(n));
  for (const name of only) {
    if (!names.includes(name)) {
      throw new PylonError(`Pylon "${name}" does not exist`, {
        hint: "run `pylon list` to see your pylons",
      });
    }
  }

  const lines: string[] = [];
  // A pylon that does not load (bad YAML or folder name, unset secret) is reported and skipped.
  const loader = new PylonLoader({ paths: o.paths, global, table, log, clock: o.clock, zone });
  for (const name of names) {
    const r = await loader.load(name);
    lines.push(
      r.ok
        ? banner.pylonLine(name, r.state, table.get(name), o.clock.now())
        : banner.failLine(name, r.error),
    );
  }
  log.info("pylons.loaded", { active: table.names().length, total: names.length });

  const tightened = await ensurePrivateHome(o.paths);
  if (tightened.length > 0) {
    log.warn("home.tightened", {
      folders: tightened.map((d) => displayPath(d, home)).join(","),
      mode: "0700",
      reason: "job payloads, results and tokens are readable only by this user",
    });
  }
  const legacy = await moveLegacyDatabases(o.paths);
  if (legacy.moved.length > 0) {
    log.info("stores.moved", { pylons: legacy.moved.join(","), to: o.paths.dataDir });
  }
  for (const name of legacy.conflicts) {
    log.error("stores.conflict", {
      pylon: name,
      file: o.paths.legacyPylonDb(name),
      reason: `both it and ${o.paths.pylonDb(name)} exist; the second is used`,
      hint: "move the old file away once you no longer need its jobs",
    });
  }
  // WAL checkpoints run on a worker, not inside the COMMIT that holds a webhook's 202.
  const checkpoints = new WalCheckpointer((error) =>
    log.warn("store.checkpointer_failed", {
      error,
      effect: "each job database checkpoints in its own commits (up to ~40 MB of WAL)",
    })
  );
  const stores = createStoreRegistry(o.paths, { clock: o.clock, checkpoints });
  try {
    // A folder whose name cannot be a pylon's has no database (it never loads; it is reported).
    const storeNames = names.filter((name) => pylonNameProblem(name) === undefined);
    // A damaged database (a stray file, a bad copy) takes its pylon out of service, not the daemon.
    const unopened: string[] = [];
    for (const name of storeNames) {
      try {
        await stores.open(name);
      } catch (e) {
        if (!(e instanceof StoreError)) throw e;
        unopened.push(name);
        loader.storeFailed(name, e);
        lines[names.indexOf(name)] = banner.failLine(name, e);
      }
    }
    log.info("stores.opened", { count: storeNames.length - unopened.length });
    // config.yaml is read once per daemon, so its cap on all pylons is too.
    const globalBudget = resolveBudget(config.budget, undefined, config.defaults.timezone ?? zone);
    const dispatcher = new Dispatcher({
      stores,
      runner: runner,
      pylonOf: (name) => table.get(name)?.resolved,
      isWaiting: (name) => table.isBlocked(name),
      maxConcurrent: () => config.docker.max_concurrent,
      globalBudget: () => globalBudget,
      log,
      clock: o.clock,
      onChange: (job) => notifier.changed(job),
    });
    const channelStop = new AbortController();
    /** Ends the agent channel's long polls when the daemon starts to stop. */
    const channelPollsStop = new AbortController();
    const channels = new ChannelSet({
      write: (line) => o.out(line + "\n"),
      streamed,
      log,
      factories: o.channelFactories ?? {},
      onNew: (channel) => {
        notifier.listen(channel);
        channel.start(channelStop.signal).catch((e) =>
          log.error("channel.start_failed", {
            channel: channel.kind,
            error: e instanceof Error ? e.message : String(e),
          })
        );
      },
    });
    const events = createEventStream({ table, stores, jobsDir: o.paths.jobsDir, log });
    const notifier: Notifier = new Notifier({
      stores,
      dispatcher,
      pylonOf: (name) => table.get(name),
      channelsFor: (pylon) =>
        channels.for(pylon.resolved.channel, {
          pylon: pylon.name,
          ownSettings: (type) =>
            type !== "stdout" && pylon.loaded.config.channel?.[type] !== undefined,
        }),
      jobsDir: o.paths.jobsDir,
      log,
      clock: o.clock,
      ...(o.notifyRetryMs ? { retryMs: o.notifyRetryMs } : {}),
      onChanged: (job) => events.changed(job),
      // Chat messages and GitHub comments link to <public_url>/dashboard/jobs/<id>.
      publicUrl: () => config.server.public_url,
      globalBudget: () => globalBudget,
      noticesFile: `${o.paths.dataDir}/budget_notices.json`,
    });
    // Tool approval: the runner hands it running jobs (re-attached ones too, in recover()).
    const toolApprovals = new ToolApprovalService({
      stores,
      clock: o.clock,
      log,
      listener: asToolApprovalListener(notifier),
      redactorOf: (name) => redactorFor(table.get(name)?.resolved),
      onWaitingChanged: (job) => events.changed(job),
    });
    // Allow / Deny / Allow for this job pressed in chat decide through the same service.
    notifier.useToolApprovals(toolApprovals);
    if (runner && "useApprovals" in runner && typeof runner.useApprovals === "function") {
      runner.useApprovals(toolApprovals);
    }
    const egressRelay = config.docker.backend === "swarm" || !isLocalEngine(o.env.DOCKER_HOST)
      ? {
        listenHost: o.host ?? config.server.host,
        egressPort: config.server.egress_port,
        agentUrl: config.server.agent_url,
      }
      : undefined;
    const egressWanted = () =>
      table.names().some((name) => {
        const egress = table.get(name)?.resolved.agent.settings.egress;
        return egress !== undefined && egress !== "any";
      });
    // Opened at start, or (Swarm, remote Engine: only when wanted) at the first reload that
    // gives a pylon an `agent.egress` list, so that edit needs no restart.
    const openEgress = () =>
      startEgress(runner, {
        home: o.paths.root,
        ...(egressRelay ? { relay: egressRelay, wanted: egressWanted() } : {}),
        log,
        lookupJob: egressLookup,
      });
    const egressLookup: EgressServiceOptions["lookupJob"] = async (id) => {
      const job = await stores.findJob(id).catch(() => null);
      const pylon = job?.status === "running" ? table.get(job.pylon)?.resolved : undefined;
      if (!pylon) return null;
      return {
        agentType: pylon.agent.type,
        egress: pylon.agent.settings.egress,
        egressPrivate: pylon.agent.settings.egressPrivate,
      };
    };
    let egressOpen = await openEgress();
    await recover(stores, dispatcher, log, runner !== undefined);
    const removeFiles = runner?.removeJobFiles?.bind(runner);
    await pruneExpiredJobs(
      stores,
      o.paths,
      config.jobs.retain_days,
      o.clock.now(),
      log,
      removeFiles,
    );
    if (!runner) {
      log.warn("runner.missing", {
        note: "this build accepts and queues jobs but cannot run agents yet",
      });
    } else if (runner.available && !(await runner.available())) {
      // Never fatal: jobs are accepted and wait until the runner (Docker) is back.
      log.error("runner.unavailable", {
        reason: "the Docker Engine does not answer",
        note: "jobs are accepted and wait; orphan pruning and image checks are skipped",
        hint: "start Docker (sudo systemctl start docker) or run `pylon doctor`",
      });
    } else {
      try {
        if (runner.pruneOrphans && only.size === 0 && unopened.length === 0) {
          // Only with every pylon's database open can a job be called unknown.
          await runner.pruneOrphans(
            async (id) => (await stores.findJob(id).catch(() => null)) !== null,
            log,
            {
              isFinished: async (id) => {
                const job = await stores.findJob(id).catch(() => null);
                return job !== null && isTerminalStatus(job.status);
              },
            },
          );
        } else if (runner.pruneOrphans) {
          log.info("orphans.skipped", {
            reason: unopened.length > 0
              ? `the job database of ${unopened.join(", ")} cannot be opened`
              : "only some pylons were started",
          });
        }
        await runner.prepareImages?.(table.all().map((p) => p.resolved), log);
      } catch (e) {
        log.error("runner.startup_failed", { error: e instanceof Error ? e.message : String(e) });
      }
    }
    /** Pylons refused for a path another pylon held take it once it is free (on any reload). */
    const takeFreedPaths = async () => {
      for (const name of await loader.retryPathLosers()) {
        await stores.open(name);
        log.info("pylon.added", {
          pylon: name,
          path: table.get(name)?.resolved.config.trigger.path,
          reason: "the path it shared with another pylon is free now",
        });
        dispatcher.wake();
      }
    };
    const token = await ensureDaemonToken(o.paths.daemonToken);
    // `server.dashboard: false` turns the pages and cookie auth off (read defensively).
    const dashboardOn = (config.server as { dashboard?: unknown }).dashboard !== false;
    const sessions = new SessionStore({ file: dashboardSessionsFile(o.paths), clock: o.clock });
    if (dashboardOn) await sessions.load();
    const metrics = createDaemonMetrics({
      stores,
      dispatcher,
      table,
      config,
      toolCallsWaiting: () => {
        const byPylon = new Map<string, number>();
        for (const r of toolApprovals.pending()) {
          byPylon.set(r.pylon, (byPylon.get(r.pylon) ?? 0) + 1);
        }
        return byPylon;
      },
    });
    const maxBody = parseByteSize(config.server.max_body) ?? 1_048_576;
    const bodyTimeoutMs = parseDuration(config.server.body_timeout) ?? 30_000;
    const depth = new QueueDepth(stores);
    const dedupeLock = new KeyedLock();
    /** Where the daemon listens, once it does (webhook URLs in `GET /api/pylons`). */
    let listenAddress: { host: string; port: number } | undefined;
    const api = createApiRoutes({
      table,
      events: events.routes,
      toolApprovals,
      stores,
      dispatcher,
      depth,
      log,
      newJobId,
      maxQueue: () => config.docker.max_queue,
      maxBody: () => maxBody,
      bodyTimeoutMs,
      clock: o.clock,
      zone,
      inactive: createInactiveReader({ paths: o.paths, global, table, zone }),
      listenAddress: () => listenAddress,
      serverPublicUrl: config.server.public_url,
      pylonNames: async () =>
        (await listPylonNames(o.paths)).filter((n) => only.size === 0 || only.has(n)),
      onChange: (job) => notifier.changed(job),
      jobsDir: o.paths.jobsDir,
      setEnabled: async (name, enabled) => {
        if (only.size > 0 && !only.has(name)) return null;
        if (!(await listPylonNames(o.paths)).includes(name)) return null;
        const changed = await writeDisabledFlag(o.paths.pylonConfig(name), !enabled);
        await reload(name); // applied now; the watcher's reload of the same file changes nothing
        return { changed };
      },
      destroyPylon: async (name, { force }) => {
        const destroyed = await destroyPylon(name, {
          force,
          paths: o.paths,
          table,
          stores,
          dispatcher,
          log,
          removeJobFiles: removeFiles,
          settleNotices: (ids) => notifier.settle(ids),
          onChange: (job) => notifier.changed(job),
        });
        await takeFreedPaths(); // a pylon that shared its path takes it now, not at next edit
        return destroyed;
      },
    });
    // Jobs without host mounts reach the daemon here instead (issue 18); with host mounts,
    // only the push credential's route (issue 19, item 4).
    const agentChannel = createAgentChannelRoutes({
      jobsDir: o.paths.jobsDir,
      clock: o.clock,
      log,
      gitCredentialOnly: config.docker.mounts !== "none",
      stopping: channelPollsStop.signal,
    });
    // Agents call the model API through the daemon, which holds the key (issue 19).
    const gateway = (() => {
      const ledger = new GatewayLedger(o.paths.jobsDir);
      return createGatewayRoutes({
        jobsDir: o.paths.jobsDir,
        clock: o.clock,
        log,
        ledger,
        ...gatewayJobs({
          stores,
          pylonOf: (name) => table.get(name)?.resolved,
          globalBudget: () => globalBudget,
          ledger,
          clock: o.clock,
          home: o.env.HOME,
          kill: (id, reason) => dispatcher.kill(id, reason),
          changed: (job) => events.changed(job),
        }),
      });
    })();
    const app = createApp({
      pylonAt: (path) => table.byPath(path),
      unloadedAt: (path) => table.blockedAt(path),
      disabledAt: (path) => table.disabledAt(path),
      activeCount: () => table.names().length,
      token,
      api,
      agentChannel,
      gateway,
      dashboard: dashboardOn
        ? {
          sessions,
          publicUrl: config.server.public_url,
          jobsDir: o.paths.jobsDir,
          redactorOf: (pylon) => redactorFor(table.get(pylon)?.resolved),
          clock: o.clock,
        }
        : undefined,
      log,
      metrics: () => metrics.render(),
      observe: (pylon, status, seconds) => metrics.observeWebhook(pylon, status, seconds),
      webhook: (req, pylon) =>
        handleWebhook(req, pylon, {
          dedupeLock,
          clock: o.clock,
          stores,
          dispatcher,
          depth,
          log,
          newJobId,
          maxBody: () => maxBody,
          bodyTimeoutMs,
          maxQueue: () => config.docker.max_queue,
          onChange: (job) => notifier.changed(job),
        }),
    });
    const scheduler = new CronScheduler({
      cronPylons: () => table.all().filter((p) => p.resolved.config.trigger.type === "cron"),
      stores,
      dispatcher,
      log,
      clock: o.clock,
      newJobId,
      onChange: (job) => notifier.changed(job),
    });
    await scheduler.catchUp();
    await notifier.resume();
    await events.resume();
    let pidWritten: Promise<void> = Promise.resolve();
    const retention = setInterval(() => {
      pruneExpiredJobs(stores, o.paths, config.jobs.retain_days, o.clock.now(), log, removeFiles)
        .catch((e) =>
          log.error("jobs.prune_failed", { error: e instanceof Error ? e.message : String(e) })
        );
    }, 6 * 3_600_000);

    // One reload of a pylon at a time: two at once (the API's after `pylon enable`, the
    // watcher's of the earlier `disable` write) could finish out of order, and the one that
    // read the older file would win. Each reload reads the file once the previous one is done.
    const reloading = new KeyedLock();
    const reload = (name: string) => reloading.run(name, () => reloadNow(name));
    const reloadNow = async (name: string) => {
      if (only.size > 0 && !only.has(name)) return;
      const exists = (await listPylonNames(o.paths)).includes(name);
      if (!exists) {
        if (table.remove(name)) log.info("pylon.removed", { pylon: name });
        loader.forget(name);
        await takeFreedPaths();
        scheduler.refresh();
        return;
      }
      try {
        const before = table.get(name);
        const wasDisabled = loader.isDisabled(name);
        const state = await loader.activate(name);
        await stores.open(name);
        const after = table.get(name);
        if (state === "disabled") {
          // The API's reload of `pylon disable` and the watcher's of the same write: said once.
          if (wasDisabled) log.debug("pylon.reloaded", { pylon: name, state: "disabled" });
          else log.info("pylon.disabled", { pylon: name });
        } else {
          log.info(
            wasDisabled ? "pylon.enabled" : before ? "pylon.reloaded" : "pylon.added",
            {
              pylon: name,
              ...(before && after
                ? { changed: changedFields(before.resolved, after.resolved).join(",") || "nothing" }
                : {}),
            },
          );
        }
        if (!egressOpen && egressRelay && egressWanted()) egressOpen = await openEgress();
        dispatcher.wake();
      } catch (e) {
        if (e instanceof StoreError) {
          loader.storeFailed(name, e);
          return;
        }
        if (!(e instanceof ConfigError)) throw e;
        // Keeps the last good config, unless the edit touches a security field (fail closed).
        await loader.reloadFailed(name, e);
      }
      await takeFreedPaths();
      scheduler.refresh();
    };
    const stopWatching = await watchConfig(o.paths, {
      pylonChanged: reload,
      globalChanged: async (file) => {
        // Checked now, not at the next restart, which would fail on it.
        try {
          await loadGlobalConfig(o.paths, o.env);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          log.error("config.invalid", {
            ...problemFields(e),
            hint: e.hint,
            note:
              "the daemon keeps the config it started with; a restart fails until this is fixed",
          });
          return;
        }
        log.warn("config.changed", {
          file: displayPath(file, home),
          note: "restart the daemon to apply changes to config.yaml or the global .env",
        });
      },
      onError: (e) =>
        log.error("watch.failed", { error: e instanceof Error ? e.message : String(e) }),
      onDegraded: (unreadable) =>
        log.warn("watch.per_folder", {
          unreadable: unreadable.join(","),
          reason: "a pylon folder cannot be read, so pylons/ is watched folder by folder",
          hint: "fix the folder's permissions; edits in it are seen once it changes",
        }),
    });

    // A daemon on loopback only still serves its agents (issue 19): on the bridge's gateway.
    const agentHosts = wantsAgentListeners({
        host: o.host ?? config.server.host,
        dockerHost: o.env.DOCKER_HOST,
        swarm: config.docker.backend === "swarm",
      })
      ? await agentGateways(runner, log)
      : [];
    try {
      await serveUntilStopped(app.fetch, {
        ...(agentHosts.length > 0
          ? {
            agent: {
              hosts: agentHosts,
              handler: agentRoutesOnly(createAgentApp({ gateway, agentChannel }).fetch),
            },
          }
          : {}),
        host: o.host ?? config.server.host,
        port: o.port ?? config.server.port,
        log,
        maxConnections: config.server.max_connections,
        headerTimeoutMs: parseDuration(config.server.header_timeout) ?? undefined,
        // Job logs, Docker streams and databases opened later: a few per slot, and hot reload.
        reserveDescriptors: 64 + 8 * config.docker.max_concurrent,
        onLimits: ({ maxConnections }) => events.limitStreams(maxConnections),
        ...(o.signal ? { signal: o.signal } : {}),
        onListen: (addr) => {
          listenAddress = addr;
          if (
            runner && "useListenAddress" in runner && typeof runner.useListenAddress === "function"
          ) {
            runner.useListenAddress(addr);
          }
          pidWritten = writePidFile(o.paths.daemonPid, {
            pid: Deno.pid,
            host: addr.host,
            port: addr.port,
            startedAt: o.clock.now().toISOString(),
          }).catch((e) => log.warn("pidfile.failed", { error: String(e) }));
          const unsigned = unsignedPylons(table, config, addr.host);
          for (const u of unsigned) log.warn("webhook.unsigned", { pylon: u.name, path: u.path });
          const notes = [
            banner.unsignedWarning(unsigned),
            runner
              ? undefined
              : "Note: this build accepts and queues jobs but cannot run agents yet.",
          ].filter((n) => n !== undefined);
          o.out(banner.render(
            lines,
            table.names().length,
            addr,
            names.length === 0,
            notes.length > 0 ? notes.join("\n") : undefined,
          ));
          log.info("daemon.listening", { host: addr.host, port: addr.port });
          scheduler.start();
          dispatcher.wake();
          o.onListen?.(addr);
        },
        onStopping: () => {
          log.info("daemon.stopping");
          dispatcher.stop();
          stopWatching();
          events.close(); // open streams would hold the drain for its 5 s
          channelPollsStop.abort(); // and so would the tool-approval hooks' long polls
        },
      });
    } finally {
      clearInterval(retention);
      stopWatching();
      dispatcher.stop();
      await scheduler.stop();
      await notifier.stop();
      toolApprovals.close();
      events.close();
      channelStop.abort();
      await o.closeChannels?.();
      if (!o.runner) runner?.close?.(); // a runner we built, we close
      await pidWritten;
      await removePidFile(o.paths.daemonPid, Deno.pid);
    }
  } finally {
    await stores.closeAll();
    await checkpoints.stop();
    log.info("daemon.stopped");
  }
}

async function recover(
  stores: StoreRegistry,
  dispatcher: Dispatcher,
  log: Logger,
  canRun: boolean,
): Promise<void> {
  let queued = 0, awaiting = 0;
  const running = [];
  for (const name of stores.names()) {
    const r = await stores.get(name)!.recoverable();
    queued += r.queued.length;
    awaiting += r.awaitingApproval.length;
    running.push(...r.running);
  }
  log.info("jobs.recovered", { queued, awaiting_approval: awaiting, running: running.length });
  if (canRun && running.length > 0) await dispatcher.reattach(running);
}

/** The active webhook pylons anyone can trigger, for the banner and the log. */
function unsignedPylons(
  table: PylonTable,
  global: GlobalConfig,
  host: string,
): { name: string; path: string; why: string }[] {
  const out: { name: string; path: string; why: string }[] = [];
  for (const name of table.names()) {
    const config = table.get(name)?.resolved.config;
    const why = config && unsignedExposure(config, global, host);
    if (why) out.push({ name, path: config.trigger.path ?? "", why });
  }
  return out;
}

/**
 * Opens the runner's egress proxy (issue 19) when the Engine is this machine's: the proxy listens
 * on the job network's gateway address, which only a local Engine's containers reach. On
 * `docker.backend: swarm` or a remote Engine, when a pylon has a list, it listens on the
 * daemon's address at `server.egress_port` instead, reached through pylon's relay
 * (`src/egress/*_relay.ts`). Without it, jobs of pylons with an `agent.egress` list fail closed,
 * saying so. Resolves false when it left the proxy closed because no pylon has a list yet (the
 * daemon asks again after a reload).
 */
async function startEgress(
  runner: JobRunner | undefined,
  o: {
    home: string;
    relay?: { listenHost: string; egressPort: number; agentUrl: string | undefined };
    /** With a relay: whether a pylon has an `agent.egress` list (else no port is opened). */
    wanted?: boolean;
    log: Logger;
    lookupJob: EgressServiceOptions["lookupJob"];
  },
): Promise<boolean> {
  if (!runner || !("startEgress" in runner) || typeof runner.startEgress !== "function") {
    return true; // nothing to open, ever
  }
  if (o.relay && !o.wanted) {
    o.log.info("egress.off", {
      reason: "no pylon has an agent.egress list (Swarm or a remote Engine); opened when one has",
    });
    return false;
  }
  try {
    await (runner as { startEgress(x: unknown): Promise<boolean> }).startEgress({
      home: o.home,
      lookupJob: o.lookupJob,
      log: o.log,
      ...(o.relay ? { relay: o.relay } : {}),
    });
  } catch (e) {
    o.log.warn("egress.unavailable", {
      error: e instanceof Error ? e.message : String(e),
      effect: "jobs of pylons with an agent.egress list fail until the daemon restarts",
    });
  }
  return true;
}

/**
 * The host addresses job containers reach the daemon at on a local Engine (the default bridge's
 * gateway, the egress job network's), asked of the runner; none, logged, when it cannot say.
 */
async function agentGateways(runner: JobRunner | undefined, log: Logger): Promise<string[]> {
  if (!runner || !("agentGateways" in runner) || typeof runner.agentGateways !== "function") {
    return [];
  }
  const hosts: string[] = await (runner as { agentGateways(): Promise<string[]> })
    .agentGateways()
    .catch((e: unknown) => {
      log.warn("daemon.agent_listener_error", {
        error: e instanceof Error ? e.message : String(e),
        hint: "check that the Docker Engine answers (`pylon doctor`), then restart the daemon",
      });
      return [];
    });
  if (hosts.length === 0) {
    log.warn("daemon.agent_listener_off", {
      reason: "the Docker Engine names no gateway address for its bridge network",
      effect: "the daemon listens on loopback only: agents on a bridge network cannot " +
        "reach it, so the model gateway is off by default",
      hint: "set server.agent_url to an address containers reach, or server.host: 0.0.0.0",
    });
  }
  return hosts;
}

/** Whether `DOCKER_HOST` (unset: the default socket) names an Engine on this machine. */
function isLocalEngine(dockerHost: string | undefined): boolean {
  return dockerHost === undefined || dockerHost === "" || dockerHost.startsWith("unix://");
}
