import assert from "node:assert/strict";
import { changedFields } from "../../src/daemon/config_diff.ts";

Deno.test("changedFields() names the top-level fields that changed, or env, or none", () => {
  const base = { name: "a", trigger: { type: "webhook", path: "/a" }, agent: { prompt: "p" } };
  assert.deepEqual(changedFields({ config: base }, { config: structuredClone(base) }), []);
  assert.deepEqual(
    changedFields({ config: base }, {
      config: { ...base, trigger: { type: "webhook", path: "/b" }, disabled: false },
    }),
    ["disabled", "trigger"],
  );
  assert.deepEqual(
    changedFields({ config: base, secrets: ["x"] }, { config: base, secrets: ["y"] }),
    ["env"],
  );
});
