/**
 * What steers an agent run: model, turns, tools, system prompt, MCP servers and extra CLI
 * arguments (issue 14 §1). Written in `pylon.yaml` under `agent`, and as defaults per agent type
 * in `config.yaml` (`defaults.agent.claude`, `defaults.agent.opencode`).
 *
 * Claude Code has every setting; OpenCode has `model`, `max_turns` (its agent `steps`, held by
 * the image's plugin and helper), `max_cost_usd` (the image stops the run at OpenCode's cost
 * figure), `append_system_prompt` (its config's
 * `instructions`), `args` (appended to `opencode run`), `mcp_servers` (its `mcp` config) and
 * `allowed_tools` / `disallowed_tools` (its `permission` map, rule by rule: see
 * `opencode_settings.ts`); a custom image has none. Which ones a pylon sets that its agent cannot
 * honour, and which tool rules OpenCode cannot express, is {@linkcode unsupportedAgentSettings},
 * so `construct`, `test --dry-run` and `doctor` say so instead of dropping them silently.
 *
 * @module
 */

import { z } from "zod";
import { parseDuration } from "./duration.ts";
import { permissionRuleProblem } from "./permission_rule.ts";
import { opencodeTools } from "./opencode_settings.ts";
// Pure and import-free: the one module of src/egress that config may use.
import { egressEntryProblem } from "../egress/allowlist.ts";

/** One MCP server of Claude Code's `.mcp.json` `mcpServers` map: stdio or http (sse). */
export const mcpServerSchema = z.strictObject({
  /** Default: `stdio` with a `command`, `http` with a `url`. */
  type: z.enum(["stdio", "http", "sse"]).optional(),
  command: z.string().min(1).optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  url: z.string().refine((s) => /^https?:\/\/[^\s/]+/.test(s), {
    message: "must be an http:// or https:// URL",
  }).optional(),
  headers: z.record(z.string(), z.string()).optional(),
}).superRefine((server, ctx) => {
  const type = server.type ?? (server.url !== undefined ? "http" : "stdio");
  if (type === "stdio" && server.command === undefined) {
    ctx.addIssue({
      code: "custom",
      message: "names no command; give a stdio server a command (or an http server a url)",
    });
  }
  if (type !== "stdio" && server.url === undefined) {
    ctx.addIssue({ code: "custom", message: `is a ${type} server without a url; add url` });
  }
});

export type McpServerConfig = z.output<typeof mcpServerSchema>;

const MCP_NAME_REGEXP = /^[A-Za-z0-9_-]+$/;

/** A tool name or permission rule (`Read`, `Bash(git push:*)`, `mcp__sentry__*`). */
const toolRule = z.string().trim().min(1, { message: "is empty; write a tool name like Read" });

