/**
 * The dashboard's routes under `/dashboard/`: login (one-time code → session cookie, rate
 * limited), logout, the embedded assets, the pages, and `POST /dashboard/act/<action>`, which
 * turns a form into the matching control-API call (so every button works with scripts off).
 * Every response carries a strict Content-Security-Policy, `nosniff` and `same-origin`
 * referrers; pages and assets are compressed when the browser accepts it.
 *
 * Also the two bearer-only routes `pylon dashboard` uses: `POST /api/dashboard/login-codes`
 * (mint a one-time code) and `POST /api/dashboard/sessions/revoke-all`.
 *
 * @module
 */

import { createHmac } from "node:crypto";
import { type Context, Hono } from "hono";
import { compress } from "hono/compress";
import type { Logger, Redactor } from "../../log/mod.ts";
import { reject } from "../routes/webhook.ts";
import { APP_CSS, APP_JS } from "./assets.ts";
import { apiCallerFor, apiError } from "./api_caller.ts";
import {
  clearSessionCookie,
  clientAddress,
  type CookieAuth,
  csrfProblem,
  sessionCookie,
  sessionOf,
  setSessionCookie,
} from "./auth.ts";
import { jobPage } from "./job_page.ts";
import { loggedOutPage } from "./layout.ts";
import { jobsPage, needsYouPage, pylonPage, pylonsPage } from "./list_pages.ts";
import { RateLimiter } from "./rate_limit.ts";
import { constantTimeEqual, type Session } from "./sessions.ts";

/** The Content-Security-Policy of every dashboard response. */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; " +
  "connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; " +
  "base-uri 'none'";

/** What the dashboard routes need. */
export interface DashboardDeps extends CookieAuth {
  /** The whole app (auth included): pages and forms call `/api/*` through it. */
  fetchApp(req: Request, env: unknown): Promise<Response>;
  /** `$PYLON_HOME/jobs`, for a job's log and tool events. */
  jobsDir?: string | undefined;
  /** The redactor of a pylon's secrets, for the tool events its agents wrote. */
  redactorOf?: ((pylon: string) => Redactor) | undefined;
  log: Logger;
  clock?: { now(): Date };
  /** Code exchanges allowed per client address, and overall, per minute. @default {10, 60} */
  loginLimits?: { perKey: number; overall: number };
}

/** Variables a logged-in dashboard request carries. */
interface DashVars {
  Variables: { session: Session; cookie: string };
}

/** The actions `POST /dashboard/act/<action>` performs, by the API call each makes. */
const ACTIONS = new Set([
  "approve",
  "ignore",
  "kill",
  "retry",
  "trigger",
  "enable",
  "disable",
  "allow",
  "deny",
  "follow-up",
  "destroy",
]);

