/**
 * The daemon's HTTP routes: `/healthz` (open), `/metrics`, `/api/status` and `/api/*` (bearer
 * token), and every webhook pylon's `POST <trigger.path>`. Routes only: handlers delegate.
 *
 * `/healthz` says only that a pylon daemon answers: the version and the pylon count would tell
 * anyone who can reach the port which release (and its known bugs) runs there.
 *
 * @module
 */

import { Hono } from "hono";
import type { Logger } from "../log/mod.ts";
import { VERSION } from "../version.ts";
import type { ActivePylon } from "./pylon_table.ts";
import { reject } from "./routes/webhook.ts";
import { tokenMatches } from "./token.ts";

/** What the HTTP app needs from the daemon. */
export interface AppDeps {
  /** The webhook pylon serving a path, looked up per request (hot reload swaps it). */
  pylonAt(path: string): ActivePylon | undefined;
  /** The pylon that claims a path but is not loaded (broken, or failed closed), if any. */
  unloadedAt?(path: string): string | undefined;
  /** The disabled pylon whose file names a path, if any. */
  disabledAt?(path: string): string | undefined;
  /** Number of active pylons. */
  activeCount(): number;
  /** Control API token. */
  token: string;
  api: Hono;
  /** Prometheus text and its content type. */
  metrics(): Promise<{ body: string; contentType: string }>;
  webhook(req: Request, pylon: ActivePylon): Promise<Response>;
  log: Logger;
  /** Called with each webhook's status and duration (seconds). */
  observe?(pylon: string, status: number, seconds: number): void;
}

/** The body of `GET /healthz`, by which the CLI and `doctor` recognise a pylon daemon. */
export const HEALTH_BODY = { status: "ok", service: "pylon" } as const;

/** Builds the HTTP app; does no I/O until a request arrives. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.get("/healthz", function health(c) {
    return c.json(HEALTH_BODY);
  });
  app.use("/metrics", requireToken(deps.token));
  app.use("/api/*", requireToken(deps.token));
  app.get("/metrics", async function metrics() {
    const { body, contentType } = await deps.metrics();
    return new Response(body, { headers: { "content-type": contentType } });
  });
  app.get("/api/status", function status(c) {
    return c.json({ ...HEALTH_BODY, version: VERSION, pylons: deps.activeCount() });
  });
  app.route("/api", deps.api);
  app.all("*", async function webhookRoute(c) {
    const pylon = deps.pylonAt(c.req.path);
    if (!pylon) {
      const disabled = deps.disabledAt?.(c.req.path);
      if (disabled !== undefined) {
        // 200, not 503: senders retry a 5xx (GitHub, Sentry), and a disabled pylon wants no retries.
        deps.log.info("webhook.ignored", { pylon: disabled, reason: "disabled" });
        return c.json({ status: "ignored", reason: `pylon ${disabled} is disabled` });
      }
      const unloaded = deps.unloadedAt?.(c.req.path);
      if (unloaded === undefined) return reject(404, `no pylon listens on ${c.req.path}`);
      // Never the reason: it may name variables, files or values. The daemon log has it.
      deps.log.warn("webhook.rejected", { pylon: unloaded, status: 503, reason: "not loaded" });
      return reject(503, `pylon ${unloaded} is not loaded; see the daemon log`);
    }
    if (c.req.method !== "POST") {
      return reject(405, `use POST for ${c.req.path}`, { allow: "POST" });
    }
    const started = performance.now();
    const res = await deps.webhook(c.req.raw, pylon);
    deps.observe?.(pylon.name, res.status, (performance.now() - started) / 1000);
    return res;
  });
  app.onError(function internalError(err, c) {
    // Logged once, here at the edge; clients get no internals.
    deps.log.error("http.error", { path: c.req.path, error: err.message, stack: err.stack });
    return c.json({ error: "internal error; see the daemon log" }, 500);
  });
  return app;
}

function requireToken(token: string) {
  return async function checkToken(
    c: { req: { header(name: string): string | undefined } },
    next: () => Promise<void>,
  ): Promise<Response | void> {
    const header = c.req.header("authorization");
    const presented = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
    if (!tokenMatches(presented, token)) {
      return reject(401, "missing or wrong bearer token (see $PYLON_HOME/daemon.token)", {
        "www-authenticate": 'Bearer realm="pylon"',
      });
    }
    await next();
  };
}
