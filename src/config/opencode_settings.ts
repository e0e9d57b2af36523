/**
 * `agent.allowed_tools`, `agent.disallowed_tools` and `agent.mcp_servers` in OpenCode's terms
 * (the OpenCode image pins opencode-ai 1.18.33). Pure and import-free, so config (which names the
 * rules OpenCode cannot express) and the runner (which passes the result) share one translation.
 *
 * - Tools: OpenCode's `permission` map, passed as `OPENCODE_PERMISSION`, the layer OpenCode
 *   applies last (over the workspace's own opencode.json). A tool whose permission is `deny` for
 *   every pattern is absent from the model's tool list. `allowed_tools` → `"*": "deny"`, every
 *   built-in denied by name, the listed ones allowed; `disallowed_tools` → deny entries after
 *   them (OpenCode takes the last matching pattern). Claude's names map onto OpenCode's
 *   ({@linkcode OPENCODE_TOOLS}; `Write`, `Edit` and `MultiEdit` are all OpenCode's one `edit`
 *   permission); `Bash(cmd:*)` → the bash pattern `cmd*`; `mcp__server__tool` → `server_tool`,
 *   `mcp__server` and `mcp__server__*` → `server_*` (OpenCode names an MCP tool
 *   `<server>_<tool>`). What has no counterpart (a path rule like `Read(./.env)`, a tool OpenCode
 *   lacks) is listed in `unexpressed`: an allowed entry then grants nothing, a denied one denies
 *   nothing, and construct / test --dry-run / doctor name that entry.
 * - MCP servers: OpenCode's `mcp` map (stdio → `local` with `command` as one array and
 *   `environment`; http/sse → `remote` with `url` and `headers`, OpenCode tries both transports).
 *
 * @module
 */

/** Claude Code's tool names → the OpenCode permission that governs the same tool. */
export const OPENCODE_TOOLS: Readonly<Record<string, string>> = {
  Read: "read",
  Write: "edit",
  Edit: "edit",
  MultiEdit: "edit",
  Bash: "bash",
  Grep: "grep",
  Glob: "glob",
  WebFetch: "webfetch",
  WebSearch: "websearch",
  TodoWrite: "todowrite",
  Task: "task",
  Skill: "skill",
};

/**
 * OpenCode 1.18's built-in tool permissions, each denied by name under `allowed_tools` (beside
 * `"*"`) so that a workspace's opencode.json allowing one by name cannot bring it back.
 */
const OPENCODE_BUILTINS = [
  "read",
  "edit",
  "bash",
  "grep",
  "glob",
  "list",
  "webfetch",
  "websearch",
  "codesearch",
  "todowrite",
  "task",
  "skill",
  "lsp",
];

/** An OpenCode permission: an action, or patterns → actions (the last match wins). */
export type OpencodeRule = "allow" | "deny" | Record<string, "allow" | "deny">;

/** The translation of a pylon's tool settings. */
export interface OpencodeTools {
  /** OpenCode's `permission` map; `undefined` when the pylon sets no tool setting. */
  permission: Record<string, OpencodeRule | "ask"> | undefined;
  /** The entries OpenCode cannot express, as `allowed_tools: X` / `disallowed_tools: X`. */
  unexpressed: string[];
}

/** One Claude Code rule: `Bash(git push:*)` → tool `Bash`, specifier `git push:*`. */
function splitRule(rule: string): { tool: string; spec: string | undefined } {
  const m = /^([^()]+)\((.*)\)$/s.exec(rule.trim());
  return m ? { tool: m[1]!.trim(), spec: m[2]! } : { tool: rule.trim(), spec: undefined };
}

