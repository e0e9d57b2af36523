/**
 * `docker.backend: swarm` in config.yaml: it implies `mounts: none`, refuses `mounts: host` naming
 * the field and the fix, and `agent.placement` takes Swarm constraints only. Service names stay
 * within Swarm's 63 characters.
 */

import assert from "node:assert/strict";
import { globalConfigSchema, pylonConfigSchema } from "../../src/config/mod.ts";
import { serviceName } from "../../src/runner/swarm.ts";

Deno.test("docker.backend: swarm implies mounts: none; engine keeps host", () => {
  assert.equal(globalConfigSchema.parse({ docker: { backend: "swarm" } }).docker.mounts, "none");
  assert.equal(globalConfigSchema.parse({}).docker.mounts, "host");
  assert.equal(globalConfigSchema.parse({}).docker.backend, "engine");
});

Deno.test("docker.backend: swarm with mounts: host is refused with the fix", () => {
  const r = globalConfigSchema.safeParse({ docker: { backend: "swarm", mounts: "host" } });
  assert.equal(r.success, false);
  const issue = r.error!.issues[0]!;
  assert.deepEqual(issue.path, ["docker", "mounts"]);
  assert.match(issue.message, /fix: remove docker.mounts/);
});

Deno.test("agent.placement takes Swarm constraints", () => {
  const base = { name: "p", trigger: { type: "webhook", path: "/p" } };
  const ok = pylonConfigSchema.parse({
    ...base,
    agent: { placement: ["node.labels.agents == true", "node.role!=manager"] },
  });
  assert.equal(ok.agent.placement.length, 2);
  const bad = pylonConfigSchema.safeParse({ ...base, agent: { placement: ["anywhere"] } });
  assert.equal(bad.success, false);
  assert.match(bad.error!.issues[0]!.message, /Swarm constraint/);
});

Deno.test("service names fit Swarm's 63 characters", () => {
  const id = "0123abcd-0000-4000-8000-000000000000";
  assert.equal(serviceName("nm", id), "pylon-nm-0123abcd");
  const long = serviceName("x".repeat(100), id);
  assert.equal(long.length, 63);
  assert.ok(long.endsWith("-0123abcd"));
});
