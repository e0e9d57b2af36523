/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): the model API gateway (issue 19) with the real Claude Code CLI
 * in the image pylon builds, the real daemon and Docker runner (`docker.mounts: host`), and the
 * fake Messages API on loopback as the upstream (`agent.env.ANTHROPIC_BASE_URL`, which stays with
 * the daemon):
 *
 * - the job completes; the fake received the real key on every request, the agent never did: a
 *   Bash step the fake asks for greps every file of the container, every process's `environ` and
 *   `env` for the key, and the tool result the fake receives next says nothing was found;
 * - the job's cost is exactly the fake's usage at the model's price;
 * - a budget exhausted mid-run (the pylon's daily budget, crossed by the first answer of the next
 *   job) stops the agent: its next request gets the gateway's API error and the job ends with the
 *   reason.
 *
 * @module
 */

import assert from "node:assert/strict";
import { writeHome } from "../_helpers/daemon.ts";
import { FAKE_ANSWER, FAKE_USAGE, startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
import { openTestDocker } from "./_docker.ts";
import { assertCostIsFakeUsage, keyHuntLines, lastToolResult } from "./_agent.ts";
import { finishedJob, postJob, startDockerDaemon } from "./_daemon.ts";
import { buildOnDebian, printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";
import { startAgentProxy } from "./no_mounts_helpers.ts";

printSlowSkipReason("model API gateway with Claude Code");

/** The real key, in two halves: the agent's command joins them, so no transcript holds it whole. */
const KEY_A = "sk-ant-api03-REALKEY";
const KEY_B = `-${crypto.randomUUID().replaceAll("-", "")}`;
const REAL_KEY = KEY_A + KEY_B;
/** Looks for the key everywhere in the container; prints counts and the ANTHROPIC_ variables. */
const HUNT = keyHuntLines(KEY_A, KEY_B).join("; ");

Deno.test({
  name: "model gateway: Claude Code never holds the key; cost is the fake's usage; budget stops it",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "claude");
    await using api = startFakeAnthropicApi({
      toolUse: {
        name: "Bash",
        input: { command: HUNT, description: "look for the key", timeout: 300_000 },
      },
    });
    const proxy = startAgentProxy();
    const root = await Deno.makeTempDir({ prefix: "pylon-gateway-claude-" });
    await writeHome(root, {
      "config.yaml": `server:\n  agent_url: ${proxy.url}\n`,
      "pylons/gw/.env": `ANTHROPIC_API_KEY=${REAL_KEY}\n`,
      "pylons/gw/pylon.yaml": [
        "name: gw",
        "trigger:",
        "  type: webhook",
        "  path: /gw",
        "budget:",
        "  daily_usd: 0.05",
        "  timezone: UTC",
        "agent:",
        "  type: claude",
        `  image: ${JSON.stringify(image)}`,
        "  auth: api_key",
        "  network: host",
        "  model: claude-sonnet-4-5",
        '  prompt: "find the key"',
        "  env:",
        `    ANTHROPIC_BASE_URL: ${JSON.stringify(api.url)}`,
        '    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1"',
      ].join("\n") + "\n",
    });
    const d = await startDockerDaemon(root, { proxy });
    try {
      let first = "";
      await t.step("the job completes and the agent finds no key anywhere", async () => {
        first = await postJob(d, "/gw");
        const job = await finishedJob(d, first, 240_000);
        const log = await Deno.readTextFile(`${root}/jobs/${first}.log`).catch(() => "");
        assert.equal(job.status, "completed", `${JSON.stringify(job)}\n${log}`);
        assert.equal(job.result, FAKE_ANSWER);
        const found = lastToolResult(api);
        assert.match(found, /files: 0\b/, found);
        assert.match(found, /environ: 0\b/, found);
        assert.match(found, /env: 0\b/, found);
        assert.match(
          found,
          new RegExp(`base: ${proxy.url}/agent/v1/jobs/${first}/model/anthropic`),
        );
        assert.match(found, /key-length: 4\d\b/, found); // the job token, not the key
        // The fake got the real key on every request; nothing else did.
        assert.ok(api.messageRequests().length >= 2);
        for (const q of api.messageRequests()) {
          assert.equal(q.headers.get("x-api-key"), REAL_KEY);
          assert.equal(q.headers.get("authorization"), null);
        }
        assert.ok(!log.includes(REAL_KEY), "the key is in the job's log");
        assert.ok(!d.logs.join("\n").includes(REAL_KEY), "the key is in the daemon's log");
        // The token was revoked when the job ended.
        await assert.rejects(Deno.stat(`${root}/jobs/${first}/channel/access.json`));
      });

      await t.step("the job's tokens and cost are exactly the fake's usage", async () => {
        const job = await finishedJob(d, first, 240_000);
        assertCostIsFakeUsage(job, api);
      });

      await t.step("a budget exhausted mid-run stops the agent with the reason", async () => {
        // Each answer now costs $0.06 at Sonnet's $3/M input: the first crosses the $0.05.
        api.setUsage({ ...FAKE_USAGE, "input_tokens": 20_000 });
        const before = api.messageRequests().length;
        const id = await postJob(d, "/gw");
        const job = await finishedJob(d, id, 240_000);
        const log = await Deno.readTextFile(`${root}/jobs/${id}.log`).catch(() => "");
        assert.notEqual(job.status, "completed", `${JSON.stringify(job)}\n${log}`);
        assert.match(job.error ?? "", /daily budget of \$0\.05 reached/, JSON.stringify(job));
        // One answer reached the agent; its next request was refused by the gateway.
        assert.equal(api.messageRequests().length - before, 1);
      });
    } finally {
      await d.stop();
      await proxy.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
