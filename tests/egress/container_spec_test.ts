import assert from "node:assert/strict";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import { buildContainerSpec } from "../../src/runner/container_spec.ts";
import { egressEnv } from "../../src/egress/mod.ts";

function pylon(agent: Record<string, unknown>) {
  const config = pylonConfigSchema.parse({
    name: "triage",
    trigger: { type: "webhook", path: "/triage" },
    agent: { prompt: "p", ...agent },
  });
  return resolvePylon(config, globalConfigSchema.parse({}), { env: {}, systemTimezone: "UTC" });
}

const BASE = {
  jobId: "0123abcd-0000-4000-8000-000000000000",
  image: "pylon/agent-claude:abc",
  prompt: "Fix it",
  sessionId: null,
  workspace: "/w",
  workspaceReadOnly: false,
  extraMounts: [],
  outDir: "/o",
  stateDir: "/s",
  volumes: [],
  user: "1000:1000",
  home: "abcd1234",
  pidsLimit: 512,
};

Deno.test("pylon.yaml agent.egress is read into the resolved agent settings", () => {
  const p = pylon({ egress: ["default", "pypi.org"], "egress_private": ["git.internal"] });
  assert.deepEqual(p.agent.settings.egress, ["default", "pypi.org"]);
  assert.deepEqual(p.agent.settings.egressPrivate, ["git.internal"]);
  assert.equal(pylon({}).agent.settings.egress, "any");
  assert.throws(() => pylon({ egress: ["https://x.example/"] }), /URL; write only its host/);
});

Deno.test("buildContainerSpec() puts an egress job on the job network with the proxy variables", () => {
  const env = egressEnv({ host: "172.19.0.1", port: 3128 }, BASE.jobId, "s3cret");
  const spec = buildContainerSpec({
    ...BASE,
    pylon: pylon({ egress: ["api.github.com"], env: { HTTPS_PROXY: "http://elsewhere:1" } }),
    egress: { networkMode: "pylon-egress", env },
  });
  assert.equal(spec.HostConfig!.NetworkMode, "pylon-egress");
  const url = `http://${BASE.jobId}:s3cret@172.19.0.1:3128`;
  for (const k of ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]) {
    assert.ok(spec.Env!.includes(`${k}=${url}`), k);
  }
  assert.ok(spec.Env!.includes("NO_PROXY=172.19.0.1"));
  assert.ok(!spec.Env!.includes("HTTPS_PROXY=http://elsewhere:1"));
  const plain = buildContainerSpec({ ...BASE, pylon: pylon({}) });
  assert.equal(plain.HostConfig!.NetworkMode, "bridge");
  assert.ok(!plain.Env!.some((e) => e.startsWith("HTTPS_PROXY=")));
});
