/**
 * Who a request is: the control API's bearer token (CLI, scripts) or a dashboard session cookie
 * (browsers). With the cookie, a request that changes something must also come from our own
 * origin (`Origin`, else `Sec-Fetch-Site`) and carry the session's CSRF token (the
 * `x-csrf-token` header, or the `_csrf` field of a dashboard form): a cross-site page can make
 * the browser send the cookie but can neither read the token nor forge the `Origin`.
 *
 * @module
 */

import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { tokenMatches } from "../token.ts";
import { constantTimeEqual, type Session, type SessionStore } from "./sessions.ts";

/** The session cookie's name. */
export const SESSION_COOKIE = "pylon_session";

/** How a request was authenticated (`c.get("authVia")`). */
export type AuthVia = "cookie" | "bearer";

/** Hono variables set by the auth middleware. */
export interface AuthVariables {
  authVia: AuthVia;
  session: Session;
}

/** What cookie auth needs; absent (dashboard off): bearer only. */
export interface CookieAuth {
  sessions: SessionStore;
  /** `server.public_url`: its origin is ours too (behind a proxy), and https makes cookies Secure. */
  publicUrl?: string | undefined;
}

/** Methods that change nothing (no CSRF check). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether the request's `authorization` header carries the token. */
export function bearerMatches(c: Context, token: string): boolean {
  const header = c.req.header("authorization");
  const presented = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
  return tokenMatches(presented, token);
}

/** The valid session of the request's cookie, or null. */
export async function sessionOf(c: Context, auth: CookieAuth): Promise<Session | null> {
  return await auth.sessions.check(getCookie(c, SESSION_COOKIE));
}

/**
 * Why a state-changing cookie request is refused (undefined: it is not). `presented` is the CSRF
 * token it carries (header or form field).
 */
export function csrfProblem(
  c: Context,
  session: Session,
  presented: string | undefined,
  publicUrl: string | undefined,
): string | undefined {
  if (SAFE_METHODS.has(c.req.method)) return undefined;
  if (!sameOrigin(c, publicUrl)) return "a cross-site request is not accepted";
  if (!presented || !constantTimeEqual(presented, session.csrf)) {
    return "missing or wrong CSRF token (reload the page)";
  }
  return undefined;
}

/** Whether the request comes from one of our pages (by `Origin`, else `Sec-Fetch-Site`). */
export function sameOrigin(c: Context, publicUrl: string | undefined): boolean {
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== "null") {
    const ours = new Set([new URL(c.req.url).origin]);
    if (publicUrl) ours.add(new URL(publicUrl).origin);
    return ours.has(origin);
  }
  // No Origin (old browsers on same-origin requests): the fetch metadata must say so.
  return c.req.header("sec-fetch-site") === "same-origin";
}

/** Sets the session cookie (HttpOnly, SameSite=Lax, Path=/, Secure behind https). */
export function setSessionCookie(c: Context, id: string, auth: CookieAuth): void {
  setCookie(c, SESSION_COOKIE, id, {
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    secure: isHttps(auth.publicUrl),
    maxAge: 7 * 24 * 3600,
  });
}

/** Removes the session cookie from the browser. */
export function clearSessionCookie(c: Context, auth: CookieAuth): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: isHttps(auth.publicUrl) });
}

/** The session cookie's value, if the request has one. */
export function sessionCookie(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** The peer's address (for rate limits); "unknown" when the server did not say. */
export function clientAddress(c: Context): string {
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname ?? "unknown";
}

function isHttps(url: string | undefined): boolean {
  return url !== undefined && url.startsWith("https:");
}