/** The OpenCode permission (and pattern) of one rule, or null when it has none. */
function translate(rule: string): { key: string; pattern: string | undefined } | null {
  const { tool, spec } = splitRule(rule);
  if (tool.startsWith("mcp__")) {
    if (spec !== undefined) return null;
    const [server, name] = tool.slice("mcp__".length).split("__");
    if (!server || !/^[A-Za-z0-9_-]+$/.test(server)) return null;
    if (name === undefined || name === "*" || name === "") {
      return { key: `${server}_*`, pattern: undefined };
    }
    return { key: `${server}_${name.replace(/[^A-Za-z0-9_*-]/g, "_")}`, pattern: undefined };
  }
  const key = OPENCODE_TOOLS[tool];
  if (key === undefined) return null;
  if (spec === undefined || spec.trim() === "" || spec.trim() === "*") {
    return { key, pattern: undefined };
  }
  // Only bash patterns are commands; OpenCode's path and URL patterns differ from Claude's.
  if (key !== "bash") return null;
  // Claude's `git push:*` is a prefix match: OpenCode's wildcard `git push*`.
  const pattern = spec.trim().replace(/:\*$/, "*");
  return { key, pattern };
}

/** `allowed_tools` (`undefined`: every tool) and `disallowed_tools` as OpenCode's `permission`. */
export function opencodeTools(
  allowed: readonly string[] | undefined,
  disallowed: readonly string[],
): OpencodeTools {
  const unexpressed: string[] = [];
  if (allowed === undefined && disallowed.length === 0) {
    return { permission: undefined, unexpressed };
  }
  const permission: Record<string, OpencodeRule | "ask"> = {};
  const deny = (key: string, pattern: string | undefined) => {
    const current = permission[key];
    if (pattern === undefined || current === "deny") {
      permission[key] = "deny";
    } else if (typeof current !== "object") {
      // The tool's other commands keep the action they had (allowed when nothing said).
      permission[key] = { "*": "allow", [pattern]: "deny" };
    } else {
      // Last in the map: OpenCode takes the last pattern that matches.
      delete current[pattern];
      current[pattern] = "deny";
    }
  };
  if (allowed !== undefined) {
    permission["*"] = "deny";
    for (const key of OPENCODE_BUILTINS) permission[key] = "deny";
    // Not tools: checks the allowed tools make (a path outside the workspace, a repeated call),
    // which `opencode run --auto` approves.
    permission.external_directory = "ask";
    permission.doom_loop = "ask";
    const grants = new Map<string, { whole: boolean; patterns: string[] }>();
    for (const rule of allowed) {
      const t = translate(rule);
      if (t === null) {
        unexpressed.push(`allowed_tools: ${rule}`);
        continue;
      }
      const g = grants.get(t.key) ?? { whole: false, patterns: [] };
      if (t.pattern === undefined) g.whole = true;
      else g.patterns.push(t.pattern);
      grants.set(t.key, g);
    }
    for (const [key, g] of grants) {
      if (g.whole) permission[key] = "allow";
      else {permission[key] = Object.fromEntries([
          ["*", "deny"],
          ...g.patterns.map((p) => [p, "allow"]),
        ]);}
    }
  }
  for (const rule of disallowed) {
    const t = translate(rule);
    if (t === null) {
      unexpressed.push(`disallowed_tools: ${rule}`);
      continue;
    }
    deny(t.key, t.pattern);
  }
  return { permission, unexpressed };
}

/** One server of `.mcp.json`'s `mcpServers` (already validated by the config schema). */
export interface McpServerInput {
  type?: "stdio" | "http" | "sse" | undefined;
  command?: string | undefined;
  args?: string[] | undefined;
  env?: Record<string, string> | undefined;
  url?: string | undefined;
  headers?: Record<string, string> | undefined;
}

/** `mcp_servers` as OpenCode's config `{"mcp": {…}}` (values expanded: write it 0600). */
export function opencodeMcpConfig(
  servers: Record<string, McpServerInput>,
): { mcp: Record<string, Record<string, unknown>> } {
  const mcp: Record<string, Record<string, unknown>> = {};
  for (const [name, s] of Object.entries(servers)) {
    const type = s.type ?? (s.url !== undefined ? "http" : "stdio");
    mcp[name] = type === "stdio"
      ? {
        type: "local",
        command: [s.command ?? "", ...(s.args ?? [])],
        environment: s.env ?? {},
        enabled: true,
      }
      : { type: "remote", url: s.url, headers: s.headers ?? {}, enabled: true };
  }
  return { mcp };
}
