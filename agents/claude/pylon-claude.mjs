// pylon's helper inside the Claude Code agent image (/usr/local/lib/pylon/pylon-claude.mjs).
// Every JSON document it reads or writes goes through JSON.parse / JSON.stringify, never through
// string concatenation in shell.
//
//   node pylon-claude.mjs settings <file>       merge pylon's tool hooks into a settings.json
//   node pylon-claude.mjs hook                  (the hook) stdin event -> a line of events.ndjson
//   node pylon-claude.mjs run -- claude <args>  run the CLI with the prompt on stdin, map its
//                                               JSON to result.json, exit with the job's status
//   node pylon-claude.mjs fail <code> <message> write a failed result.json, exit with <code>
//
// Output contract (pylon runner): $PYLON_OUT/result.json =
//   {"status":"completed"|"failed","result":"…","session_id":"…","error":"…",
//    "cost_usd":0.42,"usage":{"input_tokens":…,"output_tokens":…,"cache_read_input_tokens":…,
//    "cache_creation_input_tokens":…},"num_turns":18,"duration_api_ms":…,"models":["…"]}
// (the usage fields only when the CLI reported them)
// and $PYLON_OUT/events.ndjson, one {"tool":"…","summary":"…"} per line.

import { spawn } from "node:child_process";
import { appendFileSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";

/**
 * Longest summary written to events.ndjson: only a bound on the file, never the length shown.
 * The daemon redacts the whole summary first and then cuts it to what it displays, so a secret
 * is never split into a fragment no redactor recognises (issue 12). 8 Ki characters keep a line
 * under the 64 KiB the daemon reads as one, even when every character is JSON-escaped.
 */
export const SUMMARY_MAX = 8 * 1024;
/** Longest error text taken from the CLI's output. */
export const ERROR_MAX = 4000;

/** Input keys that describe a call best, in order of preference. */
const SUMMARY_KEYS = [
  "command",
  "file_path",
  "notebook_path",
  "pattern",
  "path",
  "url",
  "query",
  "description",
  "prompt",
];

/** One line of a summary: whitespace collapsed, bounded by SUMMARY_MAX characters. */
export function oneLine(text, max = SUMMARY_MAX) {
  const flat = String(text).replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

/** Short human description of a tool call's input. */
export function summarizeInput(input) {
  if (input === null || typeof input !== "object") return input === undefined ? "" : oneLine(input);
  for (const key of SUMMARY_KEYS) {
    const value = input[key];
    if (typeof value === "string" && value.trim() !== "") return oneLine(value);
  }
  if (Array.isArray(input.todos)) return `${input.todos.length} todos`;
  const json = JSON.stringify(input);
  return json === "{}" ? "" : oneLine(json);
}

/** Hook events pylon listens to: a tool call that ended, successfully or not. */
export const HOOK_EVENTS = ["PostToolUse", "PostToolUseFailure"];

/** Maps a Claude Code PostToolUse(Failure) hook payload to pylon's tool event, or null. */
export function toolEvent(hookInput) {
  if (!hookInput || typeof hookInput !== "object" || typeof hookInput.tool_name !== "string") {
    return null;
  }
  const summary = summarizeInput(hookInput.tool_input);
  const failed = hookInput.hook_event_name === "PostToolUseFailure";
  return { tool: hookInput.tool_name, summary: failed ? `${summary} (failed)`.trim() : summary };
}

/** `settings` with pylon's hooks set (other settings and hooks are kept). */
export function mergeSettings(settings, hookCommand) {
  const base = settings && typeof settings === "object" && !Array.isArray(settings) ? settings : {};
  const hooks = base.hooks && typeof base.hooks === "object" ? { ...base.hooks } : {};
  const isOurs = (entry) =>
    Array.isArray(entry?.hooks) && entry.hooks.some((h) => h?.command === hookCommand);
  for (const event of HOOK_EVENTS) {
    const others = Array.isArray(hooks[event]) ? hooks[event].filter((e) => !isOurs(e)) : [];
    hooks[event] = [...others, {
      matcher: "*",
      hooks: [{ type: "command", command: hookCommand }],
    }];
  }
  return { ...base, hooks };
}

/** Finds Claude's `--output-format json` result object in its stdout. */
export function parseClaudeOutput(stdout) {
  const text = stdout.trim();
  if (text === "") return null;
  const candidates = [text, ...text.split("\n").reverse()];
  for (const candidate of candidates) {
    try {
      const value = JSON.parse(candidate);
      if (value && typeof value === "object" && !Array.isArray(value)) {
        if (candidate === text || value.type === "result") return value;
      }
    } catch {
      // not this one
    }
  }
  return null;
}

/** `value` when it is a finite number of at least 0, else undefined. */
function count(value) {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The token kinds of result.json's `usage`, with their names in Claude Code's `modelUsage`. */
const TOKEN_KINDS = [
  ["input_tokens", "inputTokens"],
  ["output_tokens", "outputTokens"],
  ["cache_read_input_tokens", "cacheReadInputTokens"],
  ["cache_creation_input_tokens", "cacheCreationInputTokens"],
];

/**
 * What the run cost and used, from Claude Code's JSON result: `total_cost_usd`, the tokens (summed
 * over `modelUsage`, which covers every model the CLI called, else its `usage`), `num_turns`,
 * `duration_api_ms` and the models. Only the fields the CLI reported are set.
 * @returns {Record<string, unknown>}
 */
export function claudeUsage(parsed) {
  /** @type {Record<string, unknown>} */
  const out = {};
  const cost = count(parsed.total_cost_usd);
  if (cost !== undefined) out.cost_usd = cost;
  const perModel = parsed.modelUsage && typeof parsed.modelUsage === "object" &&
      !Array.isArray(parsed.modelUsage)
    ? Object.entries(parsed.modelUsage).filter(([, u]) => u && typeof u === "object")
    : [];
  /** @type {Record<string, number>} */
  const usage = {};
  if (perModel.length > 0) {
    for (const [kind, camel] of TOKEN_KINDS) {
      usage[kind] = perModel.reduce((sum, [, u]) => sum + (count(u[camel]) ?? 0), 0);
    }
  } else if (parsed.usage && typeof parsed.usage === "object") {
    for (const [kind] of TOKEN_KINDS) {
      const n = count(parsed.usage[kind]);
      if (n !== undefined) usage[kind] = n;
    }
  }
  if (Object.keys(usage).length > 0) out.usage = usage;
  const turns = count(parsed.num_turns);
  if (turns !== undefined) out.num_turns = turns;
  const apiMs = count(parsed.duration_api_ms);
  if (apiMs !== undefined) out.duration_api_ms = apiMs;
  const models = perModel.map(([name]) => name);
  if (models.length > 0) out.models = models;
  return out;
}

/**
 * The prompt: the file `PROMPT_FILE` names (always complete), else `PROMPT` (absent when the
 * prompt is longer than one environment variable may be, 128 KiB).
 */
export function readPrompt(env = process.env) {
  if (env.PROMPT_FILE) {
    try {
      return readFileSync(env.PROMPT_FILE, "utf8");
    } catch {
      // unreadable: fall back to PROMPT
    }
  }
  return env.PROMPT ?? "";
}

/** The last `max` characters of `text`, trimmed. */
export function tail(text, max = ERROR_MAX) {
  const t = String(text).trim();
  return t.length > max ? "…" + t.slice(-max) : t;
}

/**
 * The reason a run stopped at a cap (`--max-budget-usd`, `--max-turns`), or "" when it did not:
 * "budget of $0.50 reached after 7 turns". `args`: the CLI's arguments, which hold the cap.
 * @param {Record<string, unknown>} parsed
 * @param {readonly string[]} args
 */
export function capReason(parsed, args = []) {
  const turns = typeof parsed.num_turns === "number" ? parsed.num_turns : null;
  const after = turns === null ? "" : ` after ${turns} turn${turns === 1 ? "" : "s"}`;
  const argOf = (flag) => {
    const i = args.indexOf(flag);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
  };
  if (parsed.subtype === "error_max_budget_usd") {
    const cap = Number(argOf("--max-budget-usd"));
    return `budget of ${Number.isFinite(cap) ? "$" + cap.toFixed(2) : "the job"} reached${after}`;
  }
  if (parsed.subtype === "error_max_turns") {
    const cap = argOf("--max-turns");
    return `turn limit${cap ? " of " + cap : ""} reached${after}`;
  }
  return "";
}

/**
 * Decides result.json and the exit code from how the CLI ended. A run stopped by a cap keeps
 * its partial result and says which cap stopped it.
 * @param {{stdout: string, stderr: string, code: number, signal?: string | null}} run
 * @param {readonly string[]} [args] the CLI's arguments (for the caps' values)
 * @returns {{result: Record<string, unknown>, exitCode: number}}
 */
export function claudeResult(run, args = []) {
  const parsed = parseClaudeOutput(run.stdout);
  const died = run.signal ? `claude was stopped by ${run.signal}` : "";
  if (!parsed) {
    const error = tail(run.stderr) || tail(run.stdout) || died ||
      `claude exited with code ${run.code} without output`;
    return { result: { status: "failed", result: "", error }, exitCode: run.code || 1 };
  }
  const text = typeof parsed.result === "string" ? parsed.result : "";
  const sessionId = typeof parsed.session_id === "string" ? parsed.session_id : "";
  const capped = capReason(parsed, args);
  const failed = Boolean(capped) || parsed.is_error === true || run.code !== 0 ||
    Boolean(run.signal);
  const result = { status: failed ? "failed" : "completed", result: text };
  if (sessionId) result.session_id = sessionId;
  Object.assign(result, claudeUsage(parsed));
  if (failed) {
    const errors = Array.isArray(parsed.errors) ? parsed.errors.map(String).join("; ") : "";
    result.error = capped || tail(text) || errors || tail(run.stderr) || died ||
      (typeof parsed.subtype === "string" && parsed.subtype !== "success"
        ? `claude ended with ${parsed.subtype}`
        : `claude exited with code ${run.code}`);
  }
  return { result, exitCode: failed ? run.code || 1 : 0 };
}

function outDir() {
  return process.env.PYLON_OUT || "/pylon/out";
}

/** Writes result.json atomically (a reader never sees half a file). */
export function writeResult(dir, result) {
  const file = join(dir, "result.json");
  writeFileSync(file + ".tmp", JSON.stringify(result) + "\n");
  renameSync(file + ".tmp", file);
}

function readStdin() {
  try {
    return readFileSync(0, "utf8");
  } catch {
    return "";
  }
}

function runCli(argv) {
  const [cmd, ...args] = argv;
  if (!cmd) {
    writeResult(outDir(), { status: "failed", result: "", error: "pylon-claude: nothing to run" });
    process.exit(2);
  }
  // The prompt goes in on stdin: as an argument it could be read as an option ("--…"), and
  // OpenCode quotes message arguments that contain spaces.
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.on("error", () => {}); // a CLI that exits without reading its input
  child.stdin.end(readPrompt());
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk) => {
    process.stderr.write(chunk);
    stderr = (stderr + chunk).slice(-4 * ERROR_MAX);
  });
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) {
    process.on(sig, () => child.kill(sig));
  }
  child.on("error", (e) => {
    writeResult(outDir(), {
      status: "failed",
      result: "",
      error: `Cannot start ${cmd}: ${e.message}`,
    });
    process.exit(127);
  });
  child.on("close", (code, signal) => {
    if (stdout.trim() !== "") process.stdout.write(stdout.endsWith("\n") ? stdout : stdout + "\n");
    const { result, exitCode } = claudeResult({ stdout, stderr, code: code ?? 1, signal }, args);
    writeResult(outDir(), result);
    process.exit(exitCode);
  });
}

function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case "settings": {
      const file = rest[0];
      let current = {};
      try {
        current = JSON.parse(readFileSync(file, "utf8"));
      } catch {
        current = {};
      }
      const hook = `node ${JSON.stringify(new URL(import.meta.url).pathname)} hook`;
      writeFileSync(file, JSON.stringify(mergeSettings(current, hook), null, 2) + "\n");
      return;
    }
    case "hook": {
      // A hook must never disturb the agent: every failure is swallowed, the exit code is 0.
      try {
        const event = toolEvent(JSON.parse(readStdin()));
        if (event) appendFileSync(join(outDir(), "events.ndjson"), JSON.stringify(event) + "\n");
      } catch {
        // ignore
      }
      return;
    }
    case "run":
      return runCli(rest[0] === "--" ? rest.slice(1) : rest);
    case "fail":
      writeResult(outDir(), { status: "failed", result: "", error: rest.slice(1).join(" ") });
      process.exit(Number(rest[0]) || 1);
      return;
    default:
      process.stderr.write(`pylon-claude: unknown command ${JSON.stringify(command ?? "")}\n`);
      process.exit(2);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2));
}
