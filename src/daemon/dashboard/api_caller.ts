/**
 * How dashboard pages and forms reach the control API: through the daemon's own app, in process,
 * as the logged-in browser (its session cookie, its CSRF token, our origin). So a page sees what
 * the API shows (redacted), a form does what the API allows, and every check of `/api/*` (cookie
 * auth, CSRF, `authVia`) applies to the dashboard too; nothing is duplicated here.
 *
 * @module
 */

import type { Context } from "hono";
import { SESSION_COOKIE } from "./auth.ts";

/** One answer of the API. */
export interface ApiAnswer {
  status: number;
  ok: boolean;
  /** Parsed JSON, or the text when it is not JSON. */
  data: unknown;
  headers: Headers;
}

/** Calls `/api<path>` as the page's user. */
export type ApiCall = (method: string, path: string, body?: string) => Promise<ApiAnswer>;

/** Builds the caller for one request of a logged-in browser. */
export function apiCallerFor(
  c: Context,
  o: { cookie: string; csrf: string; fetchApp(req: Request, env: unknown): Promise<Response> },
): ApiCall {
  const origin = new URL(c.req.url).origin;
  return async function callApi(method, path, body) {
    const headers = new Headers({
      cookie: `${SESSION_COOKIE}=${o.cookie}`,
      "x-csrf-token": o.csrf,
      origin,
      "sec-fetch-site": "same-origin",
      // Decisions record where they came from (tool calls: `via: dashboard`); the API believes
      // it only for a request its cookie check let in.
      "x-pylon-via": "dashboard",
    });
    if (body !== undefined) headers.set("content-type", "application/json");
    const res = await o.fetchApp(
      new Request(`${origin}/api${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      }),
      c.env,
    );
    const text = await res.text();
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch {
      // not JSON: the text is the answer
    }
    return { status: res.status, ok: res.ok, data, headers: res.headers };
  };
}

/** The `error` of an API answer, or a generic sentence. */
export function apiError(answer: ApiAnswer): string {
  const e = (answer.data as { error?: unknown } | null)?.error;
  return typeof e === "string" ? e : `the daemon answered ${answer.status}`;
}
