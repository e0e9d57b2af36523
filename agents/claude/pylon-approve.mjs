// pylon tool approval: Claude Code's PreToolUse hook (issue 14 §4).
//
// The daemon mounts this file, its config and the decisions folder read-only at /pylon/approval,
// and a managed-settings file (/etc/claude-code/managed-settings.json, read-only) that runs it
// before tool calls: the agent can neither edit nor switch it off (non-managed settings cannot
// disable managed hooks), and `onFailure: "block"` makes a crashed or killed hook refuse the call.
//
// For a call that matches an `agent.approve_tools` rule it writes a request into
// /pylon/tool-requests/<call id>.json (the one folder here the agent can write), then waits for
// /pylon/approval/decisions/<call id>.json, which only the daemon writes. It allows only when the
// decision names this call id AND the sha256 of the exact input JSON this process holds: a
// request file the agent rewrote (to show `ls` while `git push` runs) gets a decision for another
// digest, and is denied. An allowed call is passed on to Claude Code's own permission rules (no
// "allow" is printed), so approval never widens `allowed_tools`. Everything else is a deny whose
// reason the agent reads.
//
// Matching mirrors src/config/permission_rule.ts (tests/tools/rules_test.ts runs both).

import { createHash, randomBytes } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const APPROVAL_DIR = process.env.PYLON_APPROVAL_DIR || "/pylon/approval";
const REQUESTS_DIR = process.env.PYLON_TOOL_REQUESTS || "/pylon/tool-requests";
/** How long after approve_timeout the hook still waits for the daemon's own timeout decision. */
const GRACE_MS = 60_000;
const POLL_MS = 250;

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
  const file = join(REQUESTS_DIR, `${callId}.json`);
  writeFileSync(file + ".tmp", JSON.stringify(request) + "\n");
  renameSync(file + ".tmp", file);
  const timeoutMs = Number(config.timeout_ms) > 0 ? Number(config.timeout_ms) : 600_000;
  const until = Date.now() + timeoutMs + GRACE_MS;
  const decisionFile = join(APPROVAL_DIR, "decisions", `${callId}.json`);
  try {
    while (Date.now() < until) {
      const decision = readJson(decisionFile);
      if (decision) {
        if (decision.call_id !== callId || decision.digest !== digest) {
          deny("pylon: the decision was about another call; denied");
        } else if (decision.decision === "allow" || decision.decision === "allow_for_job") {
          // Passed on: Claude Code's own rules (allowed_tools, disallowed_tools) still hold.
        } else {
          deny(String(decision.reason || "denied"));
        }
        return;
      }
      await sleep(POLL_MS);
    }
    deny(`no answer within ${formatWait(timeoutMs)}; denied`);
  } finally {
    rmSync(file, { force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  hook().catch((e) => {
    deny(`pylon tool approval failed (${e instanceof Error ? e.message : String(e)}); denied`);
  });
}
