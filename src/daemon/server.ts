/**
 * Owns the listener and the process signals: binds, serves until SIGINT/SIGTERM or the given
 * signal aborts, then stops accepting and gives in-flight requests up to 5 s to finish.
 *
 * Connections are accepted by `listener.ts`, not by `Deno.serve`, so that their number and the
 * time a request head may take are bounded, and no accept error can end the process.
 *
 * @module
 */

import { PylonError } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import { type ConnHandler, defaultServeConnection, type ServeConnection } from "./_conn_serve.ts";
import { connectionBudget, readDescriptorUse } from "./fd_budget.ts";
import { type ListenerOptions, type ListenerServer, serveListener } from "./listener.ts";

/** Default of {@linkcode ServeOptions.headerTimeoutMs}. */
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;

/** Options of {@linkcode serveUntilStopped}. */
export interface ServeOptions {
  host: string;
  port: number;
  log: Logger;
  /**
   * Called once the port is bound, with the actual port (0 picks a free one) and the
   * {@linkcode agent} addresses bound at that port.
   */
  onListen?: (addr: { host: string; port: number; agentHosts: string[] }) => void;
  /**
   * Called before listening with the connection limit in force, so that long requests (event
   * streams) can be kept to a share of it and never take every connection.
   */
  onLimits?: (limits: { maxConnections: number }) => void;
  /**
   * Further addresses to serve at the same port with `handler` (the agent routes only:
   * `agent_listener.ts`), each with a quarter of the connection limit and the same timeouts.
   * One that cannot be bound is logged and left out.
   */
  agent?: { hosts: readonly string[]; handler: ConnHandler } | undefined;
  /** Called when a stop was requested, before draining. */
  onStopping?: () => void;
  /** Stops the server when aborted (tests); SIGINT/SIGTERM do too. */
  signal?: AbortSignal;
  /** How long in-flight requests may take after a stop request. */
  drainMs?: number;
  /**
   * Most connections open at once. Absent: sized from the soft `NOFILE` limit less
   * {@linkcode reserveDescriptors}, at most 4096.
   */
  maxConnections?: number | undefined;
  /** Descriptors kept free for the daemon's own files when sizing the connection limit. */
  reserveDescriptors?: number;
  /** How long a connection may take to send a complete request head (and may sit idle). */
  headerTimeoutMs?: number | undefined;
  /** Serves one accepted connection (tests pick the engine). */
  serveConnection?: ServeConnection;
}

/**
 * Serves `handler` until stopped.
 *
 * @throws {PylonError} when the port cannot be bound
 */
export async function serveUntilStopped(
  handler: ConnHandler,
  options: ServeOptions,
): Promise<void> {
  const serveConnection = options.serveConnection ?? defaultServeConnection();
  if (!serveConnection) {
    throw new PylonError(
      `Cannot serve HTTP: this Deno (${Deno.version.deno}) cannot serve a connection`,
      {
        hint: "run pylon on Deno 2.9.6, the version it is built and tested with",
      },
    );
  }
  // Before listening: a SIGTERM right after the "listening" banner must stop the daemon cleanly
  // (releasing its pid file and databases), not kill it with the default action.
  const { promise: stopRequested, resolve: requestStop } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => requestStop();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  options.signal?.addEventListener("abort", onSignal, { once: true });
  if (options.signal?.aborted) requestStop();
  const removeListeners = () => {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    options.signal?.removeEventListener("abort", onSignal);
  };
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: options.host, port: options.port, tcpBacklog: 511 });
  } catch (e) {
    removeListeners();
    throw listenError(e, options);
  }
  try {
    const maxConnections = await connectionLimit(options);
    const headerTimeoutMs = options.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS;
    options.onLimits?.({ maxConnections });
    const server = serveListener(listener, handler, {
      maxConnections,
      headerTimeoutMs,
      serveConnection,
      log: options.log,
    });
    options.log.info("server.limits", {
      max_connections: maxConnections,
      header_timeout_ms: headerTimeoutMs,
    });
    const addr = listener.addr;
    const agentServers = openAgentListeners(addr.port, options, {
      maxConnections: Math.max(16, Math.floor(maxConnections / 4)),
      headerTimeoutMs,
      serveConnection,
    });
    const agentHosts = agentServers.map((a) => a.host);
    options.onListen?.({ host: addr.hostname, port: addr.port, agentHosts });
    await stopRequested;
    options.onStopping?.();
    // Past the drain time the rest are cut off; main.ts then exits.
    const drainMs = options.drainMs ?? 5000;
    await Promise.all([server, ...agentServers.map((a) => a.server)].map((s) => s.stop(drainMs)));
  } finally {
    removeListeners();
  }
}

/** Binds and serves each of `options.agent`'s hosts at `port`; logs the ones bound. */
function openAgentListeners(
  port: number,
  options: ServeOptions,
  limits: Omit<ListenerOptions, "log">,
): { host: string; server: ListenerServer }[] {
  const agent = options.agent;
  if (!agent || agent.hosts.length === 0) return [];
  const out: { host: string; server: ListenerServer }[] = [];
  for (const host of agent.hosts) {
    let listener: Deno.TcpListener;
    try {
      listener = Deno.listen({ hostname: host, port, tcpBacklog: 511 });
    } catch (e) {
      options.log.warn("daemon.agent_listener_failed", {
        address: `${host}:${port}`,
        error: e instanceof Error ? e.message : String(e),
        effect: "containers reaching the daemon there get no answer",
      });
      continue;
    }
    const server = serveListener(listener, agent.handler, { ...limits, log: options.log });
    out.push({ host, server });
  }
  if (out.length > 0) {
    options.log.info("daemon.agent_listener", {
      addresses: out.map((a) => `${a.host}:${port}`).join(","),
      serves: "/agent/v1 only",
    });
  }
  return out;
}

/** The connection limit: as configured, or sized from the descriptor limit (logged if tight). */
async function connectionLimit(options: ServeOptions): Promise<number> {
  if (options.maxConnections !== undefined) return options.maxConnections;
  const use = await readDescriptorUse();
  const budget = connectionBudget(use.limit, {
    open: use.open,
    reserve: options.reserveDescriptors ?? 64,
  });
  if (budget.tight) {
    options.log.warn("server.fd_limit_low", {
      nofile: budget.softLimit,
      open: use.open,
      max_connections: budget.max,
      hint: "raise the open-files limit (LimitNOFILE= in the unit, or ulimit -n) and restart",
    });
  }
  return budget.max;
}

function listenError(e: unknown, options: ServeOptions): unknown {
  if (e instanceof Deno.errors.AddrInUse) {
    return new PylonError(`Port ${options.port} on ${options.host} is already in use`, {
      // Started with --port, "change config.yaml" alone would not be the way out.
      hint: "another pylon or program listens there; use another port " +
        "(`pylon start --port N` for this run, server.port in config.yaml for good), " +
        "or run `pylon doctor`",
      cause: e,
    });
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return new PylonError(`Cannot listen on ${options.host}:${options.port}: permission denied`, {
      hint: "ports below 1024 need root; pick server.port 1024 or higher",
      cause: e,
    });
  }
  return e;
}
