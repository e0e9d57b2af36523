import assert from "node:assert/strict";
import { agentSettingsCheck } from "../../src/cli/doctor/mod.ts";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";

function pylon(agent: Record<string, unknown>) {
  const config = pylonConfigSchema.parse({
    name: "audit",
    trigger: { type: "cron", cron: "0 9 * * 1" },
    agent: { prompt: "p", ...agent },
  });
  return resolvePylon(config, globalConfigSchema.parse({}), { env: {}, systemTimezone: "UTC" });
}

Deno.test("agentSettingsCheck() warns about settings the pylon's agent ignores", () => {
  const c = agentSettingsCheck(
    pylon({
      type: "opencode",
      max_turns: 3,
      max_cost_usd: 1,
      fallback_model: "sonnet",
      allowed_tools: ["Read", "LS"],
      disallowed_tools: ["Bash(git push:*)", "WebFetch(domain:evil.example)"],
    }),
  );
  assert.equal(c?.status, "WARN");
  assert.equal(c?.label, "audit agent");
  // Precisely the rules OpenCode cannot express, not the whole settings.
  assert.match(
    c!.detail,
    /^agent\.fallback_model, agent\.allowed_tools entry LS, agent\.disallowed_tools entry WebFetch\(domain:evil\.example\) are not supported by OpenCode/,
  );
  const custom = agentSettingsCheck(pylon({ type: "custom", image: "acme/a", model: "m" }));
  assert.match(custom!.detail, /agent\.model is not supported by a custom image/);
});

Deno.test("agentSettingsCheck() says nothing when the agent honours every setting", () => {
  assert.equal(agentSettingsCheck(pylon({ max_turns: 3, allowed_tools: ["Read"] })), null);
  assert.equal(
    agentSettingsCheck(
      pylon({ type: "opencode", model: "openai/gpt-5", max_turns: 4, max_cost_usd: 2 }),
    ),
    null,
  );
  assert.equal(
    agentSettingsCheck(pylon({
      type: "opencode",
      allowed_tools: ["Read", "Bash(git log:*)", "mcp__sentry__*"],
      disallowed_tools: ["Bash(git push:*)"],
      mcp_servers: { sentry: { url: "https://mcp.sentry.dev/mcp" } },
    })),
    null,
  );
});
