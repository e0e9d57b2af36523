/**
 * The hosts an agent type needs, which `default` in `agent.egress` stands for (issue 19, item 2).
 * Design note: `default` is an entry a pylon writes (`egress: [default, pypi.org]`), not an
 * implicit list, so a reader of `pylon.yaml` sees that more than the named hosts is allowed, and
 * `egress` left unset keeps today's network (`any`) until a pylon opts in.
 *
 * - Every type: GitHub (clone, API, release downloads) and the npm registry.
 * - claude: `api.anthropic.com`, which a job whose model calls pylon's gateway relays does not
 *   need (the gateway is reached on the job network, not through this proxy); Claude Code's other
 *   traffic (telemetry, update checks) is off in pylon's image
 *   (`CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`).
 * - opencode: OpenCode Zen (`opencode.ai`) and its model catalogue (`models.dev`).
 *
 * @module
 */

const COMMON = [
  "github.com",
  "api.github.com",
  "codeload.github.com",
  "*.githubusercontent.com",
  "registry.npmjs.org",
] as const;

/** The list `default` expands to, per agent type. */
export const DEFAULT_EGRESS: Readonly<Record<string, readonly string[]>> = {
  claude: [...COMMON, "api.anthropic.com"],
  opencode: [...COMMON, "opencode.ai", "*.opencode.ai", "models.dev"],
  custom: [...COMMON],
};

/** `entries` with `default` replaced by `type`'s list (duplicates removed). */
export function expandEgressDefaults(type: string, entries: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const items = e.trim().toLowerCase() === "default" ? DEFAULT_EGRESS[type] ?? COMMON : [e];
    for (const item of items) if (!out.includes(item)) out.push(item);
  }
  return out;
}
