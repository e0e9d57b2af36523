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
  const c = agentSettingsCheck(pylon({ type: "opencode", max_turns: 3, allowed_tools: ["Read"] }));
  assert.equal(c?.status, "WARN");
  assert.equal(c?.label, "audit agent");
  assert.match(c!.detail, /agent\.max_turns, agent\.allowed_tools are not supported by OpenCode/);
  const custom = agentSettingsCheck(pylon({ type: "custom", image: "acme/a", model: "m" }));
  assert.match(custom!.detail, /agent\.model is not supported by a custom image/);
});

Deno.test("agentSettingsCheck() says nothing when the agent honours every setting", () => {
  assert.equal(agentSettingsCheck(pylon({ max_turns: 3, allowed_tools: ["Read"] })), null);
  assert.equal(agentSettingsCheck(pylon({ type: "opencode", model: "openai/gpt-5" })), null);
});
