// pylon tool approval (issue 14 §4): Claude Code's PreToolUse hook when run as a script, and the
// exchange OpenCode's plugin (agents/opencode/pylon-approve-opencode.mjs) imports ({@link decide}).
// One file for both (agents/_shared/), so the rules and the exchange exist once in the images.
//
// The daemon puts this file and its config (config.json, beside it) in /pylon/approval, all
// read-only to the agent, plus what makes the agent's CLI run it: for Claude Code a
// managed-settings file at /etc/claude-code/managed-settings.json that runs it before tool calls;
// for OpenCode the managed config /etc/opencode/opencode.json naming the plugin beside this file.
// Bind mounts with docker.mounts: host; root's files copied in before the container starts (the
// Engine's archive API) or Swarm secrets (uid 0, mode 0444) without host mounts. The agent can
// neither edit nor switch it off (non-managed settings cannot disable managed hooks or plugins),
// and for Claude `onFailure: "block"` makes a crashed or killed hook refuse the call (OpenCode
// refuses a call whose plugin hook throws). The config is read beside this file, never from a
// path in the environment (settings files the agent writes can set environment variables).
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

// ---- OpenCode's calls in Claude Code's terms ----

/** OpenCode 1.18's built-in tools → Claude Code's names (src/config/opencode_settings.ts). */
const OPENCODE_TOOL_NAMES = {
  bash: "Bash",
  read: "Read",
  write: "Write",
  edit: "Edit",
  multiedit: "MultiEdit",
  patch: "Edit",
  glob: "Glob",
  grep: "Grep",
  list: "LS",
  webfetch: "WebFetch",
  websearch: "WebSearch",
  todowrite: "TodoWrite",
  todoread: "TodoRead",
  task: "Task",
  skill: "Skill",
};

/** The server names of the job's MCP file (read-only), longest first; none without one. */
function mcpServerNames(file = "/pylon/mcp.json") {
  const mcp = readJson(file)?.mcp;
  const names = mcp && typeof mcp === "object" ? Object.keys(mcp) : [];
  return names.sort((a, b) => b.length - a.length);
}

/**
 * An OpenCode tool call as Claude Code would name and shape it, so `approve_tools` rules match
 * the same way: `bash` → `Bash` with `command`, a built-in's camelCase fields in snake_case
 * (`filePath` → `file_path`), an MCP tool `<server>_<tool>` → `mcp__<server>__<tool>` (its
 * arguments as they are). A copy: the call's own arguments are not changed.
 * @param {string} tool
 * @param {unknown} args
 * @param {string[]} [servers] the MCP servers' names (default: the job's MCP file)
 * @returns {{tool: string, input: Record<string, unknown>}}
 */
export function claudeCallOf(tool, args, servers = undefined) {
  const fields = args && typeof args === "object" && !Array.isArray(args) ? args : {};
  const builtin = OPENCODE_TOOL_NAMES[tool];
  if (builtin !== undefined) {
    const input = {};
    for (const [key, value] of Object.entries(fields)) {
      input[key.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase())] = value;
    }
    return { tool: builtin, input: JSON.parse(JSON.stringify(input)) };
  }
  const copy = JSON.parse(JSON.stringify(fields));
  const server = (servers ?? mcpServerNames()).find((s) =>
    tool.startsWith(s.replace(/[^A-Za-z0-9_-]/g, "_") + "_")
  );
  if (server !== undefined) {
    const name = tool.slice(server.replace(/[^A-Za-z0-9_-]/g, "_").length + 1);
    return { tool: `mcp__${server}__${name}`, input: copy };
  }
  return { tool, input: copy };
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

/**
 * What a decision about this call says: allowed only when it names this call id and the digest
 * of the input held here.
 * @returns {{allow: true} | {allow: false, reason: string}}
 */
function answer(decision, callId, digest) {
  if (decision.call_id !== callId || decision.digest !== digest) {
    return refused("pylon: the decision was about another call; denied");
  } else if (decision.decision === "allow" || decision.decision === "allow_for_job") {
    // Passed on: the CLI's own rules (allowed_tools, disallowed_tools) still hold.
    return { allow: true };
  }
  return refused(String(decision.reason || "denied"));
}

