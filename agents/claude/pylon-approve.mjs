// pylon tool approval: Claude Code's PreToolUse hook (issue 14 §4).
//
// The daemon puts this file and its config (config.json, beside it) in /pylon/approval and a
// managed-settings file at /etc/claude-code/managed-settings.json that runs it before tool calls,
// all read-only to the agent: bind mounts with docker.mounts: host; root's files copied in before
// the container starts (the Engine's archive API) or Swarm secrets (uid 0, mode 0444) without
// host mounts. The agent can neither edit nor switch it off (non-managed settings cannot disable
// managed hooks), and `onFailure: "block"` makes a crashed or killed hook refuse the call. The
// config is read beside this file, never from a path in the environment (settings files the
// agent writes can set environment variables).
//
// For a call that matches an `agent.approve_tools` rule it sends a request and waits for the
// daemon's decision:
// - with host mounts: writes /pylon/tool-requests/<call id>.json (the one folder here the agent
//   can write) and waits for /pylon/approval/decisions/<call id>.json, which only the daemon
//   writes;
// - without (config.json has `channel`: the daemon's URL and the job id): POSTs the same request
//   to /agent/v1/jobs/<id>/tool-calls and long-polls GET …/tool-calls/<call id>?wait=25 (the
//   daemon answers 202 within a few seconds while the call waits) with the job's token, which
//   the init step gives the agent's environment as PYLON_AGENT_TOKEN.
//   Design note: the token is not a secret from the agent (the model gateway hands it over as
//   ANTHROPIC_API_KEY, and a Swarm task keeps its token file); with it the agent can only send
//   requests people see (capped like request files) and read decisions, never make one. A
//   token the agent swaps is refused (401), which denies. Network errors and 5xx (a daemon
//   restart) are retried for a minute, then the call is denied.
// It allows only when the decision names this call id AND the sha256 of the exact input JSON this
// process holds: a request the agent rewrote (to show `ls` while `git push` runs) gets a decision
// for another digest, and is denied. An allowed call is passed on to Claude Code's own permission
// rules (no "allow" is printed), so approval never widens `allowed_tools`. Everything else is a
// deny whose reason the agent reads.
//
// Matching mirrors src/config/permission_rule.ts (tests/tools/rules_test.ts runs both).

import { createHash, randomBytes } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The daemon's read-only folder: this file's own (see above). */
const APPROVAL_DIR = dirname(fileURLToPath(import.meta.url));
const REQUESTS_DIR = process.env.PYLON_TOOL_REQUESTS || "/pylon/tool-requests";
/** How long after approve_timeout the hook still waits for the daemon's own timeout decision. */
const GRACE_MS = 60_000;
const POLL_MS = 250;
/** The longest wait of one long poll over the channel (seconds). */
const LONG_POLL_S = 25;
/** How long the channel may fail (network errors, 5xx: a daemon restart) before the call is denied. */
const RETRY_MS = 60_000;

// ---- rules (the same as src/config/permission_rule.ts) ----

const RULE_REGEXP = /^([A-Za-z*][A-Za-z0-9_*-]*)(?:\((.*)\))?$/s;
const WRAPPERS = new Set(["sudo", "env", "exec", "nohup", "time", "command", "builtin", "nice"]);

/** @returns {{tool: string, spec: string | undefined} | null} */
function parseRule(text) {
  const m = RULE_REGEXP.exec(String(text).trim());
  return m ? { tool: m[1], spec: m[2]?.trim() } : null;
}

/** The first rule the call matches, or undefined. */
export function matchingRule(rules, tool, input) {
  return rules.find((rule) => {
    const parsed = parseRule(rule);
    return parsed !== null && ruleMatches(parsed, tool, input);
  });
}

