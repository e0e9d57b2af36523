import assert from "node:assert/strict";
import { agentSettingsShape, resolveAgentSettings } from "../../src/config/agent_settings.ts";

Deno.test("agent.egress takes any or a list of hostnames and names a bad entry", () => {
  const schema = agentSettingsShape.egress;
  assert.ok(schema.safeParse("any").success);
  assert.ok(schema.safeParse(["default", "api.github.com", "*.npmjs.org", "x.dev:8443"]).success);
  const bad = schema.safeParse(["api.github.com", "10.0.0.1"]);
  assert.ok(!bad.success);
  assert.deepEqual(bad.error.issues.map((i) => [i.path.join("."), i.message]), [
    ["1", "is an IP address; list hostnames, not addresses"],
  ]);
  assert.ok(!schema.safeParse("all").success);
});

Deno.test("resolveAgentSettings() takes egress from the pylon, then its type's defaults, then any", () => {
  assert.equal(resolveAgentSettings({}, undefined).egress, "any");
  assert.deepEqual(resolveAgentSettings({}, { egress: ["default"] }).egress, ["default"]);
  assert.deepEqual(
    resolveAgentSettings({ egress: ["pypi.org"], "egress_private": ["a.internal"] }, {
      egress: ["default"],
    }),
    { ...resolveAgentSettings({}, undefined), egress: ["pypi.org"], egressPrivate: ["a.internal"] },
  );
});