/** @returns {{allow: false, reason: string}} */
const refused = (reason) => ({ allow: false, reason });

/**
 * Asks the daemon about a call of `tool` (Claude Code's name) with `input` (Claude Code's shape)
 * and waits for its decision. Undefined when no `approve_tools` rule matches (the call does not
 * wait); else whether it may run and, if not, the reason the agent is told. Never throws.
 * @param {string} tool
 * @param {unknown} input
 * @returns {Promise<{allow: true} | {allow: false, reason: string} | undefined>}
 */
export async function decide(tool, input) {
  try {
    return await decideOrThrow(tool, input ?? {});
  } catch (e) {
    return refused(
      `pylon tool approval failed (${e instanceof Error ? e.message : String(e)}); denied`,
    );
  }
}

async function decideOrThrow(tool, input) {
  const config = readJson(join(APPROVAL_DIR, "config.json"));
  if (!config || !Array.isArray(config.rules)) {
    return refused("pylon tool approval is not configured for this job (config.json unreadable)");
  }
  const rule = matchingRule(config.rules, tool, input);
  if (rule === undefined) return undefined; // not a call that waits: the CLI decides as usual
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
  if (config.channel) return await overChannel(config.channel, request, until, timeoutMs);
  const file = join(REQUESTS_DIR, `${callId}.json`);
  writeFileSync(file + ".tmp", JSON.stringify(request) + "\n");
  renameSync(file + ".tmp", file);
  const decisionFile = join(APPROVAL_DIR, "decisions", `${callId}.json`);
  try {
    while (Date.now() < until) {
      const decision = readJson(decisionFile);
      if (decision) return answer(decision, callId, digest);
      await sleep(POLL_MS);
    }
    return refused(`no answer within ${formatWait(timeoutMs)}; denied`);
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
    return refused(
      "pylon tool approval cannot reach the daemon (no channel URL or job token); denied",
    );
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
      return refused(
        `pylon refused the approval request (HTTP ${res.status}: ${await reasonOf(res)}); denied`,
      );
    }
    if (gaveUp() || Date.now() >= until) {
      return refused("pylon tool approval cannot reach the daemon; denied");
    }
    await sleep(Math.min(250 * 2 ** attempt, 5000));
  }
  const url = `${base}/${request.call_id}`;
  for (let attempt = 0; Date.now() < until;) {
    const wait = Math.max(0, Math.min(LONG_POLL_S, Math.ceil((until - Date.now()) / 1000)));
    const res = await send(`${url}?wait=${wait}`, { headers }, (wait + 15) * 1000);
    if (res && res.status === 200) return answer(await res.json(), request.call_id, request.digest);
    if (res && res.status === 202) {
      await res.body?.cancel();
      attempt = 0;
      if (wait === 0) await sleep(POLL_MS);
      continue;
    }
    if (res) {
      return refused(
        `pylon tool approval failed (HTTP ${res.status}: ${await reasonOf(res)}); denied`,
      );
    }
    if (gaveUp()) return refused("pylon tool approval lost the daemon while waiting; denied");
    await sleep(Math.min(250 * 2 ** attempt++, 5000));
  }
  return refused(`no answer within ${formatWait(timeoutMs)}; denied`);
}

async function reasonOf(res) {
  const text = (await res.text().catch(() => "")).slice(0, 300);
  try {
    return String(JSON.parse(text).error ?? text);
  } catch {
    return text;
  }
}

/** Claude Code's PreToolUse hook: the event on stdin; a deny printed, an allow passed on. */
async function hook() {
  let event;
  try {
    event = JSON.parse(readStdin());
  } catch (e) {
    deny(`pylon tool approval failed (${e instanceof Error ? e.message : String(e)}); denied`);
    return;
  }
  const decision = await decide(String(event.tool_name ?? ""), event.tool_input ?? {});
  if (decision && !decision.allow) deny(decision.reason);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await hook();
}
