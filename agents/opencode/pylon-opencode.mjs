// pylon's helper inside the OpenCode agent image (/usr/local/lib/pylon/pylon-opencode.mjs).
// Every JSON document it reads or writes goes through JSON.parse / JSON.stringify, never through
// string concatenation in shell.
//
//   node pylon-opencode.mjs run -- opencode run --format json …   run the CLI with the prompt on
//        stdin, turn its JSON events into events.ndjson lines (as they happen) and result.json; exit with the job's
//        status. With /pylon/mcp.json (agent.mcp_servers as OpenCode's {"mcp": …}, secrets
//        expanded, mounted read-only 0600), its servers go to the CLI in OPENCODE_CONFIG_CONTENT,
//        set for that one process only (never in the container's environment that docker
//        inspect shows), the config layer OpenCode applies over the workspace's opencode.json
//   node pylon-opencode.mjs config <file>       write the job's opencode.json (provider choice;
//        with PYLON_APPEND_SYSTEM_PROMPT, that text in pylon-instructions.md beside it, named in
//        `instructions`, which OpenCode adds to the system prompt: agent.append_system_prompt)
//   node pylon-opencode.mjs fail <code> <message>   write a failed result.json, exit with <code>
//
// Output contract (pylon runner): $PYLON_OUT/result.json =
//   {"status":"completed"|"failed","result":"…","session_id":"…","error":"…",
//    "cost_usd":0.42,"usage":{"input_tokens":…,"output_tokens":…,"cache_read_input_tokens":…,
//    "cache_creation_input_tokens":…},"num_turns":3}
// (cost and usage summed over OpenCode's `step_finish` events, only when it reported them)
// and $PYLON_OUT/events.ndjson, one {"tool":"…","summary":"…"} per line.

import { spawn } from "node:child_process";
import { appendFileSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
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

const SUMMARY_KEYS = [
  "command",
  "filePath",
  "file_path",
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
 * Collects what `opencode run --format json` reports, one JSON event per line:
 * `text` parts (the answer), `tool_use` parts (tool events), `error` events, the session id.
 */
export class EventCollector {
  sessionId = "";
  /** @type {{messageId: string, text: string}[]} */
  texts = [];
  /** @type {string[]} */
  errors = [];
  /** Steps (model turns) that reported their cost or tokens, and their sums. */
  steps = 0;
  cost = 0;
  hasCost = false;
  tokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

  /**
   * Takes one line of output; returns the tool event it carried, if any.
   * @returns {{tool: string, summary: string} | null}
   */
  add(line) {
    let event;
    try {
      event = JSON.parse(line);
    } catch {
      return null;
    }
    if (!event || typeof event !== "object") return null;
    const part = event.part && typeof event.part === "object" ? event.part : {};
    const sid = event.sessionID ?? part.sessionID;
    if (!this.sessionId && typeof sid === "string") this.sessionId = sid;
    if (event.type === "text" && typeof part.text === "string") {
      this.texts.push({ messageId: String(part.messageID ?? ""), text: part.text });
    } else if (event.type === "error") {
      const err = event.error ?? {};
      const message = err.data?.message ?? err.message ?? err.name ?? JSON.stringify(err);
      this.errors.push(String(message));
    } else if (event.type === "step_finish") {
      this.#addStep(part);
    } else if (event.type === "tool_use" && typeof part.tool === "string") {
      const state = part.state ?? {};
      const title = typeof state.title === "string" && state.title.trim()
        ? oneLine(state.title)
        : "";
      return { tool: part.tool, summary: title || summarizeInput(state.input) };
    }
    return null;
  }

  /** Adds a `step-finish` part's `cost` and `tokens` ({input, output, reasoning, cache}). */
  #addStep(part) {
    const n = (v) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);
    const t = part.tokens && typeof part.tokens === "object" ? part.tokens : null;
    const hasCost = typeof part.cost === "number" && Number.isFinite(part.cost) && part.cost >= 0;
    if (!t && !hasCost) return;
    this.steps++;
    if (hasCost) {
      this.hasCost = true;
      this.cost += part.cost;
    }
    if (t) {
      const cache = t.cache && typeof t.cache === "object" ? t.cache : {};
      this.tokens.input += n(t.input);
      // Reasoning tokens are billed as output.
      this.tokens.output += n(t.output) + n(t.reasoning);
      this.tokens.cacheRead += n(cache.read);
      this.tokens.cacheWrite += n(cache.write);
    }
  }

  /**
   * The usage fields of result.json (none when OpenCode reported no step's cost or tokens).
   * @returns {Record<string, unknown>}
   */
  usage() {
    if (this.steps === 0) return {};
    /** @type {Record<string, unknown>} */
    const out = {};
    if (this.hasCost) out.cost_usd = this.cost;
    out.usage = {
      input_tokens: this.tokens.input,
      output_tokens: this.tokens.output,
      cache_read_input_tokens: this.tokens.cacheRead,
      cache_creation_input_tokens: this.tokens.cacheWrite,
    };
    out.num_turns = this.steps;
    return out;
  }

  /** The answer: the text parts of the last message that had text. */
  answer() {
    const last = this.texts.at(-1);
    if (!last) return "";
    return this.texts.filter((t) => t.messageId === last.messageId).map((t) => t.text).join("\n\n")
      .trim();
  }

  /**
   * Decides result.json and the exit code from how the CLI ended.
   * @returns {{result: Record<string, unknown>, exitCode: number}}
   */
  finish(run) {
    const failed = run.code !== 0 || Boolean(run.signal) || this.errors.length > 0;
    const result = { status: failed ? "failed" : "completed", result: this.answer() };
    if (this.sessionId) result.session_id = this.sessionId;
    Object.assign(result, this.usage());
    if (failed) {
      result.error = tail(this.errors.join("\n")) || tail(stripAnsi(run.stderr ?? "")) ||
        (run.signal
          ? `opencode was stopped by ${run.signal}`
          : `opencode exited with code ${run.code}`);
    }
    return { result, exitCode: failed ? run.code || 1 : 0 };
  }
}

