/**
 * The security rows of `pylon doctor`: a webhook anyone can trigger (unsigned and reachable from
 * other machines) spends the operator's agent key on every request, so it is a WARN; a signed
 * one says how. The web dashboard served over plain http to other machines is a WARN too: its
 * login link and session cookie cross the network in clear.
 *
 * @module
 */

import type { GlobalConfig, ResolvedPylon } from "../../config/mod.ts";
import { isLoopbackHost, unsignedExposure } from "../../daemon/mod.ts";
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

/**
 * Whether the web dashboard is served safely: WARN when it is on, the daemon listens on a
 * non-loopback address, and no https `server.public_url` says a TLS proxy fronts it. `host` is
 * the address the daemon listens on.
 */
export function dashboardCheck(global: GlobalConfig, host: string): Check {
  const label = "Web dashboard";
  const section = "Daemon";
  if (!global.server.dashboard) {
    return { section, label, status: "--", detail: "off (server.dashboard: false)" };
  }
  const publicUrl = global.server.public_url;
  if (publicUrl?.toLowerCase().startsWith("https://")) {
    return { section, label, status: "ok", detail: `on, behind ${publicUrl}` };
  }
  if (isLoopbackHost(host)) {
    return { section, label, status: "ok", detail: `on, this machine only (${host})` };
  }
  return {
    section,
    label,
    status: "WARN",
    detail: `on, over plain http on ${host}: its login link and session cookie cross the ` +
      "network unencrypted",
    hint: "put a TLS proxy in front and set server.public_url to its https:// URL, listen on " +
      "127.0.0.1 (server.host), or turn the dashboard off (server.dashboard: false)",
  };
}

/**
 * WARN when a webhook pylon that strangers can reach (a `server.public_url`, or a daemon
 * listening beyond loopback) leaves its agent on `agent.egress: any`: a prompt-injected agent
 * can then send what it reads anywhere (issue 19). `--` with a list, or for a pylon only this
 * machine can trigger.
 */
export function egressCheck(
  pylon: ResolvedPylon,
  global: GlobalConfig,
  host: string,
): Check | null {
  if (pylon.config.trigger.type !== "webhook") return null;
  const label = `${pylon.name} egress`;
  const egress = pylon.agent.settings.egress ?? "any";
  if (egress !== "any") {
    return { section: "", label, status: "ok", detail: `only ${egress.join(", ")}` };
  }
  const exposed = global.server.public_url
    ? `webhooks come from the internet (server.public_url)`
    : isLoopbackHost(host)
    ? null
    : `the daemon listens on ${host}`;
  if (!exposed) return { section: "", label, status: "--", detail: "any host (agent.egress: any)" };
  return {
    section: "",
    label,
    status: "WARN",
    detail: `${exposed} and the agent may reach any host: an injected prompt can send out ` +
      "what it reads",
    hint: `list the hosts it needs in agent.egress, e.g. \`egress: [default]\` ` +
      `(\`pylon edit ${pylon.name}\`)`,
  };
}
