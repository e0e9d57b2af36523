/**
 * The web dashboard served by the daemon under `/dashboard/`: login through one-time codes,
 * sessions, cookie auth for `/api/*`, and the pages.
 *
 * @module
 */

import { join } from "node:path";
import type { PylonPaths } from "../../config/mod.ts";

export { createDashboardRoutes, createLoginCodeRoutes, DASHBOARD_CSP } from "./routes.ts";
export type { DashboardDeps } from "./routes.ts";
export {
  CODE_TTL_MS,
  revokeAllInFile,
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
  SessionStore,
} from "./sessions.ts";
export { SESSION_COOKIE } from "./auth.ts";
export type { AuthVia } from "./auth.ts";
export { renderMarkdown } from "./markdown.ts";
export { ansiToHtml } from "./ansi_html.ts";

/** `$PYLON_HOME/dashboard_sessions.json`: hashed session ids (0600). */
export function dashboardSessionsFile(paths: PylonPaths): string {
  return join(paths.root, "dashboard_sessions.json");
}