function ruleMatches(rule, tool, input) {
  if (!toolNameMatches(rule.tool, tool)) return false;
  if (rule.spec === undefined || rule.spec === "*") return true;
  const fields = input && typeof input === "object" && !Array.isArray(input) ? input : {};
  if (tool === "Bash") {
    const command = typeof fields.command === "string" ? fields.command : "";
    return commandParts(command).some((part) => commandMatches(rule.spec, part));
  }
  if (tool === "WebFetch" && rule.spec.startsWith("domain:")) {
    const domain = rule.spec.slice("domain:".length).trim().toLowerCase();
    const host = hostOf(fields.url);
    return host === undefined || host === domain || host.endsWith("." + domain);
  }
  const path = fields.file_path ?? fields.notebook_path ?? fields.path;
  if (typeof path === "string") return pathMatches(rule.spec, path);
  return stringsOf(input).some((s) => globRegExp(rule.spec, false).test(s));
}

function toolNameMatches(pattern, tool) {
  if (pattern.includes("*")) return globRegExp(pattern, false).test(tool);
  if (pattern === tool) return true;
  return pattern.startsWith("mcp__") && !pattern.slice(5).includes("__") &&
    tool.startsWith(pattern + "__");
}

export function commandParts(command) {
  return command.split(/&&|\|\||[;|&\n\r`()]|\$\(/).map(normalizeCommand).filter((p) => p !== "");
}

function normalizeCommand(part) {
  const words = part.trim().split(/\s+/).filter((w) => w !== "");
  while (
    words.length > 0 && (WRAPPERS.has(words[0]) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]))
  ) {
    words.shift();
  }
  return words.join(" ");
}

function commandMatches(spec, command) {
  const prefix = spec.endsWith(":*") ? spec.slice(0, -2) : spec;
  const normalized = normalizeCommand(prefix);
  if (normalized.includes("*")) return globRegExp(normalized + "*", false).test(command);
  return command === normalized || command.startsWith(normalized + " ") ||
    (spec.endsWith(":*") && command.startsWith(normalized));
}

function pathMatches(spec, path) {
  const pattern = spec.replace(/^\.\//, "");
  const re = globRegExp(pattern, true);
  if (re.test(path)) return true;
  const relative = path.replace(/^\/workspace\//, "");
  return re.test(relative) ||
    (!pattern.startsWith("/") && globRegExp("**/" + pattern, true).test(relative));
}

function globRegExp(glob, path) {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      out += ".*";
      i++;
      if (glob[i + 1] === "/") i++;
    } else if (c === "*") out += path ? "[^/]*" : ".*";
    else out += c.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`, "s");
}

function hostOf(url) {
  if (typeof url !== "string") return undefined;
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function stringsOf(value, depth = 0) {
  if (typeof value === "string") return [value];
  if (depth > 8 || value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap((v) => stringsOf(v, depth + 1));
}

// ---- the hook ----

/** `10m`, `1h30m`, `45s` for a reason the agent reads. */
export function formatWait(ms) {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return [h ? `${h}h` : "", m ? `${m}m` : "", r || (!h && !m) ? `${r}s` : ""].join("");
}

function deny(reason) {
  process.stdout.write(
    JSON.stringify({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "deny",
        permissionDecisionReason: reason,
      },
    }) + "\n",
  );
}

function readStdin() {
  return readFileSync(0, "utf8");
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Allowed (nothing printed) or denied, from a decision about this call. */
function answer(decision, callId, digest) {
  if (decision.call_id !== callId || decision.digest !== digest) {
    deny("pylon: the decision was about another call; denied");
  } else if (decision.decision === "allow" || decision.decision === "allow_for_job") {
    // Passed on: Claude Code's own rules (allowed_tools, disallowed_tools) still hold.
  } else {
    deny(String(decision.reason || "denied"));
  }
}

async function hook() {
  const config = readJson(join(APPROVAL_DIR, "config.json"));
  if (!config || !Array.isArray(config.rules)) {
    deny("pylon tool approval is not configured for this job (config.json unreadable)");
    return;
  }
  const event = JSON.parse(readStdin());
  const tool = String(event.tool_name ?? "");
  const input = event.tool_input ?? {};
  const rule = matchingRule(config.rules, tool, input);
  if (rule === undefined) return; // not a call that waits: Claude Code decides as usual
  // The exact bytes held here are what the digest, and so the decision, is about.
  const inputJson = JSON.stringify(input);
  const digest = createHash("sha256").update(inputJson, "utf8").digest("hex");
  const callId = randomBytes(8).toString("hex").slice(0, 12);
  const request = {
    "call_id": callId,
    tool,
    "input_json": inputJson,
    digest,
    rule,
    "requested_at": new Date().toISOString(),
  };
  const timeoutMs = Number(config.timeout_ms) > 0 ? Number(config.timeout_ms) : 600_000;
  const until = Date.now() + timeoutMs + GRACE_MS;
  if (config.channel) {
    await overChannel(config.channel, request, until, timeoutMs);
    return;
  }
  const file = join(REQUESTS_DIR, `${callId}.json`);
  writeFileSync(file + ".tmp", JSON.stringify(request) + "\n");
  renameSync(file + ".tmp", file);
  const decisionFile = join(APPROVAL_DIR, "decisions", `${callId}.json`);
  try {
    while (Date.now() < until) {
      const decision = readJson(decisionFile);
      if (decision) {
        answer(decision, callId, digest);
        return;
      }
      await sleep(POLL_MS);
    }
    deny(`no answer within ${formatWait(timeoutMs)}; denied`);
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * The request and its decision over the job's channel (no host mounts). `channel` is
 * `{url, job}` from config.json; the token is the job's, from the environment.
 */
async function overChannel(channel, request, until, timeoutMs) {
  const token = process.env.PYLON_AGENT_TOKEN || "";
  if (typeof channel.url !== "string" || typeof channel.job !== "string" || token === "") {
    deny("pylon tool approval cannot reach the daemon (no channel URL or job token); denied");
    return;
  }
  const base = `${channel.url.replace(/\/+$/, "")}/agent/v1/jobs/${
    encodeURIComponent(channel.job)
  }/tool-calls`;
  const headers = { authorization: `Bearer ${token}` };
  let failingSince;
  /** One request; null after a network error or 5xx (retried until RETRY_MS of failures). */
  const send = async (url, init, ms) => {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
      if (res.status < 500) {
        failingSince = undefined;
        return res;
      }
      await res.body?.cancel();
    } catch {
      // The daemon restarts, or the network hiccups: retried below.
    }
    failingSince ??= Date.now();
    return null;
  };
  const gaveUp = () => failingSince !== undefined && Date.now() - failingSince > RETRY_MS;
  for (let attempt = 0;; attempt++) {
    const res = await send(base, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(request),
    }, 30_000);
    if (res && res.ok) {
      await res.body?.cancel();
      break;
    }
    if (res) {
      deny(
        `pylon refused the approval request (HTTP ${res.status}: ${await reasonOf(res)}); denied`,
      );
      return;
    }
    if (gaveUp() || Date.now() >= until) {
      deny("pylon tool approval cannot reach the daemon; denied");
      return;
    }
    await sleep(Math.min(250 * 2 ** attempt, 5000));
  }
  const url = `${base}/${request.call_id}`;
  for (let attempt = 0; Date.now() < until;) {
    const wait = Math.max(0, Math.min(LONG_POLL_S, Math.ceil((until - Date.now()) / 1000)));
    const res = await send(`${url}?wait=${wait}`, { headers }, (wait + 15) * 1000);
    if (res && res.status === 200) {
      answer(await res.json(), request.call_id, request.digest);
      return;
    }
    if (res && res.status === 202) {
      await res.body?.cancel();
      attempt = 0;
      if (wait === 0) await sleep(POLL_MS);
      continue;
    }
    if (res) {
      deny(`pylon tool approval failed (HTTP ${res.status}: ${await reasonOf(res)}); denied`);
      return;
    }
    if (gaveUp()) {
      deny("pylon tool approval lost the daemon while waiting; denied");
      return;
    }
    await sleep(Math.min(250 * 2 ** attempt++, 5000));
  }
  deny(`no answer within ${formatWait(timeoutMs)}; denied`);
}

async function reasonOf(res) {
  const text = (await res.text().catch(() => "")).slice(0, 300);
  try {
    return String(JSON.parse(text).error ?? text);
  } catch {
    return text;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  hook().catch((e) => {
    deny(`pylon tool approval failed (${e instanceof Error ? e.message : String(e)}); denied`);
  });
}
