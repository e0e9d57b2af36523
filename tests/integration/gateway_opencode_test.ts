/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): the model API gateway (issue 19) with the real OpenCode CLI in
 * the image pylon builds, the real daemon and Docker runner (`docker.mounts: host`), and the fake
 * Messages API on loopback as the upstream (`agent.env.ANTHROPIC_BASE_URL`, which stays with the
 * daemon). `agent.gateway` is not written: it is on by default for OpenCode with `auth: api_key`
 * and the anthropic provider.
 *
 * - the job completes; the fake received the real key on every request, the agent never did: a
 *   bash step the fake asks for greps every file of the container, every process's `environ`
 *   and `env` for the key, and the tool result the fake receives next says nothing was found;
 * - the job's tokens are exactly the fake's usage, counted by the gateway.
 *
 * @module
 */

import assert from "node:assert/strict";
import { writeHome } from "../_helpers/daemon.ts";
import {
  FAKE_ANSWER,
  FAKE_USAGE,
  type FakeAnthropicApi,
  startFakeAnthropicApi,
} from "../fakes/anthropic_api.ts";
import { openTestDocker } from "./_docker.ts";
import { keyHuntLines } from "./_agent.ts";
import { finishedJob, postJob, startDockerDaemon } from "./_daemon.ts";
import { buildOnDebian, printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";
import { startAgentProxy } from "./no_mounts_helpers.ts";
import { globalConfigSchema, pylonConfigSchema } from "../../src/config/schema.ts";
import { resolvePylon } from "../../src/config/resolve.ts";
import { gatewayEnabled } from "../../src/gateway/mod.ts";
import * as opencode from "../../agents/opencode/pylon-opencode.mjs";

printSlowSkipReason("model API gateway with OpenCode");

function opencodePylon(agent: Record<string, unknown>) {
  return resolvePylon(
    pylonConfigSchema.parse({
      name: "oc",
      trigger: { type: "webhook", path: "/oc" },
      agent: { type: "opencode", prompt: "go", ...agent },
    }),
    globalConfigSchema.parse({}),
    { env: { ANTHROPIC_API_KEY: "sk-ant-x", OPENAI_API_KEY: "sk-x" }, systemTimezone: "UTC" },
  );
}

Deno.test("gateway default for OpenCode: on with api_key and anthropic, off otherwise", () => {
  const on = (agent: Record<string, unknown>) => gatewayEnabled(opencodePylon(agent).agent);
  assert.equal(on({ provider: "anthropic", auth: "api_key" }), true);
  assert.equal(on({ provider: "openai", auth: "api_key" }), false, "the gateway speaks Messages");
  assert.equal(on({ provider: "anthropic", auth: "none" }), false);
  assert.equal(on({ provider: "anthropic", auth: "api_key", gateway: false }), false);
  assert.equal(on({ provider: "anthropic", auth: "api_key", network: "none" }), false);
});

Deno.test("OpenCode's job config points the anthropic provider at the gateway, key from env", () => {
  const base = "http://host.docker.internal:8080/agent/v1/jobs/j1/model/anthropic";
  const env = { ANTHROPIC_BASE_URL: `${base}/`, ANTHROPIC_API_KEY: "job-token" };
  const config = opencode.jobConfig("anthropic", env);
  assert.deepEqual(config.provider, {
    anthropic: { options: { baseURL: `${base}/v1`, apiKey: "{env:ANTHROPIC_API_KEY}" } },
  });
  assert.ok(!JSON.stringify(config).includes("job-token"), "no file holds even the token");
  assert.equal(opencode.jobConfig("anthropic", {}).provider, undefined);
  assert.equal(opencode.jobConfig("openai", env).provider, undefined);
});

/** The real key, in two halves: the agent's command joins them, so no transcript holds it whole. */
const KEY_A = "sk-ant-api03-REALKEY";
const KEY_B = `-${crypto.randomUUID().replaceAll("-", "")}`;
const REAL_KEY = KEY_A + KEY_B;

/** Looks for the key everywhere in the container; prints counts and the ANTHROPIC_ variables. */
const HUNT = keyHuntLines(KEY_A, KEY_B).join("; ");

/** Every tool_result text OpenCode sent to `api`. */
function toolResults(api: FakeAnthropicApi): string {
  const out: string[] = [];
  for (const q of api.messageRequests()) {
    for (const m of (q.body?.messages as { content?: unknown }[] | undefined) ?? []) {
      if (!Array.isArray(m.content)) continue;
      for (const c of m.content) {
        if ((c as { type?: string }).type === "tool_result") out.push(JSON.stringify(c));
      }
    }
  }
  return out.join("\n");
}

Deno.test({
  name: "model gateway: OpenCode calls the model through pylon and never holds the key",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "opencode");
    await using api = startFakeAnthropicApi({
      toolUse: { name: "bash", input: { command: HUNT, description: "look for the key" } },
    });
    const proxy = startAgentProxy();
    const root = await Deno.makeTempDir({ prefix: "pylon-gateway-opencode-" });
    await writeHome(root, {
      "config.yaml": `server:\n  agent_url: ${proxy.url}\n`,
      "pylons/gw/.env": `ANTHROPIC_API_KEY=${REAL_KEY}\n`,
      "pylons/gw/pylon.yaml": [
        "name: gw",
        "trigger:",
        "  type: webhook",
        "  path: /gw",
        "agent:",
        "  type: opencode",
        `  image: ${JSON.stringify(image)}`,
        "  provider: anthropic",
        "  auth: api_key",
        "  network: host",
        '  prompt: "find the key"',
        "  env:",
        `    ANTHROPIC_BASE_URL: ${JSON.stringify(api.url)}`,
        // Keep OpenCode's model list offline (models.dev is not reachable from the test).
        '    OPENCODE_DISABLE_MODELS_FETCH: "1"',
      ].join("\n") + "\n",
    });
    const d = await startDockerDaemon(root, { proxy });
    try {
      let id = "";
      await t.step("the job completes through the gateway; the agent finds no key", async () => {
        id = await postJob(d, "/gw");
        const job = await finishedJob(d, id, 240_000);
        const log = await Deno.readTextFile(`${root}/jobs/${id}.log`).catch(() => "");
        assert.equal(job.status, "completed", `${JSON.stringify(job)}\n${log}`);
        assert.equal(job.result, FAKE_ANSWER);
        const found = toolResults(api);
        assert.match(found, /files: 0\b/, found);
        assert.match(found, /environ: 0\b/, found);
        assert.match(found, /env: 0\b/, found);
        assert.match(found, new RegExp(`base: ${proxy.url}/agent/v1/jobs/${id}/model/anthropic`));
        assert.match(found, /key-length: 4\d\b/, found); // the job token, not the key
        assert.ok(api.messageRequests().length >= 2);
        for (const q of api.messageRequests()) {
          assert.equal(q.headers.get("x-api-key"), REAL_KEY);
        }
        assert.ok(!log.includes(REAL_KEY), "the key is in the job's log");
        assert.ok(!d.logs.join("\n").includes(REAL_KEY), "the key is in the daemon's log");
        await assert.rejects(Deno.stat(`${root}/jobs/${id}/channel/access.json`));
      });

      await t.step("the gateway counted the job's tokens: exactly the fake's usage", async () => {
        const job = await finishedJob(d, id, 240_000);
        const calls = api.messageRequests().length;
        assert.equal(job.usage?.input_tokens, FAKE_USAGE.input_tokens * calls, JSON.stringify(job));
        assert.equal(job.usage?.output_tokens, FAKE_USAGE.output_tokens * calls);
        assert.ok(job.cost_usd > 0, JSON.stringify(job));
      });
    } finally {
      await d.stop();
      await proxy.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
