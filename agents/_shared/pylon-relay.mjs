// pylon's egress relay (docker.backend: swarm, issue 19): in every built-in agent image at
// /usr/local/lib/pylon/pylon-relay.mjs, run by the `pylon-egress-relay` service on each node.
// It sits on the internal job network (`pylon-egress`, no route out) and on a normal one, and
// copies bytes between them, nothing else: jobs reach the daemon's egress proxy and its agent
// channel through it. Who a request belongs to and where it may go stay with the daemon (the
// proxy's Proxy-Authorization, the channel's bearer token).
//
//   PYLON_RELAY="3128=10.0.0.5:3128,8080=10.0.0.5:8080" node pylon-relay.mjs
//
// Each `listen=host:port` pair is a port here and where its connections go.

import { connect, createServer } from "node:net";
import process from "node:process";

/** Open connections at most per port; past it new ones are closed at once. */
const MAX_CONNECTIONS = 512;
/** A connection idle this long (no byte either way) is closed. */
const IDLE_MS = 10 * 60_000;

function log(text) {
  process.stderr.write(`[pylon-relay] ${text}\n`);
}

/** `3128=host:port,…` as [{ port, host, targetPort }]; throws on anything else. */
export function parseRoutes(text) {
  const routes = String(text ?? "").split(",").filter(Boolean).map((pair) => {
    const m = pair.trim().match(/^(\d{1,5})=(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/);
    if (!m) throw new Error(`PYLON_RELAY: "${pair}" is not port=host:port`);
    return { port: Number(m[1]), host: m[2].replace(/^\[|\]$/g, ""), targetPort: Number(m[3]) };
  });
  if (routes.length === 0) throw new Error("PYLON_RELAY is empty: set port=host:port,…");
  return routes;
}

/**
 * Listens on `route.port` and copies each connection to and from its target.
 * @param {{ port: number, host: string, targetPort: number }} route
 * @param {(e: Error) => void} [onError] a listen error (default: exit 1)
 */
export function relay(route, onError = () => process.exit(1)) {
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: route.host, port: route.targetPort, allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      socket.setTimeout(IDLE_MS, () => socket.destroy());
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.on("error", (e) => {
    log(`port ${route.port}: ${e.message}`);
    onError(e);
  });
  server.listen(route.port, () => log(`${route.port} -> ${route.host}:${route.targetPort}`));
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let routes;
  try {
    routes = parseRoutes(process.env.PYLON_RELAY);
  } catch (e) {
    log(e.message);
    process.exit(2);
  }
  for (const route of routes) relay(route);
  for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
}