/** Builds the `/dashboard/…` routes (mounted at the root: `/dashboard/` itself is a page). */
export function createDashboardRoutes(deps: DashboardDeps): Hono<DashVars> {
  const app = new Hono<DashVars>();
  const limiter = new RateLimiter({
    perKey: deps.loginLimits?.perKey ?? 10,
    overall: deps.loginLimits?.overall ?? 60,
    windowMs: 60_000,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });

  app.use("/dashboard/*", async function securityHeaders(c, next) {
    await next();
    c.header("content-security-policy", DASHBOARD_CSP);
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "same-origin");
    c.header("x-frame-options", "DENY");
    if (!c.res.headers.has("cache-control")) c.header("cache-control", "no-store");
  });
  app.use("/dashboard/*", compress());

  app.get("/dashboard/assets/app.css", function css(c) {
    c.header("cache-control", "no-cache");
    return c.body(APP_CSS, 200, { "content-type": "text/css; charset=utf-8" });
  });
  app.get("/dashboard/assets/app.js", function js(c) {
    c.header("cache-control", "no-cache");
    return c.body(APP_JS, 200, { "content-type": "text/javascript; charset=utf-8" });
  });

  app.get("/dashboard/login", async function login(c) {
    const code = c.req.query("code") ?? "";
    // Only exchanges count: the bare login page costs nothing and tells nothing.
    const limit = code ? limiter.attempt(clientAddress(c)) : { wait: 0, overall: false };
    const limited = async () => {
      deps.log.warn("dashboard.login_limited", { client: clientAddress(c) });
      c.header("retry-after", String(limit.wait));
      return c.html(
        await loggedOutPage("Too many attempts", `Try again in ${limit.wait} seconds.`),
        429,
      );
    };
    if (limit.wait > 0 && !limit.overall) return await limited();
    // Strangers' guesses that used up everyone's limit do not lock out the operator's own link
    // (their address is still held to its own limit, and no guess finds a 256-bit code).
    const id = code ? await deps.sessions.exchange(code) : null;
    if (!id && limit.wait > 0) return await limited();
    if (!id) {
      deps.log.info("dashboard.login_refused", { client: clientAddress(c) });
      return c.html(
        await loggedOutPage(
          code ? "This login link does not work" : "Log in to pylon",
          code
            ? "It was used already or has expired (links work once, for 2 minutes)."
            : "The dashboard needs a one-time login link.",
        ),
        code ? 401 : 200,
      );
    }
    setSessionCookie(c, id, deps);
    deps.log.info("dashboard.login", { client: clientAddress(c), sessions: deps.sessions.size });
    // A redirect takes the code out of the address bar and the history.
    return c.redirect(safeBack(c.req.query("next")) ?? "/dashboard/", 303);
  });

  app.get("/dashboard/", (c) => pageOr401(c, deps, (d) => pylonsPage(d)));
  app.get("/dashboard/pylons", (c) => pageOr401(c, deps, (d) => pylonsPage(d)));
  app.get("/dashboard/pylons/:name", (c) =>
    pageOr401(c, deps, async (d) => {
      const page = await pylonPage(c.req.param("name"), d);
      if (!page) return notFound(c, `No pylon named "${c.req.param("name").slice(0, 100)}"`);
      return page;
    }));
  app.get(
    "/dashboard/jobs",
    (c) => pageOr401(c, deps, (d) => jobsPage(new URL(c.req.url).searchParams, d)),
  );
  app.get("/dashboard/needs-you", (c) => pageOr401(c, deps, (d) => needsYouPage(d)));
  app.get("/dashboard/jobs/:id", (c) =>
    pageOr401(c, deps, async (d) => {
      const page = await jobPage(c.req.param("id"), {
        ...d,
        jobsDir: deps.jobsDir,
        redactorOf: deps.redactorOf,
      });
      if (page.error !== undefined) return notFound(c, page.error, page.status);
      return page.body;
    }));

  app.post("/dashboard/logout", async function logout(c) {
    const session = await sessionOf(c, deps);
    if (session) {
      const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
      const problem = csrfProblem(c, session, stringField(form._csrf), deps.publicUrl);
      if (problem) return reject(403, problem);
      await deps.sessions.revoke(sessionCookie(c)!);
      deps.log.info("dashboard.logout", { client: clientAddress(c) });
    }
    clearSessionCookie(c, deps);
    return c.html(await loggedOutPage("Logged out", "Your session has ended."));
  });

  app.post("/dashboard/act/:action", async function act(c) {
    const session = await sessionOf(c, deps);
    if (!session) return reject(401, "log in first: run `pylon dashboard`");
    const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
    const problem = csrfProblem(c, session, stringField(form._csrf), deps.publicUrl);
    if (problem) return reject(403, problem);
    const action = c.req.param("action");
    if (!ACTIONS.has(action)) return reject(404, `no dashboard action "${action.slice(0, 40)}"`);
    const call = apiCallFor(action, form);
    const back = (f: Record<string, unknown>, notice: string, kind: "info" | "error") =>
      backTo(c, session, f, notice, kind);
    if (typeof call === "string") return back(form, call, "error");
    const callApi = apiCallerFor(c, {
      cookie: sessionCookie(c)!,
      csrf: session.csrf,
      fetchApp: deps.fetchApp,
    });
    const answer = await callApi(call.method ?? "POST", call.path, call.body);
    if (!answer.ok) return back(form, apiError(answer), "error");
    const data = (answer.data ?? {}) as Record<string, unknown>;
    // A deleted pylon's page is gone: land on the list.
    if (action === "destroy") {
      return back({ back: "/dashboard/" }, `Pylon ${stringField(form.pylon)} deleted.`, "info");
    }
    // A new job (retry, run now, follow-up): show it.
    if (typeof data.job_id === "string" && ["retry", "trigger", "follow-up"].includes(action)) {
      return c.redirect(`/dashboard/jobs/${encodeURIComponent(data.job_id)}`, 303);
    }
    return back(form, doneText(action, data), "info");
  });

  app.all("/dashboard/*", (c) => pageOr401(c, deps, () => notFound(c, "No such dashboard page")));
  return app;
}

