/**
 * The daemon's HTTP routes: `/healthz` (open), `/metrics` (bearer token), `/api/status` and
 * `/api/*` (bearer token, or a dashboard session cookie plus CSRF token), the web dashboard under
 * `/dashboard/`, and every webhook pylon's `POST <trigger.path>`. Routes only: handlers delegate.
 *
 * `/healthz` says only that a pylon daemon answers: the version and the pylon count would tell
 * anyone who can reach the port which release (and its known bugs) runs there.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import type { Logger, Redactor } from "../log/mod.ts";
import { type AuthVia, bearerMatches, csrfProblem, sessionOf } from "./dashboard/auth.ts";
import { createDashboardRoutes, createLoginCodeRoutes } from "./dashboard/routes.ts";
import type { SessionStore } from "./dashboard/sessions.ts";
import type { StreamAuth } from "./routes/events.ts";
import { VERSION } from "../version.ts";
import type { ActivePylon } from "./pylon_table.ts";
import { reject } from "./routes/webhook.ts";

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
  /**
   * The agent channel (`/agent/v1`, `docker.mounts: none`): outside the bearer check, each of its
   * routes wants the job's own token (`routes/agent_channel.ts`).
   */
  agentChannel?: Hono | undefined;
  /**
   * The model API gateway (`/agent/v1/jobs/<id>/model/…`, issue 19), in both mount modes; each
   * request wants the job's own token (`routes/gateway.ts`). Mounted before the channel.
   */
  gateway?: Hono | undefined;
  /** The web dashboard; absent (`server.dashboard: false`): no pages, no cookie auth (404). */
  dashboard?: DashboardOptions | undefined;
}

/** What the dashboard needs from the daemon. */
export interface DashboardOptions {
  sessions: SessionStore;
  /** `server.public_url`: its origin counts as ours; https makes the cookie Secure. */
  publicUrl?: string | undefined;
  /** `$PYLON_HOME/jobs` (job logs and tool events for the job page). */
  jobsDir?: string | undefined;
  /** The redactor of a pylon's secrets, for the tool events on the job page. */
  redactorOf?: ((pylon: string) => Redactor) | undefined;
  clock?: { now(): Date };
}

/** Per-request variables: how `/api/*` requests were authenticated. */
type AppEnv = { Variables: { authVia: AuthVia; streamAuth: StreamAuth } };

/** The body of `GET /healthz`, by which the CLI and `doctor` recognise a pylon daemon. */
export const HEALTH_BODY = { status: "ok", service: "pylon" } as const;

/** Builds the HTTP app; does no I/O until a request arrives. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono<AppEnv>();
  const dashboard = deps.dashboard;
  app.get("/healthz", function health(c) {
    return c.json(HEALTH_BODY);
  });
  if (deps.gateway) app.route("/agent/v1", deps.gateway);
  if (deps.agentChannel) app.route("/agent/v1", deps.agentChannel);
  app.use("/metrics", requireToken(deps.token));
  app.use("/api/*", requireTokenOrSession(deps.token, dashboard));
  app.get("/metrics", async function metrics() {
    const { body, contentType } = await deps.metrics();
    return new Response(body, { headers: { "content-type": contentType } });
  });
  app.get("/api/status", function status(c) {
    return c.json({ ...HEALTH_BODY, version: VERSION, pylons: deps.activeCount() });
  });
  if (dashboard) {
    app.route("/api/dashboard", createLoginCodeRoutes({ ...dashboard, log: deps.log }));
  }
  app.route("/api", deps.api);
  if (dashboard) {
    app.get("/dashboard", (c) => c.redirect("/dashboard/", 308));
    app.route(
      "/",
      createDashboardRoutes({
        ...dashboard,
        log: deps.log,
        fetchApp: async (req, env) => await app.fetch(req, env),
      }) as unknown as Hono<AppEnv>,
    );
  } else {
    app.all("/dashboard/*", () => reject(404, "the dashboard is off (server.dashboard: false)"));
    app.all("/dashboard", () => reject(404, "the dashboard is off (server.dashboard: false)"));
  }
  app.all("*", async function webhookRoute(c) {
    const pylon = deps.pylonAt(c.req.path);
    if (!pylon) {
      const disabled = deps.disabledAt?.(c.req.path);
      if (disabled !== undefined) {
        // Like an active pylon's path, only POST is a delivery; the note says why none would run.
        if (c.req.method !== "POST") {
          return reject(405, `use POST for ${c.req.path} (pylon ${disabled} is disabled)`, {
            allow: "POST",
          });
        }
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
  return app as unknown as Hono;
}

function unauthorized(): Response {
  return reject(401, "missing or wrong bearer token (see $PYLON_HOME/daemon.token)", {
    "www-authenticate": 'Bearer realm="pylon"',
  });
}

function requireToken(token: string) {
  return async function checkToken(c: Context, next: () => Promise<void>) {
    if (!bearerMatches(c, token)) return unauthorized();
    await next();
  };
}

/**
 * `/api/*`: the bearer token, or (dashboard on) a session cookie; with the cookie, a request that
 * changes something must come from our origin and carry the session's `x-csrf-token`.
 */
function requireTokenOrSession(token: string, dashboard: DashboardOptions | undefined) {
  return async function checkTokenOrSession(c: Context<AppEnv>, next: () => Promise<void>) {
    if (c.req.header("authorization") !== undefined || !dashboard) {
      if (!bearerMatches(c, token)) return unauthorized();
      c.set("authVia", "bearer");
      return await next();
    }
    const session = await sessionOf(c, dashboard);
    if (!session) return unauthorized();
    const problem = csrfProblem(c, session, c.req.header("x-csrf-token"), dashboard.publicUrl);
    if (problem) return reject(403, problem);
    c.set("authVia", "cookie");
    // An event stream opened with this session ends when the session does (logout, revoke-all,
    // expiry), not when the browser lets go.
    const sessions = dashboard.sessions;
    c.set("streamAuth", {
      valid: () => sessions.valid(session),
      watch: (onEnd) => sessions.watch(session, onEnd),
    });
    await next();
    // What a browser reads here (job JSON, a job's log as text) is agent and sender data: never
    // sniffed into a page, never run.
    c.header("x-content-type-options", "nosniff");
    c.header("content-security-policy", "default-src 'none'; sandbox; frame-ancestors 'none'");
  };
}