/** Removes terminal colour codes (OpenCode colours its error lines). */
export function stripAnsi(text) {
  // deno-lint-ignore no-control-regex
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
}

/**
 * The job's global opencode.json: only `provider` is offered when one is chosen. Behind pylon's
 * model API gateway (issue 19: `ANTHROPIC_BASE_URL` is the gateway's URL of this job and
 * `ANTHROPIC_API_KEY` the job's token, never the real key), the anthropic provider's base URL is
 * the gateway's plus `/v1` (OpenCode's Anthropic SDK appends `/messages`); the key is read from
 * the environment (`{env:…}`), so no file holds even the job's token. `instructionsFile`: the
 * file holding agent.append_system_prompt, when there is one.
 * @param {string} provider
 * @param {Record<string, string | undefined>} [env]
 * @param {string | undefined} [instructionsFile]
 * @returns {Record<string, unknown>}
 */
export function jobConfig(provider, env = process.env, instructionsFile = undefined) {
  /** @type {Record<string, unknown>} */
  const config = {
    $schema: "https://opencode.ai/config.json",
    autoupdate: false,
    share: "disabled",
  };
  if (provider) config.enabled_providers = [provider];
  if (instructionsFile) config.instructions = [instructionsFile];
  const base = (env.ANTHROPIC_BASE_URL || "").replace(/\/+$/, "");
  if (provider === "anthropic" && base) {
    config.provider = {
      anthropic: {
        options: { baseURL: `${base}/v1`, apiKey: "{env:ANTHROPIC_API_KEY}" },
      },
    };
  }
  return config;
}

/** Where the runner puts the job's MCP config (src/runner/agent_args.ts MCP_CONFIG_PATH). */
export const MCP_CONFIG_PATH = "/pylon/mcp.json";

/**
 * The CLI's environment: `env` with the MCP file's `mcp` servers merged into
 * `OPENCODE_CONFIG_CONTENT` (over any servers of the same name already there). Without the file,
 * `env` unchanged.
 * @param {Record<string, string | undefined>} env
 * @param {string} [file]
 */
export function cliEnv(env, file = MCP_CONFIG_PATH) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (e && e.code === "ENOENT") return env;
    throw e;
  }
  const mcp = JSON.parse(text).mcp;
  if (!mcp || typeof mcp !== "object") return env;
  let content = {};
  if (env.OPENCODE_CONFIG_CONTENT) {
    const parsed = JSON.parse(env.OPENCODE_CONFIG_CONTENT);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) content = parsed;
  }
  const servers = content.mcp && typeof content.mcp === "object" ? content.mcp : {};
  content = { ...content, mcp: { ...servers, ...mcp } };
  return { ...env, OPENCODE_CONFIG_CONTENT: JSON.stringify(content) };
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

function runCli(argv) {
  const [cmd, ...args] = argv;
  if (!cmd) {
    writeResult(outDir(), {
      status: "failed",
      result: "",
      error: "pylon-opencode: nothing to run",
    });
    process.exit(2);
  }
  const collector = new EventCollector();
  const events = join(outDir(), "events.ndjson");
  // The prompt goes in on stdin: as an argument it could be read as an option ("--…"), and
  // OpenCode quotes message arguments that contain spaces.
  let env;
  try {
    env = cliEnv(process.env);
  } catch (e) {
    writeResult(outDir(), {
      status: "failed",
      result: "",
      error: `Cannot read ${MCP_CONFIG_PATH} (agent.mcp_servers): ${e.message}`,
    });
    process.exit(70);
  }
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env });
  child.stdin.on("error", () => {}); // a CLI that exits without reading its input
  child.stdin.end(readPrompt());
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk) => {
    process.stderr.write(chunk);
    stderr = (stderr + chunk).slice(-4 * ERROR_MAX);
  });
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on("line", (line) => {
    process.stdout.write(line + "\n");
    const event = collector.add(line);
    if (event) {
      try {
        appendFileSync(events, JSON.stringify(event) + "\n");
      } catch {
        // events are best effort; the result still counts
      }
    }
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
  let exit;
  let closed = false;
  const done = () => {
    if (!exit || !closed) return;
    const { result, exitCode } = collector.finish({ ...exit, stderr });
    writeResult(outDir(), result);
    process.exit(exitCode);
  };
  child.on("close", (code, signal) => {
    exit = { code: code ?? 1, signal };
    done();
  });
  lines.on("close", () => {
    closed = true;
    done();
  });
}

function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case "run":
      return runCli(rest[0] === "--" ? rest.slice(1) : rest);
    case "config": {
      const provider = process.env.OPENCODE_PROVIDER || "";
      const appended = process.env.PYLON_APPEND_SYSTEM_PROMPT || "";
      let instructions;
      if (appended !== "") {
        instructions = join(dirname(rest[0]), "pylon-instructions.md");
        writeFileSync(instructions, appended.endsWith("\n") ? appended : appended + "\n");
      }
      writeFileSync(
        rest[0],
        JSON.stringify(jobConfig(provider, process.env, instructions), null, 2) + "\n",
      );
      return;
    }
    case "fail":
      writeResult(outDir(), { status: "failed", result: "", error: rest.slice(1).join(" ") });
      process.exit(Number(rest[0]) || 1);
      return;
    default:
      process.stderr.write(`pylon-opencode: unknown command ${JSON.stringify(command ?? "")}\n`);
      process.exit(2);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2));
}