/** Renders a page for a logged-in browser; a plain 401 page otherwise. */
async function pageOr401(
  c: Context<DashVars>,
  deps: DashboardDeps,
  render: (d: Parameters<typeof pylonsPage>[0]) => Promise<unknown> | unknown,
): Promise<Response> {
  const session = await sessionOf(c, deps);
  if (!session) {
    return c.html(
      await loggedOutPage("Log in to pylon", "This page needs a dashboard session."),
      401,
    );
  }
  const notice = signedNotice(c, session);
  const d = {
    callApi: apiCallerFor(c, {
      cookie: sessionCookie(c)!,
      csrf: session.csrf,
      fetchApp: deps.fetchApp,
    }),
    csrf: session.csrf,
    now: deps.clock?.now() ?? new Date(),
    notice,
  };
  const out = await render(d);
  if (out instanceof Response) return out;
  return c.html(String(await out));
}

async function notFound(c: Context, message: string, status = 404): Promise<Response> {
  return c.html(await loggedOutPage("Not found", message), status === 404 ? 404 : 400);
}

/** The API call an action makes, or why the form cannot make one. */
function apiCallFor(
  action: string,
  form: Record<string, unknown>,
): { path: string; body?: string; method?: string } | string {
  const job = stringField(form.job);
  const pylon = stringField(form.pylon);
  const enc = encodeURIComponent;
  switch (action) {
    case "approve":
    case "ignore":
    case "kill":
    case "retry":
      return job ? { path: `/jobs/${enc(job)}/${action}` } : "no job was given";
    case "enable":
    case "disable":
      return pylon ? { path: `/pylons/${enc(pylon)}/${action}` } : "no pylon was given";
    case "destroy": {
      // Typing the name guards against a click on the wrong page (the API's destroy rule then
      // refuses a pylon with unfinished jobs unless `force` kills them first).
      if (!pylon) return "no pylon was given";
      if (stringField(form.confirm)?.trim() !== pylon) {
        return `type the pylon's name (${pylon}) to delete it`;
      }
      const force = stringField(form.force) === "1" ? "?force=1" : "";
      return { path: `/pylons/${enc(pylon)}${force}`, method: "DELETE" };
    }
    case "trigger": {
      if (!pylon) return "no pylon was given";
      const payload = stringField(form.payload)?.trim() ?? "";
      return { path: `/pylons/${enc(pylon)}/trigger`, body: payload === "" ? "{}" : payload };
    }
    case "allow":
    case "deny": {
      const call = stringField(form.call);
      if (!job || !call) return "no job or tool call was given";
      const forJob = action === "allow" && stringField(form.for_job) === "1";
      return {
        path: `/jobs/${enc(job)}/tool-calls/${enc(call)}/${action}`,
        body: JSON.stringify(forJob ? { "for_job": true } : {}),
      };
    }
    default: {
      const message = stringField(form.message)?.trim();
      if (!job || !message) return "write a question first";
      return { path: `/jobs/${enc(job)}/follow-up`, body: JSON.stringify({ message }) };
    }
  }
}