/** The agent settings shared by `pylon.yaml` `agent` and `defaults.agent.<type>`. */
export const agentSettingsShape = {
  /** Model id or alias (`claude-sonnet-4-5`, `sonnet`; OpenCode: `provider/model`). */
  model: z.string().min(1).optional(),
  "fallback_model": z.string().min(1).optional(),
  "max_turns": z.int().min(1).optional(),
  /** Dollars one run may spend (Claude Code's `--max-budget-usd`); also its budget reservation. */
  "max_cost_usd": z.number().positive().optional(),
  /** The only tools the agent has; the rest are absent from the model's tool list. */
  "allowed_tools": z.array(toolRule).optional(),
  /** Denied even when permissions are skipped (`Bash(git push:*)`). */
  "disallowed_tools": z.array(toolRule).optional(),
  "append_system_prompt": z.string().min(1).optional(),
  /** The `mcpServers` map of Claude Code's `.mcp.json`; values may use `${VAR}`. */
  "mcp_servers": z.record(
    z.string().regex(MCP_NAME_REGEXP, {
      message: "is not an MCP server name; use letters, digits, - and _",
    }),
    mcpServerSchema,
  ).optional(),
  /** Extra CLI arguments (the escape hatch). */
  args: z.array(z.string()).optional(),
  /** Calls that wait for a person's Allow / Deny while the agent runs (`Bash(git push:*)`). */
  "approve_tools": z.array(
    z.string().trim().superRefine((rule, ctx) => {
      const problem = permissionRuleProblem(rule);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  ).optional(),
  /** How long a call waits for a decision before it is denied. @default {"10m"} */
  "approve_timeout": z.string().refine((s) => (parseDuration(s) ?? 0) >= 1000, {
    message: "is not a duration of at least 1s; write it like 10m or 1h",
  }).optional(),
  /**
   * Hosts the agent may reach, through pylon's egress proxy (`default`: the agent type's list,
   * `*.` wildcards, optional `:port`); `any`: no proxy, today's network. @default {"any"}
   */
  egress: z.union([
    z.literal("any"),
    z.array(
      z.string().superRefine((entry, ctx) => {
        const problem = egressEntryProblem(entry);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    ),
  ]).optional(),
  /** Hosts of `egress` that may resolve to private or loopback addresses (an internal server). */
  "egress_private": z.array(
    z.string().superRefine((entry, ctx) => {
      const problem = egressEntryProblem(entry);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  ).optional(),
  /**
   * Model API calls go through pylon's gateway, which holds the real key (issue 19).
   * @default {true for claude with auth api_key or oauth; false otherwise}
   */
  gateway: z.boolean({ error: "must be true or false" }).optional(),
};

/** `approve_timeout` when none is set. */
export const DEFAULT_APPROVE_TIMEOUT_MS = 10 * 60_000;

/** Settings as written in one file; absent keys fall back to the other file. */
export interface AgentSettingsInput {
  model?: string | undefined;
  "fallback_model"?: string | undefined;
  "max_turns"?: number | undefined;
  "max_cost_usd"?: number | undefined;
  "allowed_tools"?: string[] | undefined;
  "disallowed_tools"?: string[] | undefined;
  "append_system_prompt"?: string | undefined;
  "mcp_servers"?: Record<string, McpServerConfig> | undefined;
  args?: string[] | undefined;
  "approve_tools"?: string[] | undefined;
  "approve_timeout"?: string | undefined;
  egress?: "any" | string[] | undefined;
  "egress_private"?: string[] | undefined;
  gateway?: boolean | undefined;
}

/** Agent settings after resolution (pylon over `defaults.agent.<type>`). */
export interface AgentSettings {
  model: string | undefined;
  fallbackModel: string | undefined;
  maxTurns: number | undefined;
  maxCostUsd: number | undefined;
  /** `undefined`: every tool; `[]`: none. */
  allowedTools: string[] | undefined;
  disallowedTools: string[];
  appendSystemPrompt: string | undefined;
  /** The defaults' servers with the pylon's on top (same name: the pylon's). */
  mcpServers: Record<string, McpServerConfig>;
  args: string[];
  /** Permission rules whose calls wait for a person (empty: none wait). */
  approveTools: string[];
  /** How long such a call waits before it is denied (ms). */
  approveTimeoutMs: number;
  /** `any` (no proxy) or the entries as written (`default` not yet expanded: see src/egress). */
  egress?: "any" | string[] | undefined;
  egressPrivate?: string[] | undefined;
  /** `agent.gateway` as written; undefined: the agent type's default (src/gateway/jobs.ts). */
  gateway?: boolean | undefined;
}

/** The pylon's own settings over its agent type's defaults. Pure. */
export function resolveAgentSettings(
  own: AgentSettingsInput,
  defaults: AgentSettingsInput | undefined,
): AgentSettings {
  const d = defaults ?? {};
  return {
    model: own.model ?? d.model,
    fallbackModel: own.fallback_model ?? d.fallback_model,
    maxTurns: own.max_turns ?? d.max_turns,
    maxCostUsd: own.max_cost_usd ?? d.max_cost_usd,
    allowedTools: own.allowed_tools ?? d.allowed_tools,
    disallowedTools: own.disallowed_tools ?? d.disallowed_tools ?? [],
    appendSystemPrompt: own.append_system_prompt ?? d.append_system_prompt,
    mcpServers: { ...d.mcp_servers, ...own.mcp_servers },
    args: own.args ?? d.args ?? [],
    approveTools: own.approve_tools ?? d.approve_tools ?? [],
    approveTimeoutMs: parseDuration(own.approve_timeout ?? d.approve_timeout ?? "") ??
      DEFAULT_APPROVE_TIMEOUT_MS,
    egress: own.egress ?? d.egress ?? "any",
    egressPrivate: own.egress_private ?? d.egress_private ?? [],
    gateway: own.gateway ?? d.gateway,
  };
}

/** The settings each agent type honours (custom images: none). */
const SUPPORTED: Record<string, ReadonlySet<string>> = {
  claude: new Set([
    "model",
    "fallback_model",
    "max_turns",
    "max_cost_usd",
    "allowed_tools",
    "disallowed_tools",
    "append_system_prompt",
    "mcp_servers",
    "args",
    "approve_tools",
    "approve_timeout",
  ]),
  opencode: new Set([
    "model",
    "max_turns",
    "max_cost_usd",
    "append_system_prompt",
    "args",
    "mcp_servers",
    "allowed_tools",
    "disallowed_tools",
    "approve_tools",
    "approve_timeout",
  ]),
};

/**
 * The `agent.*` keys a pylon sets (itself or through defaults) that its agent type ignores, e.g.
 * `["fallback_model"]` for OpenCode, then each tool rule OpenCode cannot express
 * (`"disallowed_tools: Read(./.env)"`); empty when all are honoured.
 */
export function unsupportedAgentSettings(type: string, settings: AgentSettings): string[] {
  const set: Record<string, boolean> = {
    model: settings.model !== undefined,
    "fallback_model": settings.fallbackModel !== undefined,
    "max_turns": settings.maxTurns !== undefined,
    "max_cost_usd": settings.maxCostUsd !== undefined,
    "allowed_tools": settings.allowedTools !== undefined,
    "disallowed_tools": settings.disallowedTools.length > 0,
    "append_system_prompt": settings.appendSystemPrompt !== undefined,
    "mcp_servers": Object.keys(settings.mcpServers).length > 0,
    args: settings.args.length > 0,
    "approve_tools": settings.approveTools.length > 0,
  };
  const supported = SUPPORTED[type] ?? new Set<string>();
  const keys = Object.entries(set).filter(([key, isSet]) => isSet && !supported.has(key))
    .map(([key]) => key);
  if (type === "opencode") {
    keys.push(...opencodeTools(settings.allowedTools, settings.disallowedTools).unexpressed);
  }
  return keys;
}

/** One sentence for `construct`, `test --dry-run` and `doctor`, or null when nothing is ignored. */
export function unsupportedSettingsNote(type: string, keys: readonly string[]): string | null {
  if (keys.length === 0) return null;
  const agent = type === "custom" ? "a custom image" : type === "opencode" ? "OpenCode" : type;
  // A rule entry (`disallowed_tools: Read(./.env)`) reads as `agent.disallowed_tools entry …`.
  const list = keys.map((k) => `agent.${k.replace(": ", " entry ")}`).join(", ");
  return `${list} ${keys.length === 1 ? "is" : "are"} not supported by ${agent} and will be ` +
    `ignored (only Claude Code honours them${
      type === "opencode"
        ? "; OpenCode takes model, max_turns, max_cost_usd, append_system_prompt, args, " +
          "mcp_servers, and the tool names and Bash command rules of allowed_tools and " +
          "disallowed_tools"
        : ""
    })`;
}
