/**
 * The agent listeners (issue 19): a daemon that listens on loopback only is out of reach of its
 * job containers, whose `host.docker.internal` is the host's address on Docker's bridge. So, with
 * a local Engine, it also listens at its port on the default bridge's gateway address (and the
 * egress job network's), serving there the agent routes only (`/agent/v1/*`: the channel, the
 * model gateway, git credentials). Everything else answers 404 there: the control API, webhooks
 * and the dashboard stay on loopback.
 *
 * The agent routes are the same Hono sub-apps the main app mounts ({@linkcode createAgentApp}),
 * behind {@linkcode agentRoutesOnly}, which refuses any request target that is not plainly under
 * `/agent/v1/` (dot segments, doubled or encoded slashes), before any routing.
 *
 * @module
 */

import { Hono } from "hono";
import type { ConnHandler } from "./_conn_serve.ts";
import { isLoopbackHost } from "./exposure.ts";

/** The path prefix served on the agent listeners. */
export const AGENT_PREFIX = "/agent/v1/";

/** `%2e` `%2f` `%5c` (dot, slash, backslash in any case), and `%25` (a double encoding). */
const ENCODED_SEPARATOR_REGEXP = /%(2e|2f|5c|25)/i;
/** A dot segment: `/./`, `/../`, or one ending the path. */
const DOT_SEGMENT_REGEXP = /\/\.{1,2}(\/|$)/;

/**
 * Whether the request target of `url` (a request's URL as received) is plainly under
 * `/agent/v1/`: no dot segment, no empty segment, no encoded dot, slash or backslash, no
 * backslash; checked on the raw target and on its parsed form.
 */
export function isAgentPath(url: string): boolean {
  const raw = rawPath(url);
  if (raw === undefined || !raw.startsWith(AGENT_PREFIX)) return false;
  if (
    raw.includes("//") || raw.includes("\\") || DOT_SEGMENT_REGEXP.test(raw) ||
    ENCODED_SEPARATOR_REGEXP.test(raw)
  ) {
    return false;
  }
  let parsed: string;
  try {
    parsed = new URL(url).pathname;
  } catch {
    return false;
  }
  return parsed === raw;
}

/** Answers 404 to anything {@linkcode isAgentPath} refuses; passes the rest to `handler`. */
export function agentRoutesOnly(handler: ConnHandler): ConnHandler {
  return function agentOnly(req, info) {
    if (!isAgentPath(req.url)) return notHere();
    return handler(req, info);
  };
}

/** The agent routes of the daemon's app (the same sub-apps it mounts), and 404 for the rest. */
export function createAgentApp(
  routes: { gateway?: Hono | undefined; agentChannel?: Hono | undefined },
): Hono {
  const app = new Hono();
  if (routes.gateway) app.route("/agent/v1", routes.gateway);
  if (routes.agentChannel) app.route("/agent/v1", routes.agentChannel);
  app.notFound(notHere);
  return app;
}

/** Whether the daemon should open agent listeners: it listens on loopback only, Engine local. */
export function wantsAgentListeners(
  o: { host: string; dockerHost: string | undefined; swarm: boolean },
): boolean {
  const local = o.dockerHost === undefined || o.dockerHost === "" ||
    o.dockerHost.startsWith("unix://");
  return isLoopbackHost(o.host) && local && !o.swarm;
}

function notHere(): Response {
  return Response.json(
    { error: "not found: this address serves the agent routes (/agent/v1) only" },
    { status: 404 },
  );
}

/** The path of a request URL as sent (before any normalisation), without query or fragment. */
function rawPath(url: string): string | undefined {
  const scheme = url.indexOf("://");
  if (scheme < 0) return undefined;
  const slash = url.indexOf("/", scheme + 3);
  if (slash < 0) return undefined;
  const end = url.slice(slash).search(/[?#]/);
  return end < 0 ? url.slice(slash) : url.slice(slash, slash + end);
}