function doneText(action: string, data: Record<string, unknown>): string {
  const status = typeof data.status === "string" ? `: ${data.status}` : "";
  switch (action) {
    case "kill":
      return data.kill_requested ? "Killing the job…" : `Job cancelled${status}.`;
    case "enable":
    case "disable":
      return `Pylon ${String(data.name ?? "")} ${action}d${
        typeof data.state === "string" ? ` (${data.state})` : ""
      }.`;
    case "allow":
    case "deny":
      return `Tool call ${action === "allow" ? "allowed" : "denied"}.`;
    default:
      return `Done (${action})${status}.`;
  }
}

/** Back to the page the form came from, with a notice signed for this session. */
function backTo(
  c: Context,
  session: Session,
  form: Record<string, unknown>,
  notice: string,
  kind: "info" | "error",
): Response {
  const target = new URL(safeBack(stringField(form.back)) ?? "/dashboard/", "http://x");
  const text = notice.slice(0, 300);
  target.searchParams.set("notice", text);
  if (kind === "error") target.searchParams.set("kind", "error");
  else target.searchParams.delete("kind");
  target.searchParams.set("sig", noticeTag(session, text, kind));
  return c.redirect(`${target.pathname}${target.search}`, 303);
}

/**
 * The notice in the address, when the dashboard put it there for this session. Unsigned (a link
 * someone sent: "Session expired, run curl … | sh"), it is not shown in the dashboard's voice.
 */
function signedNotice(
  c: Context,
  session: Session,
): { text: string; kind: "info" | "error" } | undefined {
  const text = c.req.query("notice");
  if (!text) return undefined;
  const kind = c.req.query("kind") === "error" ? "error" : "info";
  const sig = c.req.query("sig") ?? "";
  return constantTimeEqual(sig, noticeTag(session, text, kind)) ? { text, kind } : undefined;
}

function noticeTag(session: Session, text: string, kind: string): string {
  return createHmac("sha256", session.csrf).update(`notice\n${kind}\n${text}`).digest("base64url")
    .slice(0, 22);
}

/** A path inside the dashboard (no other site, no scheme), or undefined. */
function safeBack(path: string | undefined): string | undefined {
  if (!path || !path.startsWith("/dashboard") || path.startsWith("//")) return undefined;
  // deno-lint-ignore no-control-regex
  if (/[\\\x00-\x20]/.test(path)) return undefined;
  return path;
}

function stringField(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Bearer-only routes for `pylon dashboard` (mounted at `/api/dashboard`, behind the token). */
export function createLoginCodeRoutes(deps: CookieAuth & { log: Logger }): Hono {
  const app = new Hono<{ Variables: { authVia: string } }>();
  app.use("*", async function bearerOnly(c, next) {
    // A dashboard session must not mint more sessions or end everyone's.
    if (c.get("authVia") !== "bearer") return reject(403, "this needs the daemon's bearer token");
    await next();
  });
  app.post("/login-codes", async function mint(c) {
    const { code, expiresAt } = await deps.sessions.mintCode();
    deps.log.info("dashboard.code_minted", { expires: expiresAt.toISOString() });
    return c.json({
      code,
      path: `/dashboard/login?code=${encodeURIComponent(code)}`,
      "expires_at": expiresAt.toISOString(),
    }, 201);
  });
  app.post("/sessions/revoke-all", async function revokeAll(c) {
    const revoked = await deps.sessions.revokeAll();
    deps.log.info("dashboard.sessions_revoked", { count: revoked });
    return c.json({ revoked });
  });
  return app as unknown as Hono;
}
