/**
 * The security rows of `pylon doctor` for one pylon: a webhook anyone can trigger (unsigned and
 * reachable from other machines) spends the operator's agent key on every request, so it is a
 * WARN; a signed one says how.
 *
 * @module
 */

import type { GlobalConfig, ResolvedPylon } from "../../config/mod.ts";
import { unsignedExposure } from "../../daemon/mod.ts";
import type { Check } from "./checks.ts";

/** Whether a webhook pylon is signed; WARN when it is not and others can reach it. */
export function signatureCheck(
  pylon: ResolvedPylon,
  global: GlobalConfig,
  host: string,
): Check | null {
  const t = pylon.config.trigger;
  if (t.type !== "webhook") return null;
  const label = `${pylon.name} signature`;
  if (t.secret) {
    return { section: "", label, status: "ok", detail: `signed (${t.signature_header})` };
  }
  const why = unsignedExposure(pylon.config, global, host);
  if (!why) return { section: "", label, status: "--", detail: "unsigned, this machine only" };
  return {
    section: "",
    label,
    status: "WARN",
    detail: `${why}: anyone who reaches ${t.path} runs the agent on your agent key`,
    hint: `set trigger.secret and trigger.signature_header (\`pylon edit ${pylon.name}\`), or ` +
      "listen on 127.0.0.1 (server.host)",
  };
}
