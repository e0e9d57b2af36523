/**
 * A pylon's agent settings as Claude Code CLI arguments (passed as `PYLON_AGENT_ARGS`, a JSON
 * array the image's entrypoint appends) and as the `.mcp.json` the CLI loads. Pure, so the
 * mapping is tested without Docker; the slow image test proves the CLI honours it.
 *
 * How the tool settings map (Claude Code's own flags differ in kind):
 * - `allowed_tools` are the only tools: `--tools` removes every other built-in tool from the
 *   model's tool list (`--allowedTools` alone merely auto-approves). MCP servers no entry names
 *   are denied whole (`--disallowedTools mcp__<server>`), which also removes their tools.
 *   An entry with a rule (`Bash(git log:*)`) cannot be expressed by `--tools`: its tool is made
 *   available, the rule goes to `--allowedTools`, and permissions are no longer skipped but
 *   `dontAsk` (what no rule allows is refused, since nobody is there to ask).
 * - `disallowed_tools` → `--disallowedTools`: deny rules hold even when permissions are skipped.
 *
 * @module
 */

import {
  type AgentSettings,
  type McpServerConfig,
  opencodeMcpConfig,
  opencodeTools,
} from "../config/mod.ts";

/**
 * The OpenCode image's environment for `settings` (agents/opencode/entrypoint.sh): `agent.args`
 * as `PYLON_AGENT_ARGS` (a JSON array appended to `opencode run`), `append_system_prompt` as
 * `PYLON_APPEND_SYSTEM_PROMPT`, which the image writes to a file its opencode.json names in
 * `instructions` (OpenCode adds it to the system prompt), and `allowed_tools` /
 * `disallowed_tools` as `OPENCODE_PERMISSION` (OpenCode's own variable: the permission layer it
 * applies last, see `src/config/opencode_settings.ts`), and `max_turns` as `PYLON_MAX_TURNS` (the
 * image's turn limit: OpenCode's `steps` on the build agent, a plugin that refuses tool calls past
 * it, the run stopped and failed with the limit's reason), `max_cost_usd` as `PYLON_MAX_COST_USD`
 * (the image stops the run once OpenCode's own cost figure reaches it). `model` is
 * `OPENCODE_MODEL`;
 * `mcp_servers` travel in the MCP file ({@linkcode mcpConfigText}), never in the environment.
 */
export function opencodeEnv(settings: AgentSettings): Record<string, string> {
  const env: Record<string, string> = {};
  if (settings.args.length > 0) env.PYLON_AGENT_ARGS = JSON.stringify(settings.args);
  if (settings.appendSystemPrompt !== undefined) {
    env.PYLON_APPEND_SYSTEM_PROMPT = settings.appendSystemPrompt;
  }
  if (settings.maxTurns !== undefined) env.PYLON_MAX_TURNS = String(settings.maxTurns);
  if (settings.maxCostUsd !== undefined) env.PYLON_MAX_COST_USD = String(settings.maxCostUsd);
  const { permission } = opencodeTools(settings.allowedTools, settings.disallowedTools);
  if (permission !== undefined) env.OPENCODE_PERMISSION = JSON.stringify(permission);
  return env;
}

/**
 * The text of the job's MCP file at {@linkcode MCP_CONFIG_PATH} for an agent of `type` with
 * `servers`, or `undefined` when it has none: Claude Code's `.mcp.json`, or OpenCode's
 * `{"mcp": …}` (its image hands the file to `opencode run` as `OPENCODE_CONFIG_CONTENT`, above
 * the workspace's own opencode.json). Values are expanded (secrets): every backend delivers it
 * as a 0600 file, never in the environment.
 */
export function mcpConfigText(
  type: string,
  servers: Record<string, McpServerConfig>,
): string | undefined {
  if (Object.keys(servers).length === 0) return undefined;
  if (type === "claude") return mcpConfigJson(servers);
  if (type === "opencode") return JSON.stringify(opencodeMcpConfig(servers), null, 2) + "\n";
  return undefined;
}

/** Where the job's MCP config file is mounted (read-only). */
export const MCP_CONFIG_PATH = "/pylon/mcp.json";

/** The Claude Code arguments for `settings`; `mcpConfig`: the MCP file's path in the container. */
export function claudeArgs(settings: AgentSettings, mcpConfig?: string): string[] {
  const args: string[] = [];
  if (settings.model !== undefined) args.push("--model", settings.model);
  if (settings.fallbackModel !== undefined) args.push("--fallback-model", settings.fallbackModel);
  if (settings.maxTurns !== undefined) args.push("--max-turns", String(settings.maxTurns));
  if (settings.maxCostUsd !== undefined) {
    args.push("--max-budget-usd", String(settings.maxCostUsd));
  }
  const denied = [...settings.disallowedTools];
  const allowed = settings.allowedTools;
  if (allowed !== undefined) {
    const builtin = [...new Set(allowed.filter((t) => !isMcpTool(t)).map(toolName))];
    args.push("--tools", builtin.join(","));
    if (allowed.length > 0) args.push("--allowedTools", allowed.join(","));
    if (allowed.some((t) => toolName(t) !== t)) args.push("--permission-mode", "dontAsk");
    for (const server of Object.keys(settings.mcpServers)) {
      if (!allowed.some((t) => mcpServerOf(t) === server)) denied.push(`mcp__${server}`);
    }
  }
  if (denied.length > 0) args.push("--disallowedTools", denied.join(","));
  if (settings.appendSystemPrompt !== undefined) {
    args.push("--append-system-prompt", settings.appendSystemPrompt);
  }
  if (mcpConfig !== undefined && Object.keys(settings.mcpServers).length > 0) {
    args.push("--mcp-config", mcpConfig, "--strict-mcp-config");
  }
  args.push(...settings.args);
  return args;
}

/** The job's `.mcp.json` text (values already expanded: secrets; write it 0600). */
export function mcpConfigJson(servers: Record<string, McpServerConfig>): string {
  const mcpServers: Record<string, Record<string, unknown>> = {};
  for (const [name, s] of Object.entries(servers)) {
    const type = s.type ?? (s.url !== undefined ? "http" : "stdio");
    mcpServers[name] = type === "stdio"
      ? { type, command: s.command, args: s.args ?? [], env: s.env ?? {} }
      : { type, url: s.url, headers: s.headers ?? {} };
  }
  return JSON.stringify({ mcpServers }, null, 2) + "\n";
}

/** `Bash(git log:*)` → `Bash`. */
function toolName(rule: string): string {
  const paren = rule.indexOf("(");
  return paren > 0 ? rule.slice(0, paren).trim() : rule;
}

function isMcpTool(rule: string): boolean {
  return rule.startsWith("mcp__");
}

/** `mcp__sentry__get_issue`, `mcp__sentry__*`, `mcp__sentry` → `sentry`. */
function mcpServerOf(rule: string): string | null {
  if (!isMcpTool(rule)) return null;
  return rule.slice("mcp__".length).split("__")[0] ?? null;
}
