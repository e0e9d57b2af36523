/**
 * The daemon's HTTP routes. Routes only: each handler delegates to what it needs.
 *
 * @module
 */

import { Hono } from "hono";
import { VERSION } from "../version.ts";

/** What the HTTP app needs from the daemon. */
export interface AppDeps {
  /** Names of the pylons that loaded and are enabled. */
  activePylons(): string[];
}

/** Builds the HTTP app; does no I/O until a request arrives. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.get("/healthz", function health(c) {
    return c.json({ status: "ok", version: VERSION, pylons: deps.activePylons().length });
  });
  app.notFound(function notFound(c) {
    return c.json({ error: `no pylon listens on ${c.req.path}` }, 404);
  });
  return app;
}
