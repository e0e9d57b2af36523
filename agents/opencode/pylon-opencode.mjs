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
//        `instructions`, which OpenCode adds to the system prompt: agent.append_system_prompt;
//        with PYLON_MAX_TURNS (agent.max_turns), the turn limit: see turnLimitHooks)
//   (run: with PYLON_MAX_COST_USD, agent.max_cost_usd, the CLI is stopped once the cost of its
//        turns reaches it, and the run fails "budget of $X reached after N turns")
//   node pylon-opencode.mjs fail <code> <message>   write a failed result.json, exit with <code>
//
// Output contract (pylon runner): $PYLON_OUT/result.json =
//   {"status":"completed"|"failed","result":"…","session_id":"…","error":"…",
//    "cost_usd":0.42,"usage":{"input_tokens":…,"output_tokens":…,"cache_read_input_tokens":…,
//    "cache_creation_input_tokens":…},"num_turns":3}
// (cost and usage summed over OpenCode's `step_finish` events, only when it reported them)
// and $PYLON_OUT/events.ndjson, one {"tool":"…","summary":"…"} per line.

import { spawn } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
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
  /** agent.max_turns, when set: the run is capped after that many turns of the main session. */
  maxTurns;
  /** agent.max_cost_usd, when set: the run is stopped once OpenCode's cost reaches it. */
  maxCostUsd;
  /** Why the helper stopped the CLI (`turns`, `budget`), if it did, and after how many turns. */
  stopped = "";
  stoppedAfter = 0;
  /** Turns (`step_finish` events) of the main session, and how the last one ended. */
  turns = 0;
  lastReason = "";

  /** @param {{maxTurns?: number | undefined, maxCostUsd?: number | undefined}} [options] */
  constructor(options = {}) {
    this.maxTurns = options.maxTurns;
    this.maxCostUsd = options.maxCostUsd;
  }
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
      if (sid === this.sessionId) {
        this.turns++;
        this.lastReason = String(part.reason ?? "");
      }
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

  /** Whether agent.max_turns stopped the run: the model wanted a turn past the limit. */
  capped() {
    return this.maxTurns !== undefined && this.turns > this.maxTurns;
  }

  /**
   * Whether the CLI must be stopped: past the limit the model was told to answer and its tool
   * calls are refused (turnLimitHooks), yet it called tools again.
   */
  overLimit() {
    return this.capped() && this.lastReason === "tool-calls";
  }

  /**
   * Whether agent.max_cost_usd stops the run: the cost OpenCode reported for its turns so far
   * reached the cap and the model goes on (its last turn called tools). Checked after each turn,
   * like Claude Code's --max-budget-usd: the turn that crosses the cap has run.
   */
  overBudget() {
    return this.maxCostUsd !== undefined && this.hasCost && this.cost >= this.maxCostUsd &&
      this.lastReason === "tool-calls";
  }

  /**
   * Whether the CLI must be stopped now, for the first time: records why (`budget` before
   * `turns`) and after how many turns.
   */
  shouldStop() {
    if (this.stopped) return false;
    const why = this.overBudget() ? "budget" : this.overLimit() ? "turns" : "";
    if (!why) return false;
    this.stopped = why;
    this.stoppedAfter = this.turns;
    return true;
  }

  /**
   * Decides result.json and the exit code from how the CLI ended. A run stopped by
   * agent.max_turns fails with that reason and keeps its partial answer.
   * @returns {{result: Record<string, unknown>, exitCode: number}}
   */
  finish(run) {
    const capped = this.capped();
    const failed = capped || run.code !== 0 || Boolean(run.signal) || this.errors.length > 0;
    const result = { status: failed ? "failed" : "completed", result: this.answer() };
    if (this.sessionId) result.session_id = this.sessionId;
    Object.assign(result, this.usage());
    // Turns the CLI reported after it was told to stop are not counted in the reason.
    const turns = this.stopped ? this.stoppedAfter : this.turns;
    if (this.stopped === "budget") {
      result.status = "failed";
      result.error = `budget of ${usd(this.maxCostUsd ?? 0)} reached after ${turns} turns`;
      return { result, exitCode: run.code || 1 };
    }
    if (capped) {
      result.error = `turn limit of ${this.maxTurns} reached after ${turns} turns`;
    } else if (failed) {
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

/** `$0.50`; a cap under a cent keeps its digits (`$0.0002`). */
function usd(n) {
  return "$" + (n >= 0.01 ? n.toFixed(2) : String(n));
}

/** agent.max_cost_usd from `PYLON_MAX_COST_USD`, or undefined when unset or not above 0. */
export function maxCostOf(env = process.env) {
  const n = Number(env.PYLON_MAX_COST_USD);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** agent.max_turns from `PYLON_MAX_TURNS`, or undefined when unset or not a positive integer. */
export function maxTurnsOf(env = process.env) {
  const n = Number(env.PYLON_MAX_TURNS);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/**
 * The hooks of the OpenCode plugin of agent.max_turns `max` (written beside the job's
 * opencode.json and named in its `plugin`; self-contained, since its source is what is written).
 * OpenCode's own `steps` limit (set to max + 1 on the `build` agent) only asks the model, in the
 * turn past the limit, to answer without tools, and still runs the tools it calls. These hooks
 * count each session's model turns (`chat.params`, once per turn; the title and summary requests
 * aside) and refuse every tool call of a turn past the limit before it runs
 * (`tool.execute.before`); the model reads why. The helper stops the CLI when the model keeps
 * calling tools anyway.
 * @param {number} max
 */
export function turnLimitHooks(max) {
  const turns = new Map();
  const internal = new Set(["title", "summary", "compaction"]);
  return {
    // OpenCode awaits each hook: a rejected promise refuses the call.
    "chat.params": (input) => {
      const agent = typeof input.agent === "string" ? input.agent : input.agent?.name;
      if (!internal.has(agent)) turns.set(input.sessionID, (turns.get(input.sessionID) ?? 0) + 1);
      return Promise.resolve();
    },
    "tool.execute.before": (input) => {
      if ((turns.get(input.sessionID) ?? 0) <= max) return Promise.resolve();
      return Promise.reject(
        new Error(
          `pylon: the turn limit of ${max} (agent.max_turns) is reached; no more tool calls. ` +
            "Answer with what you have.",
        ),
      );
    },
  };
}

/** The plugin file's text for agent.max_turns `max`: one export, the plugin. */
export function turnLimitPluginSource(max) {
  return `// pylon: agent.max_turns (written by pylon-opencode.mjs config).\n` +
    `const turnLimitHooks = ${turnLimitHooks.toString()};\n` +
    `export const PylonTurnLimit = async () => turnLimitHooks(${JSON.stringify(max)});\n`;
}

/**
 * The job's global opencode.json: only `provider` is offered when one is chosen. Behind pylon's
 * model API gateway (issue 19: `ANTHROPIC_BASE_URL` is the gateway's URL of this job and
 * `ANTHROPIC_API_KEY` the job's token, never the real key), the anthropic provider's base URL is
 * the gateway's plus `/v1` (OpenCode's Anthropic SDK appends `/messages`); the key is read from
 * the environment (`{env:…}`), so no file holds even the job's token. `instructionsFile`: the
 * file holding agent.append_system_prompt, when there is one; `turnLimitFile`: the
 * {@linkcode turnLimitHooks} plugin file, used when `PYLON_MAX_TURNS` is set.
 * @param {string} provider
 * @param {Record<string, string | undefined>} [env]
 * @param {string | undefined} [instructionsFile]
 * @param {string | undefined} [turnLimitFile]
 * @returns {Record<string, unknown>}
 */
export function jobConfig(
  provider,
  env = process.env,
  instructionsFile = undefined,
  turnLimitFile = undefined,
) {
  /** @type {Record<string, unknown>} */
  const config = {
    $schema: "https://opencode.ai/config.json",
    autoupdate: false,
    share: "disabled",
  };
  if (provider) config.enabled_providers = [provider];
  if (instructionsFile) config.instructions = [instructionsFile];
  const maxTurns = maxTurnsOf(env);
  if (maxTurns !== undefined && turnLimitFile) {
    // OpenCode's turn past the limit asks for an answer; the plugin refuses its tool calls.
    config.agent = { build: { steps: maxTurns + 1 } };
    config.plugin = [pathToFileURL(turnLimitFile).href];
  }
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
/** Tool approval's plugin, named by the managed config the daemon mounts (agent.approve_tools). */
export const APPROVAL_PLUGIN = "/pylon/approval/pylon-approve-opencode.mjs";

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
  const collector = new EventCollector({ maxTurns: maxTurnsOf(), maxCostUsd: maxCostOf() });
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
    if (collector.shouldStop() && child.exitCode === null) {
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    }
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
    // The config folder made read-only for a plugin (the config step) is writable again, so
    // whoever removes the job's state later can.
    if (process.env.XDG_CONFIG_HOME) {
      try {
        chmodSync(join(process.env.XDG_CONFIG_HOME, "opencode"), 0o755);
      } catch {
        // no such folder
      }
    }
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
      // A follow-up's folder may still be read-only from the run before (below).
      chmodSync(dirname(rest[0]), 0o755);
      let instructions;
      if (appended !== "") {
        instructions = join(dirname(rest[0]), "pylon-instructions.md");
        writeFileSync(instructions, appended.endsWith("\n") ? appended : appended + "\n");
      }
      let turnLimit;
      const maxTurns = maxTurnsOf();
      if (maxTurns !== undefined) {
        turnLimit = join(dirname(rest[0]), "pylon-turn-limit.mjs");
        writeFileSync(turnLimit, turnLimitPluginSource(maxTurns));
      }
      writeFileSync(
        rest[0],
        JSON.stringify(jobConfig(provider, process.env, instructions, turnLimit), null, 2) + "\n",
      );
      // With a plugin (this one, or tool approval's in the managed config) OpenCode first waits
      // for an npm install of its plugin package into each config folder it may write (the
      // registry: seconds, or never without a network); it skips a read-only one, and neither
      // plugin needs the package.
      if (turnLimit || existsSync(APPROVAL_PLUGIN)) chmodSync(dirname(rest[0]), 0o555);
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
